//! Shared pieces of the module tests: a temp dir, a local connection, a templar and vars.

use super::context::ModuleCtx;
use super::{ModuleFn, Outcome};
use crate::connection::Connection;
use crate::connection::local::LocalConnection;
use crate::template::{MapVars, Templar, TemplarContext, Vars};
use crate::value::{Map, Value};
use std::path::PathBuf;
use std::sync::Arc;

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub conn: LocalConnection,
    pub templar: Templar,
    pub vars: Arc<dyn Vars>,
    pub search: Vec<PathBuf>,
    /// One runtime for the fixture's life: an ssh session's tasks live in it.
    pub rt: tokio::runtime::Runtime,
}

impl Fixture {
    pub fn new() -> Fixture {
        Fixture::with_vars(Map::new())
    }

    pub fn with_vars(vars: Map) -> Fixture {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let search = vec![dir.path().to_path_buf()];
        Fixture {
            dir,
            conn: LocalConnection::new("localhost"),
            templar: Templar::new(TemplarContext::default()),
            vars: Arc::new(MapVars::new(vars)),
            search,
            rt: rt(),
        }
    }

    /// Runs a module through this fixture's local connection.
    pub fn run(&self, f: ModuleFn, args: &Map, check: bool) -> Outcome {
        self.run_on(&self.conn, f, args, check)
    }

    pub fn run_on(&self, conn: &dyn Connection, f: ModuleFn, args: &Map, check: bool) -> Outcome {
        let ctx = ModuleCtx {
            host: "localhost",
            conn,
            args,
            check,
            diff: false,
            templar: &self.templar,
            vars: &self.vars,
            search_dirs: &self.search,
        };
        self.rt.block_on(f(&ctx)).unwrap_or_else(|e| panic!("{e}"))
    }
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Arguments from pairs.
pub fn args(pairs: &[(&str, Value)]) -> Map {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

/// Free-form arguments.
pub fn raw(text: &str) -> Map {
    args(&[("_raw_params", Value::str(text))])
}
