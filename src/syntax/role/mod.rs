//! Roles: where they are found, what a reference to one says (`roles:`, `dependencies:`,
//! `import_role`), and what a loaded role holds.

mod load;
mod search;

pub use search::RoleSearch;

pub(crate) use load::{RefKind, ensure_loaded, find_role, parse_role_ref};

use crate::syntax::playbook::{Keywords, Spanned, TaskItem, Vars};
use crate::syntax::span::Span;
use crate::value::{Map, Value};
use std::path::PathBuf;

/// Alternative entry files (`tasks_from: upgrade` reads `tasks/upgrade.yml`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct RoleFrom {
    pub tasks: Option<String>,
    pub vars: Option<String>,
    pub defaults: Option<String>,
    pub handlers: Option<String>,
}

/// What makes two loaded roles the same: their directory and entry files.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RoleKey {
    pub path: PathBuf,
    pub from: RoleFrom,
}

/// A use of a role, as written in `roles:`, a role's `dependencies:` or an `import_role`.
#[derive(Clone, Debug)]
pub struct RoleRef {
    pub span: Span,
    /// The role's name (for a role given by path, the last path component).
    pub name: String,
    pub key: RoleKey,
    /// Keys that are not keywords: role parameters (highest-precedence role variables).
    pub params: Map,
    pub keywords: Keywords,
    pub when: Vec<Spanned<Value>>,
    pub vars: Vars,
}

/// A role read from disk.
#[derive(Debug)]
pub struct Role {
    pub name: String,
    pub path: PathBuf,
    pub from: RoleFrom,
    pub defaults: Map,
    pub vars: Map,
    pub tasks: Vec<TaskItem>,
    pub handlers: Vec<TaskItem>,
    pub dependencies: Vec<RoleRef>,
    pub allow_duplicates: bool,
}
