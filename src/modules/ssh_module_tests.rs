//! `command` and `shell` through a real OpenSSH server, where the remote login shell parses
//! every line: hostile words must still arrive as written.

use crate::connection::options::{LocalEnv, SshOptions};
use crate::connection::ssh::SshConnector;
use crate::connection::test_sshd::{Lab, current_user};
use crate::modules::test_support::{Fixture, args, raw};
use crate::value::Value;

#[test]
fn command_and_shell_over_ssh() {
    let lab = Lab::new();
    let sshd = lab.sshd("127.0.0.1", "");
    lab.trust(&sshd);
    let mut o = SshOptions::new(format!("h{}", sshd.port), sshd.addr.clone(), current_user());
    o.port = sshd.port;
    o.identity_files = vec![lab.key.clone()];
    o.host_keys.files = vec![lab.known_hosts.clone()];
    let fx = Fixture::new();
    let conn = fx
        .rt
        .block_on(SshConnector::new(&LocalEnv::default()).connect(&o))
        .unwrap_or_else(|e| panic!("{e}"));
    let marker = fx.dir.path().join("pwned");
    let hostile = format!("a'b\"c $(touch {m}) `touch {m}`; touch {m}", m = marker.display());
    let d = fx.dir.path().display().to_string();
    let cases: Vec<(crate::modules::ModuleFn, crate::value::Map, i32, String)> = vec![
        (
            super::command::run,
            args(&[(
                "argv",
                Value::List(vec![
                    Value::str("printf"),
                    Value::str("%s"),
                    Value::str(hostile.clone()),
                ]),
            )]),
            0,
            hostile.clone(),
        ),
        (
            super::command::run,
            args(&[("_raw_params", Value::str("pwd")), ("chdir", Value::str(d.clone()))]),
            0,
            d.clone(),
        ),
        (
            super::command::run,
            raw("sh -c 'echo err >&2; exit 9'"),
            9,
            String::new(),
        ),
        (super::shell::run, raw("echo one | tr a-z A-Z; exit 2"), 2, "ONE".into()),
        (
            super::shell::run,
            args(&[
                ("cmd", Value::str("cat")),
                ("stdin", Value::str(hostile.clone())),
                ("stdin_add_newline", Value::Bool(false)),
            ]),
            0,
            hostile.clone(),
        ),
    ];
    for (f, a, rc, stdout) in cases {
        let out = fx.run_on(&conn, f, &a, false);
        assert_eq!(out.data.get("rc"), Some(&Value::Int(rc.into())), "{a:?} {out:?}");
        assert_eq!(
            out.data.get("stdout").and_then(Value::as_str),
            Some(stdout.as_str()),
            "{a:?}"
        );
        assert_eq!(out.failed, rc != 0);
    }
    assert!(!marker.exists(), "a hostile string ran over ssh");
    let creates = args(&[("_raw_params", Value::str("false")), ("creates", Value::str(d))]);
    let out = fx.run_on(&conn, super::command::run, &creates, false);
    assert!(!out.changed && !out.failed, "{out:?}");
}
