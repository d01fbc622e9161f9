//! State kept while one playbook loads: the role search, roles already read, and the chain
//! of files being imported (to refuse import cycles).

use super::ast::{RoleStore, TaskItem};
use crate::syntax::node::Node;
use crate::syntax::role::{RoleKey, RoleSearch};
use crate::syntax::vault::VaultSecrets;
use crate::syntax::{Error, ErrorKind, Result, Span, yaml};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

pub(crate) struct Loader<'a> {
    pub search: &'a RoleSearch,
    pub roles: RoleStore,
    /// Roles being read right now: a dependency back to one of them is a cycle, which the
    /// plan reports; here it only stops the recursion.
    pub loading: HashSet<RoleKey>,
    /// Files being imported, outermost first.
    pub files: Vec<PathBuf>,
    /// Opens inline `!vault` values as files load (none: they stay closed).
    pub secrets: VaultSecrets,
}

/// Where a task list was written: relative imports resolve from here.
#[derive(Clone, Debug)]
pub(crate) struct TaskCtx {
    /// The directory of the file holding the tasks.
    pub dir: PathBuf,
    /// The directory of the playbook the tasks belong to.
    pub play_dir: PathBuf,
    /// The role the tasks belong to, if any.
    pub role: Option<PathBuf>,
    pub handlers: bool,
}

impl<'a> Loader<'a> {
    pub fn new(search: &'a RoleSearch) -> Loader<'a> {
        Loader {
            search,
            roles: RoleStore::default(),
            loading: HashSet::new(),
            files: Vec::new(),
            secrets: VaultSecrets::new(),
        }
    }

    pub fn with_secrets(search: &'a RoleSearch, secrets: VaultSecrets) -> Loader<'a> {
        Loader {
            secrets,
            ..Loader::new(search)
        }
    }

    /// Read and parse a YAML file, opening its inline vault values: a wrong password or
    /// altered data fails here, pointing at the value.
    pub fn load_yaml(&self, path: &Path) -> Result<Node> {
        let mut node = yaml::load_file(path)?;
        crate::syntax::vault::decrypt_in_place(&mut node, &self.secrets)?;
        Ok(node)
    }

    /// Run `f` with `path` pushed on the import chain; an import of a file already on the
    /// chain is a cycle.
    pub fn with_file<T>(
        &mut self,
        path: &Path,
        span: Option<&Span>,
        f: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        let canon = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if self.files.contains(&canon) {
            let mut chain: Vec<String> = self
                .files
                .iter()
                .skip_while(|p| **p != canon)
                .map(|p| p.display().to_string())
                .collect();
            chain.push(canon.display().to_string());
            return Err(Error::new(ErrorKind::ImportCycle { chain }, span.cloned())
                .with_help("a file cannot import itself, directly or through other files"));
        }
        self.files.push(canon);
        let out = f(self);
        self.files.pop();
        out
    }

    /// Load a task file (a list of tasks; empty file is no tasks).
    pub fn load_task_file(&mut self, path: &Path, ctx: &TaskCtx, span: Option<&Span>) -> Result<Vec<TaskItem>> {
        self.with_file(path, span, |l| {
            let node = l.load_yaml(path).map_err(|e| with_fallback_span(e, span))?;
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            let inner = TaskCtx { dir, ..ctx.clone() };
            super::task::parse_task_list(&node, &inner, l, "a task file")
        })
    }
}

/// A missing file has no position of its own: point at the line that named it.
pub(crate) fn with_fallback_span(mut e: Error, span: Option<&Span>) -> Error {
    if e.span.is_none() {
        e.span = span.cloned();
    }
    e
}

/// The first of `candidates` that is a file, or a NotFound error listing them.
pub(crate) fn first_file(what: &'static str, name: &str, candidates: Vec<PathBuf>, span: &Span) -> Result<PathBuf> {
    match candidates.iter().find(|p| p.is_file()) {
        Some(p) => Ok(p.clone()),
        None => Err(Error::at(
            ErrorKind::NotFound {
                what,
                name: name.to_string(),
                searched: candidates,
            },
            span,
        )),
    }
}

/// Whether a value is text Ansible would template (`{{`, `{%`).
pub(crate) fn is_templated(node: &Node) -> bool {
    node.as_str().is_some_and(|s| s.contains("{{") || s.contains("{%"))
}
