//! `get_url` against a real HTTP server on 127.0.0.1, through the local connection.

use super::*;
use crate::modules::file_tests::{Harness, mode_of, p, s, tmp};
use crate::modules::test_http::{Reply, Seen, Server};
use serde_json::json;
use sha2::Digest;
use std::path::Path;

const BODY: &[u8] = b"hello";

fn sha256(b: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(b))
}

/// `/file.txt` answers `hello` (304 to `If-Modified-Since` when `/ims` is asked), `/sums` a
/// checksum file, `/cd` a Content-Disposition name, anything else 404.
fn server() -> Server {
    Server::start(|r: &Seen| {
        let sum = sha256(BODY);
        match r.path.split('?').next().unwrap_or_default() {
            "/file.txt" => Reply::new(200, BODY),
            "/ims/file.txt" if r.header("if-modified-since").is_some() => Reply::new(304, ""),
            "/ims/file.txt" => Reply::new(200, BODY),
            "/sums" => Reply::new(200, format!("{}  other.txt\n{sum} *file.txt\n", "0".repeat(64))),
            "/cd" => Reply::new(200, BODY).header("Content-Disposition", "attachment; filename=\"../named.bin\""),
            "/auth" if r.header("authorization") == Some("Basic dXNlcjpww6Rzcw==") => Reply::new(200, BODY),
            "/auth" => Reply::new(401, "no"),
            _ => Reply::new(404, "missing"),
        }
    })
}

#[test]
fn downloads_once_with_ansible_fields() {
    let srv = server();
    let d = tmp();
    let h = Harness::new(vec![]);
    let dest = p(d.path(), "f.txt");
    let args = json!({"url": srv.url("/ims/file.txt"), "dest": dest, "mode": "0600"});
    let c = h.check(run, args.clone());
    assert!(c.changed && !c.failed && !Path::new(&dest).exists(), "{c:?}");
    assert_eq!(srv.requests().last().map(|r| r.method.clone()).as_deref(), Some("HEAD"));
    let r = h.run(run, args.clone());
    assert!(r.changed && !r.failed, "{r:?}");
    assert_eq!(std::fs::read(&dest).unwrap_or_default(), BODY);
    assert_eq!(mode_of(Path::new(&dest)), 0o600);
    let want = [
        ("dest", dest.as_str()),
        ("checksum_src", "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"),
        ("checksum_dest", ""),
        ("md5sum", "5d41402abc4b2a76b9719d911017c592"),
        ("status_code", "200"),
        ("mode", "0600"),
        ("size", "5"),
        ("state", "file"),
    ];
    for (k, v) in want {
        assert_eq!(s(&r, k), v, "{k}: {r:?}");
    }
    assert_eq!(r.msg.as_deref(), Some("OK (5 bytes)"));
    let seen = srv.requests();
    assert_eq!(
        seen.last().and_then(|r| r.header("user-agent")),
        Some("ansible-httpget")
    );
    // Again: If-Modified-Since is sent and the 304 means no change.
    let again = h.run(run, args.clone());
    assert!(!again.changed && !again.failed, "{again:?}");
    assert_eq!(s(&again, "status_code"), "304");
    // A server that ignores If-Modified-Since: same bytes, still no change.
    let same = h.run(run, json!({"url": srv.url("/file.txt"), "dest": dest, "mode": "0600"}));
    assert!(!same.changed && !same.failed, "{same:?}");
    assert_eq!(s(&same, "checksum_dest"), s(&same, "checksum_src"));
    // Only the mode differs: changed, content untouched.
    let m = h.run(run, json!({"url": srv.url("/file.txt"), "dest": dest, "mode": "0644"}));
    assert!(m.changed && s(&m, "mode") == "0644", "{m:?}");
    let leftovers: Vec<_> = std::fs::read_dir(d.path())
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert_eq!(leftovers.len(), 1, "temp files left: {leftovers:?}");
}

#[test]
fn checksums_skip_verify_and_fail() {
    let srv = server();
    let d = tmp();
    let h = Harness::new(vec![]);
    let dest = p(d.path(), "f.txt");
    let good = format!("sha256:{}", sha256(BODY).to_uppercase());
    let args = json!({"url": srv.url("/file.txt"), "dest": dest, "checksum": good});
    let r = h.run(run, args.clone());
    assert!(r.changed && !r.failed, "{r:?}");
    let before = srv.requests().len();
    let again = h.run(run, args);
    assert!(!again.changed && !again.failed, "{again:?}");
    assert_eq!(again.msg.as_deref(), Some("file already exists"));
    assert_eq!(srv.requests().len(), before, "a matching checksum must not download");
    // A checksum file by URL.
    let dest2 = p(d.path(), "g.txt");
    let r = h.run(
        run,
        json!({"url": srv.url("/file.txt"), "dest": dest2, "checksum": format!("sha256:{}", srv.url("/sums"))}),
    );
    assert!(r.changed && !r.failed, "{r:?}");
    let r = h.run(
        run,
        json!({"url": srv.url("/nothere.txt"), "dest": dest2, "checksum": format!("sha256:{}", srv.url("/sums"))}),
    );
    assert_eq!(
        r.msg,
        Some(format!(
            "Unable to find a checksum for file 'nothere.txt' in '{}'",
            srv.url("/sums")
        ))
    );
    // A wrong digest: failed, nothing left behind.
    let dest3 = p(d.path(), "h.txt");
    let bad = h.run(
        run,
        json!({"url": srv.url("/file.txt"), "dest": dest3, "checksum": format!("sha1:{}", "a".repeat(40))}),
    );
    assert!(bad.failed && !Path::new(&dest3).exists(), "{bad:?}");
    let msg = bad.msg.unwrap_or_default();
    assert!(
        msg.contains(&format!(
            "did not match {}; it was aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d.",
            "a".repeat(40)
        )),
        "{msg}"
    );
    let names: Vec<String> = std::fs::read_dir(d.path())
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert!(names.iter().all(|n| !n.contains("play-get_url")), "{names:?}");
}

#[test]
fn directory_dest_auth_and_errors() {
    let srv = server();
    let d = tmp();
    let h = Harness::new(vec![]);
    let dir = d.path().display().to_string();
    let r = h.run(run, json!({"url": srv.url("/cd"), "dest": dir}));
    assert!(r.changed && s(&r, "dest") == p(d.path(), "named.bin"), "{r:?}");
    let r = h.run(run, json!({"url": srv.url("/file.txt?x=1"), "dest": dir}));
    assert_eq!(s(&r, "dest"), p(d.path(), "file.txt"), "{r:?}");
    // Credentials arrive as a Basic header (and never on a command line).
    let r = h.run(
        run,
        json!({"url": srv.url("/auth"), "dest": p(d.path(), "a"), "url_username": "user", "url_password": "päss",
               "headers": {"X-Extra": "1"}}),
    );
    assert!(r.changed && !r.failed, "{r:?}");
    assert_eq!(srv.requests().last().and_then(|q| q.header("x-extra")), Some("1"));
    let missing = h.run(run, json!({"url": srv.url("/gone"), "dest": p(d.path(), "gone")}));
    assert_eq!(missing.msg.as_deref(), Some("Request failed"), "{missing:?}");
    assert_eq!(
        (s(&missing, "status_code"), s(&missing, "response")),
        ("404".into(), "HTTP Error 404: Not Found".into())
    );
    let nodir = h.run(
        run,
        json!({"url": srv.url("/file.txt"), "dest": p(d.path(), "no/such/f")}),
    );
    assert_eq!(
        nodir.msg,
        Some(format!("Destination {} does not exist", p(d.path(), "no/such"))),
        "{nodir:?}"
    );
    let refused = h.run(run, json!({"url": "http://127.0.0.1:1/x", "dest": p(d.path(), "r")}));
    assert!(
        refused.failed
            && refused
                .msg
                .as_deref()
                .unwrap_or_default()
                .starts_with("Request failed: <urlopen error")
    );
}

#[test]
fn bad_arguments() {
    let h = Harness::new(vec![]);
    let table = [
        (json!({"dest": "/tmp/x"}), "missing required arguments: url"),
        (
            json!({"url": "http://h/x", "dest": "/tmp/x", "checksum": "abc"}),
            "The checksum parameter has to be in format <algorithm>:<checksum>",
        ),
        (
            json!({"url": "http://h/x", "dest": "/tmp/x", "checksum": "sha256:xyz"}),
            "The checksum format is invalid",
        ),
        (
            json!({"url": "http://h/x", "dest": "/tmp/x", "checksum": "crc:00"}),
            "Could not hash file with algorithm 'crc'",
        ),
        (
            json!({"url": "http://h/x", "dest": "/tmp/x", "bogus": 1}),
            "Unsupported parameters for (get_url) module: bogus",
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

#[test]
fn checksum_files_in_gnu_and_bsd_forms() {
    assert_eq!(digest_for("a.tgz", "abc123\n").as_deref(), Some("abc123"));
    assert_eq!(digest_for("a.tgz", "111  b.tgz\n222 *a.tgz\n").as_deref(), Some("222"));
    assert_eq!(digest_for("a.tgz", "333  ./a.tgz\n").as_deref(), Some("333"));
    assert_eq!(digest_for("a.tgz", "SHA256 (a.tgz) = 444\n").as_deref(), Some("444"));
    assert_eq!(digest_for("a.tgz", "111  b.tgz\n222  c.tgz\n"), None);
    assert_eq!(clean_digest("AB\u{200b}CD"), Ok("abcd".into()));
}
