//! How many times `copy` and `template` talk to the host: each call is a round trip, and on a
//! fleet the round trips per task are most of a task's time.

use super::test_support::{Fixture, args};
use super::{ModuleFn, copy, template};
use crate::connection::local::LocalConnection;
use crate::connection::{BoxFuture, Connection, ExecOutput, ExecRequest, PutFile, Result};
use crate::value::Value;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A local connection that counts the calls that would each be a round trip over SSH.
struct Counting {
    inner: LocalConnection,
    calls: AtomicUsize,
}

impl Connection for Counting {
    fn host(&self) -> &str {
        self.inner.host()
    }

    fn exec<'a>(&'a self, req: &'a ExecRequest) -> BoxFuture<'a, Result<ExecOutput>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.exec(req)
    }

    fn put_file<'a>(&'a self, file: &'a PutFile) -> BoxFuture<'a, Result<()>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.put_file(file)
    }

    fn get_file<'a>(&'a self, remote: &'a str) -> BoxFuture<'a, Result<Vec<u8>>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.get_file(remote)
    }

    fn close<'a>(&'a self) -> BoxFuture<'a, Result<()>> {
        self.inner.close()
    }
}

#[test]
fn a_new_file_costs_three_round_trips_and_an_unchanged_one_costs_one() {
    let f = Fixture::new();
    let dir = f.dir.path().display().to_string();
    let tpl_dir = f.dir.path().join("templates");
    std::fs::create_dir_all(&tpl_dir).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(tpl_dir.join("t.j2"), "x={{ 1 + 1 }}\n").unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(f.dir.path().join("src.txt"), "from src\n").unwrap_or_else(|e| panic!("{e}"));
    let s = Value::str;
    // (module, its arguments, expected file content, round trips the first run, the second run)
    let cases: Vec<(&str, ModuleFn, _, &str, usize, usize)> = vec![
        (
            "copy content",
            copy::run as ModuleFn,
            args(&[("content", s("hi\n")), ("dest", s(&format!("{dir}/a.txt")))]),
            "hi\n",
            3,
            1,
        ),
        (
            "copy src",
            copy::run,
            args(&[
                ("src", s(&format!("{dir}/src.txt"))),
                ("dest", s(&format!("{dir}/b.txt"))),
            ]),
            "from src\n",
            3,
            1,
        ),
        (
            "template",
            template::run,
            args(&[("src", s("t.j2")), ("dest", s(&format!("{dir}/c.conf")))]),
            "x=2\n",
            3,
            1,
        ),
    ];
    for (name, module, a, content, first, second) in cases {
        let dest = a
            .get("dest")
            .and_then(|d| d.as_str().map(str::to_string))
            .unwrap_or_default();
        for (run, want_changed, want_trips) in [(1, true, first), (2, false, second)] {
            let conn = Counting {
                inner: LocalConnection::new("localhost"),
                calls: AtomicUsize::new(0),
            };
            let out = f.run_on(&conn, module, &a, false);
            assert!(!out.failed, "{name} run {run}: {out:?}");
            assert_eq!(out.changed, want_changed, "{name} run {run}");
            assert_eq!(
                conn.calls.load(Ordering::SeqCst),
                want_trips,
                "{name} run {run}: round trips"
            );
            assert_eq!(std::fs::read_to_string(&dest).unwrap_or_default(), content, "{name}");
        }
    }
}

#[test]
fn a_missing_parent_is_still_reported_without_another_round_trip() {
    let f = Fixture::new();
    let tpl_dir = f.dir.path().join("templates");
    std::fs::create_dir_all(&tpl_dir).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(tpl_dir.join("t.j2"), "x\n").unwrap_or_else(|e| panic!("{e}"));
    let dest = f.dir.path().join("no/such/dir/c.conf").display().to_string();
    let conn = Counting {
        inner: LocalConnection::new("localhost"),
        calls: AtomicUsize::new(0),
    };
    let out = f.run_on(
        &conn,
        template::run,
        &args(&[("src", Value::str("t.j2")), ("dest", Value::str(&dest))]),
        false,
    );
    assert!(out.failed, "{out:?}");
    let parent = f.dir.path().join("no/such/dir").display().to_string();
    assert_eq!(out.msg, Some(format!("Destination directory {parent} does not exist")));
    assert_eq!(conn.calls.load(Ordering::SeqCst), 1);
}
