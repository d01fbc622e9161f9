//! `wait_for` on real files and sockets of this machine, through the local connection.

use super::*;
use crate::modules::file_tests::{Harness, p, s, tmp};
use serde_json::json;
use std::io::Write;
use std::net::TcpListener;
use std::time::Instant;

fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(1)
}

#[test]
fn paths_appear_match_and_time_out() {
    let h = Harness::new(vec![]);
    let d = tmp();
    let f = p(d.path(), "ready");
    let f2 = f.clone();
    let writer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(1200));
        let _ = std::fs::write(&f2, "boot\nready port=8080 id=7\n");
    });
    let r = h.run(
        run,
        json!({"path": f, "search_regex": "port=(\\d+) id=(?P<id>\\d+)", "timeout": 10}),
    );
    let _ = writer.join();
    assert!(!r.failed && !r.changed, "{r:?}");
    assert_eq!(r.data.get("match_groups"), Some(&Value::from(json!(["8080", "7"]))));
    assert_eq!(r.data.get("match_groupdict"), Some(&Value::from(json!({"id": "7"}))));
    // As in Ansible, the existing path's attributes overwrite `state`.
    assert_eq!((s(&r, "state"), s(&r, "path")), ("file".into(), f.clone()));
    assert_eq!(s(&r, "size"), "26");
    let started = Instant::now();
    let t = h.run(run, json!({"path": f, "state": "absent", "timeout": 1}));
    assert!(started.elapsed().as_secs() < 5, "waited past the timeout");
    assert_eq!(
        t.msg,
        Some(format!("Timeout when waiting for {f} to be absent.")),
        "{t:?}"
    );
    let t = h.run(
        run,
        json!({"path": p(d.path(), "never"), "timeout": 1, "msg": "custom"}),
    );
    assert_eq!(t.msg.as_deref(), Some("custom"));
    let gone = h.run(run, json!({"path": p(d.path(), "never"), "state": "absent"}));
    assert!(!gone.failed, "{gone:?}");
}

#[test]
fn ports_started_stopped_drained_and_banner() {
    let h = Harness::new(vec![]);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let banner = std::thread::spawn(move || {
        for stream in listener.incoming().take(2).flatten() {
            let mut s = stream;
            let _ = s.write_all(b"SSH-2.0-OpenSSH_9.6 test\r\n");
        }
    });
    let r = h.run(run, json!({"port": port, "timeout": 10}));
    assert!(!r.failed && s(&r, "port") == port.to_string(), "{r:?}");
    let r = h.run(
        run,
        json!({"port": port, "search_regex": "OpenSSH_(\\S+)", "timeout": 10, "connect_timeout": 2}),
    );
    assert!(!r.failed, "{r:?}");
    assert_eq!(r.data.get("match_groups"), Some(&Value::from(json!(["9.6"]))));
    let _ = banner.join();
    let closed = closed_port();
    let r = h.run(run, json!({"port": closed, "state": "stopped", "timeout": 5}));
    assert!(!r.failed, "{r:?}");
    let started = Instant::now();
    let r = h.run(run, json!({"port": closed, "timeout": 1}));
    assert!(started.elapsed().as_secs() < 6);
    assert_eq!(r.msg, Some(format!("Timeout when waiting for 127.0.0.1:{closed}")));
    let r = h.run(run, json!({"port": closed, "state": "drained", "timeout": 5}));
    assert!(!r.failed, "{r:?}");
}

#[test]
fn check_mode_and_bad_args() {
    let h = Harness::new(vec![]);
    let c = h.check(run, json!({"port": 1, "timeout": 100}));
    assert!(c.skipped, "{c:?}");
    let table = [
        (
            json!({"port": 1, "path": "/x"}),
            "port and path parameter can not both be passed to wait_for",
        ),
        (
            json!({"path": "/x", "state": "stopped"}),
            "state=stopped should only be used for checking a port",
        ),
        (
            json!({"path": "/x", "state": "drained"}),
            "state=drained should only be used for checking a port",
        ),
        (json!({"path": "/x", "state": "gone"}), "value of state must be one of"),
        (json!({"path": "/x", "search_regex": "("}), "Invalid regular expression"),
        (
            json!({"path": "/x", "bogus": 1}),
            "Unsupported parameters for (wait_for) module: bogus",
        ),
    ];
    for (args, msg) in table {
        let r = h.run(run, args.clone());
        assert!(
            r.failed && r.msg.as_deref().unwrap_or_default().starts_with(msg),
            "{args}: {r:?}"
        );
    }
}
