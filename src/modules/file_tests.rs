//! The file modules run through a real `LocalConnection` on temp dirs (and one real sshd),
//! checking the bytes and modes left behind, the result fields, idempotence and check mode.

use super::{ModuleCtx, ModuleFn, Outcome};
use crate::connection::Connection;
use crate::connection::local::LocalConnection;
use crate::template::{MapVars, Templar, TemplarContext, Vars};
use crate::value::{Map, Value};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct Harness {
    rt: tokio::runtime::Runtime,
    templar: Templar,
    vars: Arc<dyn Vars>,
    pub search: Vec<PathBuf>,
}

impl Harness {
    pub fn new(search: Vec<PathBuf>) -> Harness {
        let mut vars = Map::new();
        vars.insert("kube_version".into(), Value::str("v1.29.4"));
        vars.insert("inventory_hostname".into(), Value::str("localhost"));
        vars.insert("x".into(), Value::str("X"));
        Harness {
            rt: tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .unwrap_or_else(|e| panic!("{e}")),
            templar: Templar::new(TemplarContext::default()),
            vars: Arc::new(MapVars::new(vars)),
            search,
        }
    }

    pub fn run_on(
        &self,
        conn: &dyn Connection,
        module: ModuleFn,
        args: serde_json::Value,
        check: bool,
        diff: bool,
    ) -> Outcome {
        let args = match Value::from(args) {
            Value::Map(m) => m,
            other => panic!("args must be a map, got {other:?}"),
        };
        let ctx = ModuleCtx {
            host: "localhost",
            conn,
            args: &args,
            check,
            diff,
            templar: &self.templar,
            vars: &self.vars,
            search_dirs: &self.search,
        };
        self.rt
            .block_on(module(&ctx))
            .unwrap_or_else(|e| panic!("connection error: {e}"))
    }

    pub fn run(&self, module: ModuleFn, args: serde_json::Value) -> Outcome {
        self.run_on(&LocalConnection::new("localhost"), module, args, false, false)
    }

    pub fn check(&self, module: ModuleFn, args: serde_json::Value) -> Outcome {
        self.run_on(&LocalConnection::new("localhost"), module, args, true, true)
    }

    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }
}

pub fn mode_of(p: &Path) -> u32 {
    std::fs::symlink_metadata(p)
        .map(|m| m.permissions().mode() & 0o7777)
        .unwrap_or(0)
}

pub fn field<'a>(o: &'a Outcome, key: &str) -> Option<&'a Value> {
    o.data.get(key)
}

pub fn s(o: &Outcome, key: &str) -> String {
    field(o, key)
        .map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
        .unwrap_or_default()
}

/// A file's text, empty when it cannot be read.
pub fn read(p: &str) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"))
}

pub fn p(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

/// A name that breaks any shell line built without quoting.
pub const HOSTILE: &str = "we'ird $(touch PWNED) `id` \"q\"\nnl;rm";

/// Every file module once through a real sshd, on a hostile directory name.
#[test]
fn every_file_module_over_real_ssh() {
    use crate::connection::options::{LocalEnv, SshOptions};
    use crate::connection::ssh::SshConnector;
    use crate::connection::test_sshd::{Lab, current_user};
    use serde_json::json;

    let lab = Lab::new();
    let sshd = lab.sshd("127.0.0.1", "");
    lab.trust(&sshd);
    let mut o = SshOptions::new(format!("h{}", sshd.port), sshd.addr.clone(), current_user());
    o.port = sshd.port;
    o.identity_files = vec![lab.key.clone()];
    o.host_keys.files = vec![lab.known_hosts.clone()];
    let d = tmp();
    let t = d.path().join("templates");
    let _ = std::fs::create_dir_all(&t);
    let _ = std::fs::write(
        t.join("k.j2"),
        "version: {{ kube_version }}\n{% if true %}\nx\n{% endif %}\n",
    );
    let h = Harness::new(vec![d.path().to_path_buf()]);
    let conn = h
        .block_on(SshConnector::new(&LocalEnv::default()).connect(&o))
        .unwrap_or_else(|e| panic!("{e}"));
    let root = p(d.path(), HOSTILE);
    let etc = format!("{root}/etc");
    let run = |m: ModuleFn, a: serde_json::Value| h.run_on(&conn, m, a, false, false);
    let steps: Vec<(ModuleFn, serde_json::Value)> = vec![
        (
            super::file::run,
            json!({"path": etc, "state": "directory", "mode": "0755"}),
        ),
        (
            super::copy::run,
            json!({"content": "a=1\n", "dest": format!("{etc}/v.env"), "mode": "0644"}),
        ),
        (
            super::template::run,
            json!({"src": "k.j2", "dest": format!("{etc}/k.conf")}),
        ),
        (
            super::lineinfile::run,
            json!({"path": format!("{etc}/v.env"), "line": "host=h"}),
        ),
    ];
    for (m, a) in &steps {
        let r = run(*m, a.clone());
        assert!(r.changed && !r.failed, "{a}: {r:?}");
        let again = run(*m, a.clone());
        assert!(!again.changed && !again.failed, "{a} again: {again:?}");
    }
    assert_eq!(mode_of(Path::new(&etc)), 0o755);
    assert_eq!(
        std::fs::read_to_string(format!("{etc}/v.env")).unwrap_or_default(),
        "a=1\nhost=h\n"
    );
    assert_eq!(
        std::fs::read_to_string(format!("{etc}/k.conf")).unwrap_or_default(),
        "version: v1.29.4\nx\n"
    );
    assert_eq!(mode_of(Path::new(&format!("{etc}/k.conf"))), 0o644);
    let st = run(super::stat::run, json!({"path": format!("{etc}/k.conf")}));
    let m = st.data.get("stat").and_then(Value::as_map).cloned().unwrap_or_default();
    assert_eq!(m.get("exists"), Some(&Value::Bool(true)));
    assert_eq!(m.get("size"), Some(&Value::Int(19)));
    assert!(!Path::new("PWNED").exists() && !d.path().join("PWNED").exists());
}
