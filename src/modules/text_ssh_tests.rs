//! blockinfile, replace, slurp, fetch, find and tempfile through a real sshd, on a directory
//! whose name breaks any unquoted shell line.

use super::file_tests::{HOSTILE, Harness, p, s, tmp};
use super::{ModuleFn, Outcome};
use crate::connection::options::{LocalEnv, SshOptions};
use crate::connection::ssh::SshConnector;
use crate::connection::test_sshd::{Lab, current_user};
use crate::value::Value;
use serde_json::json;
use std::path::Path;

#[test]
fn text_modules_over_real_ssh() {
    let lab = Lab::new();
    let sshd = lab.sshd("127.0.0.1", "");
    lab.trust(&sshd);
    let mut o = SshOptions::new(format!("h{}", sshd.port), sshd.addr.clone(), current_user());
    o.port = sshd.port;
    o.identity_files = vec![lab.key.clone()];
    o.host_keys.files = vec![lab.known_hosts.clone()];
    let d = tmp();
    let h = Harness::new(vec![d.path().to_path_buf()]);
    let conn = h
        .block_on(SshConnector::new(&LocalEnv::default()).connect(&o))
        .unwrap_or_else(|e| panic!("{e}"));
    let run = |m: ModuleFn, a: serde_json::Value| -> Outcome { h.run_on(&conn, m, a, false, false) };
    let root = p(d.path(), HOSTILE);
    let _ = std::fs::create_dir_all(&root);
    let f = format!("{root}/app.conf");
    let _ = std::fs::write(&f, "listen 80\n");

    let steps: Vec<(ModuleFn, serde_json::Value)> = vec![
        (super::blockinfile::run, json!({"path": f, "block": "a=1\nb=2"})),
        (
            super::replace::run,
            json!({"path": f, "regexp": "^listen (\\d+)$", "replace": "port \\1"}),
        ),
    ];
    for (m, a) in &steps {
        let r = run(*m, a.clone());
        assert!(r.changed && !r.failed, "{a}: {r:?}");
        let again = run(*m, a.clone());
        assert!(!again.changed && !again.failed, "{a} again: {again:?}");
    }
    let want = "port 80\n# BEGIN ANSIBLE MANAGED BLOCK\na=1\nb=2\n# END ANSIBLE MANAGED BLOCK\n";
    assert_eq!(std::fs::read_to_string(&f).unwrap_or_default(), want);

    let r = run(super::slurp::run, json!({"src": f}));
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(s(&r, "content"))
        .unwrap_or_default();
    assert_eq!(decoded, want.as_bytes());

    let out = p(d.path(), "fetched");
    let r = run(super::fetch::run, json!({"src": f, "dest": out}));
    assert!(r.changed && !r.failed, "{r:?}");
    // The harness runs as inventory host `localhost`.
    let local = format!("{out}/localhost{f}");
    assert_eq!(s(&r, "dest"), local);
    assert_eq!(std::fs::read_to_string(&local).unwrap_or_default(), want);
    let again = run(super::fetch::run, json!({"src": f, "dest": out}));
    assert!(!again.changed, "{again:?}");

    let r = run(super::tempfile::run, json!({"path": root, "suffix": ".tmp"}));
    let made = s(&r, "path");
    assert!(
        r.changed && Path::new(&made).is_file() && made.ends_with(".tmp"),
        "{r:?}"
    );

    let r = run(super::find::run, json!({"paths": root, "patterns": "*.conf,*.tmp"}));
    let mut found: Vec<String> = match r.data.get("files") {
        Some(Value::List(files)) => files
            .iter()
            .filter_map(|f| f.as_map().and_then(|m| m.get("path")).and_then(Value::as_str))
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    found.sort();
    let mut expect = vec![f.clone(), made];
    expect.sort();
    assert_eq!(found, expect, "{r:?}");
    assert_eq!(r.data.get("examined"), Some(&Value::Int(2)));
    assert!(!Path::new("PWNED").exists() && !d.path().join("PWNED").exists());
}
