//! The interface between the executor and a module: what a module is given ([`ModuleCtx`]) and
//! what it hands back ([`Outcome`]). A task failing is an `Outcome` with `failed`; a Rust error
//! is only for a broken connection (the host becomes unreachable).

use crate::connection::{self, BoxFuture, Connection};
use crate::template::{Templar, Vars};
use crate::value::{Map, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Everything one module run may use. Arguments are already templated, `omit` removed.
pub struct ModuleCtx<'a> {
    /// The inventory name of the host the task runs for.
    pub host: &'a str,
    /// The connection to the host (already wrapped for `become` when the task asks for it).
    pub conn: &'a dyn Connection,
    pub args: &'a Map,
    /// `--check`: report what would change, change nothing.
    pub check: bool,
    /// `--diff`: fill [`Outcome::diff`] when something changes.
    pub diff: bool,
    pub templar: &'a Templar,
    /// The host's variables for this task (for `template`).
    pub vars: &'a Arc<dyn Vars>,
    /// Base directories a relative `src` is searched in, most specific first (the role's
    /// directory, then the play's directory). See [`ModuleCtx::find_source`].
    pub search_dirs: &'a [PathBuf],
}

impl ModuleCtx<'_> {
    /// The controller file a relative `src:` names: `<dir>/<subdir>/<name>`, then
    /// `<dir>/<name>`, for each search dir in order; an absolute path as it is.
    /// `subdir` is `files` for copy/script, `templates` for template.
    pub fn find_source(&self, subdir: &str, name: &str) -> Option<PathBuf> {
        find_source(self.search_dirs, subdir, name)
    }

    /// Run a command line (already quoted) and return its output; a broken connection is an
    /// `Err` (unreachable), a non-zero exit is not.
    pub async fn exec(&self, command: impl Into<String>) -> connection::Result<connection::ExecOutput> {
        self.conn.exec(&connection::ExecRequest::new(command)).await
    }
}

pub fn find_source(search_dirs: &[PathBuf], subdir: &str, name: &str) -> Option<PathBuf> {
    let p = Path::new(name);
    if p.is_absolute() {
        return p.exists().then(|| p.to_path_buf());
    }
    for dir in search_dirs {
        for candidate in [dir.join(subdir).join(p), dir.join(p)] {
            if candidate.exists() {
                return Some(candidate);
            }
        }
    }
    None
}

/// A before/after pair for `--diff`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diff {
    pub before_header: String,
    pub after_header: String,
    pub before: String,
    pub after: String,
}

/// What a module run produced. `data` holds the module's own result fields under the names
/// Ansible's modules use (`rc`, `stdout`, `stdout_lines`, `stat`, `dest`, `ansible_facts`, ...),
/// so `register` users find them; `changed`/`failed`/`msg`/`skipped` are added by
/// [`Outcome::to_result`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    pub changed: bool,
    pub failed: bool,
    pub skipped: bool,
    pub msg: Option<String>,
    pub data: Map,
    pub diff: Vec<Diff>,
}

impl Outcome {
    pub fn ok() -> Outcome {
        Outcome::default()
    }

    pub fn changed(changed: bool) -> Outcome {
        Outcome {
            changed,
            ..Outcome::default()
        }
    }

    /// A task failure with Ansible's `msg`.
    pub fn fail(msg: impl Into<String>) -> Outcome {
        Outcome {
            failed: true,
            msg: Some(msg.into()),
            ..Outcome::default()
        }
    }

    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Outcome {
        self.data.insert(key.to_string(), value.into());
        self
    }

    pub fn msg(mut self, msg: impl Into<String>) -> Outcome {
        self.msg = Some(msg.into());
        self
    }

    /// The registered result: the module's fields plus `changed`, `failed`, `msg`, `skipped`.
    pub fn to_result(&self) -> Map {
        let mut m = self.data.clone();
        m.insert("changed".into(), Value::Bool(self.changed));
        if self.failed {
            m.insert("failed".into(), Value::Bool(true));
        } else {
            m.entry("failed".into()).or_insert(Value::Bool(false));
        }
        if let Some(msg) = &self.msg {
            m.insert("msg".into(), Value::Str(msg.clone()));
        }
        if self.skipped {
            m.insert("skipped".into(), Value::Bool(true));
        }
        m
    }
}

/// A module's code: an async function over its context.
pub type ModuleFn = for<'a> fn(&'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>>;
