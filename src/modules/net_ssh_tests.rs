//! `get_url`, `uri`, `unarchive` and `wait_for` once each through a real OpenSSH server, on a
//! directory name that breaks unquoted shell lines, with an HTTP server on 127.0.0.1.

use crate::connection::options::{LocalEnv, SshOptions};
use crate::connection::ssh::SshConnector;
use crate::connection::test_sshd::{Lab, current_user};
use crate::modules::file_tests::{HOSTILE, Harness, p, s, tmp};
use crate::modules::test_http::{Reply, Seen, Server};
use serde_json::json;

#[test]
fn network_modules_over_real_ssh() {
    let lab = Lab::new();
    let sshd = lab.sshd("127.0.0.1", "");
    lab.trust(&sshd);
    let mut o = SshOptions::new(format!("h{}", sshd.port), sshd.addr.clone(), current_user());
    o.port = sshd.port;
    o.identity_files = vec![lab.key.clone()];
    o.host_keys.files = vec![lab.known_hosts.clone()];
    let srv = Server::start(|r: &Seen| match r.path.as_str() {
        "/f.txt" => Reply::new(200, "over ssh\n"),
        _ => Reply::new(200, "{\"ok\": true}").header("Content-Type", "application/json"),
    });
    let d = tmp();
    let files = d.path().join("files");
    let _ = std::fs::create_dir_all(d.path().join("tree/pkg"));
    let _ = std::fs::write(d.path().join("tree/pkg/a"), "a\n");
    let _ = std::fs::create_dir_all(&files);
    let tar = std::process::Command::new("tar")
        .args([
            "-czf",
            &files.join("pkg.tgz").display().to_string(),
            "-C",
            &d.path().join("tree").display().to_string(),
            "pkg",
        ])
        .status();
    assert!(tar.map(|s| s.success()).unwrap_or(false));
    let h = Harness::new(vec![d.path().to_path_buf()]);
    let conn = h
        .block_on(SshConnector::new(&LocalEnv::default()).connect(&o))
        .unwrap_or_else(|e| panic!("{e}"));
    let run = |m: crate::modules::ModuleFn, a: serde_json::Value| h.run_on(&conn, m, a, false, false);
    let root = p(d.path(), HOSTILE);
    let _ = std::fs::create_dir_all(&root);
    let dest = format!("{root}/f.txt");
    let r = run(
        super::get_url::run,
        json!({"url": srv.url("/f.txt"), "dest": dest, "mode": "0640"}),
    );
    assert!(r.changed && !r.failed, "{r:?}");
    assert_eq!(std::fs::read_to_string(&dest).unwrap_or_default(), "over ssh\n");
    let again = run(
        super::get_url::run,
        json!({"url": srv.url("/f.txt"), "dest": dest, "mode": "0640"}),
    );
    assert!(!again.changed, "{again:?}");
    let u = run(
        super::uri::run,
        json!({"url": srv.url("/j"), "method": "POST", "body_format": "json", "body": {"a": 1}}),
    );
    assert!(!u.failed && s(&u, "status") == "200", "{u:?}");
    assert_eq!(
        u.data.get("json"),
        Some(&crate::value::Value::from(json!({"ok": true})))
    );
    let x = run(super::unarchive::run, json!({"src": "pkg.tgz", "dest": root}));
    assert!(x.changed && !x.failed, "{x:?}");
    assert_eq!(
        std::fs::read_to_string(format!("{root}/pkg/a")).unwrap_or_default(),
        "a\n"
    );
    assert!(!run(super::unarchive::run, json!({"src": "pkg.tgz", "dest": root})).changed);
    let w = run(
        super::wait_for::run,
        json!({"path": dest, "search_regex": "over (\\w+)", "timeout": 5}),
    );
    assert!(!w.failed, "{w:?}");
    assert_eq!(
        w.data.get("match_groups"),
        Some(&crate::value::Value::from(json!(["ssh"])))
    );
    let w = run(super::wait_for::run, json!({"port": srv.port, "timeout": 5}));
    assert!(!w.failed, "{w:?}");
    assert!(!std::path::Path::new(&format!("{}/PWNED", d.path().display())).exists());
}
