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

pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"))
}

pub fn p(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

/// A name that breaks any shell line built without quoting.
pub const HOSTILE: &str = "we'ird $(touch PWNED) `id` \"q\"\nnl;rm";
