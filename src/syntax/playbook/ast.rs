//! The typed playbook tree. Structure is checked here; values that Ansible templates later
//! (`become`, `when`, `serial`...) are kept raw with the place they were written.

use super::keywords::{Keywords, Spanned};
use crate::modules::registry::ModuleSpec;
use crate::syntax::role::{RoleKey, RoleRef};
use crate::syntax::span::Span;
use crate::value::{Map, Value};
use indexmap::IndexMap;
use std::path::PathBuf;

/// Variables as written: name → raw value.
pub type Vars = IndexMap<String, Spanned<Value>>;

/// One entry of a task list.
#[derive(Clone, Debug)]
pub enum TaskItem {
    Task(Box<Task>),
    Block(Box<Block>),
    /// `import_tasks` / `import_role`, resolved when the playbook is loaded.
    Import(Box<Import>),
}

impl TaskItem {
    pub fn span(&self) -> &Span {
        match self {
            TaskItem::Task(t) => &t.span,
            TaskItem::Block(b) => &b.span,
            TaskItem::Import(i) => &i.span,
        }
    }
}

/// A task or handler.
#[derive(Clone, Debug)]
pub struct Task {
    pub span: Span,
    pub name: Option<Spanned<Value>>,
    pub action: Action,
    /// Every other keyword (`become`, `register`, `delegate_to`, `until`...) as written.
    pub keywords: Keywords,
    pub when: Vec<Spanned<Value>>,
    pub vars: Vars,
    pub looping: Option<Loop>,
    pub loop_control: Keywords,
    pub notify: Vec<Spanned<Value>>,
    /// Handlers only: the topics this handler also answers to.
    pub listen: Vec<Spanned<Value>>,
}

/// What a task runs.
#[derive(Clone, Debug)]
pub struct Action {
    pub module: &'static ModuleSpec,
    /// The name as the task wrote it (`ansible.builtin.copy`).
    pub written: String,
    /// Where the module was named.
    pub span: Span,
    /// Arguments after merging `args:` (lower priority) with the inline ones. Values from a
    /// mapping keep their YAML types; values from `k=v` text are strings. A templated
    /// `args: "{{ x }}"` is kept as `_variable_params`.
    pub args: Map,
    /// Written as `local_action`.
    pub local: bool,
}

#[derive(Clone, Debug)]
pub enum LoopKind {
    Loop,
    /// `with_<lookup>`: the lookup's name (`items`, `dict`, `community.general.x`).
    With(String),
}

#[derive(Clone, Debug)]
pub struct Loop {
    pub kind: LoopKind,
    pub items: Spanned<Value>,
}

/// `block` with its `rescue` and `always` sections.
#[derive(Clone, Debug)]
pub struct Block {
    pub span: Span,
    pub name: Option<Spanned<Value>>,
    pub keywords: Keywords,
    pub when: Vec<Spanned<Value>>,
    pub vars: Vars,
    pub notify: Vec<Spanned<Value>>,
    pub block: Vec<TaskItem>,
    pub rescue: Vec<TaskItem>,
    pub always: Vec<TaskItem>,
}

/// A static import. Its own keywords (`when`, `tags`, `vars`...) apply to everything it brings in.
#[derive(Clone, Debug)]
pub struct Import {
    pub span: Span,
    pub name: Option<Spanned<Value>>,
    pub keywords: Keywords,
    pub when: Vec<Spanned<Value>>,
    pub vars: Vars,
    pub target: ImportTarget,
}

// Imports are few and already boxed inside `TaskItem`: variant sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum ImportTarget {
    /// `import_tasks: file.yml`. `path` and `children` are `None` when the file name is
    /// templated: it is resolved when variables are known.
    Tasks {
        file: Spanned<Value>,
        path: Option<PathBuf>,
        children: Option<Vec<TaskItem>>,
    },
    /// `import_role: name=x`; the role's content is in the playbook's role store under
    /// `role.key`. `allow_duplicates` defaults to true for imports, as in Ansible.
    Role { role: RoleRef, allow_duplicates: bool },
}

/// Keywords this engine adds to plays.
#[derive(Clone, Debug, Default)]
pub struct PlayExtensions {
    /// `batch_gate:` health checks run after each batch of a serial play.
    pub gate: Option<BatchGate>,
}

/// `batch_gate:`: checks that must pass on a batch's hosts before the next batch starts.
#[derive(Clone, Debug)]
pub struct BatchGate {
    pub span: Span,
    /// Tasks run on each host of the finished batch; a check passes when it does not fail.
    pub checks: Vec<TaskItem>,
    /// Tries per check and host after the first (default 10).
    pub retries: Option<Spanned<Value>>,
    /// Seconds between tries (default 5).
    pub delay: Option<Spanned<Value>>,
    /// Seconds to wait after the gate passed, before the next batch (default 0).
    pub pause: Option<Spanned<Value>>,
}

#[derive(Clone, Debug)]
pub struct Play {
    pub span: Span,
    pub name: Option<Spanned<Value>>,
    /// A pattern string or a list of patterns, as written.
    pub hosts: Spanned<Value>,
    /// Every other play keyword (`serial`, `strategy`, `become`, `gather_facts`...).
    pub keywords: Keywords,
    pub vars: Vars,
    pub vars_files: Vec<Spanned<Value>>,
    pub vars_prompt: Vec<Spanned<Value>>,
    pub roles: Vec<RoleRef>,
    pub pre_tasks: Vec<TaskItem>,
    pub tasks: Vec<TaskItem>,
    pub post_tasks: Vec<TaskItem>,
    pub handlers: Vec<TaskItem>,
    /// `when` of the `import_playbook` that brought this play in: applies to all its tasks.
    pub import_when: Vec<Spanned<Value>>,
    /// Tags added by an `import_playbook`.
    pub import_tags: Vec<Spanned<Value>>,
    /// The directory of the file the play was written in.
    pub dir: PathBuf,
    pub extensions: PlayExtensions,
}

/// A whole playbook, imports flattened, with every role it uses loaded.
#[derive(Debug)]
pub struct Playbook {
    pub path: PathBuf,
    pub plays: Vec<Play>,
    pub roles: RoleStore,
}

/// Loaded roles by identity (path and `*_from` files), each loaded once.
#[derive(Debug, Default)]
pub struct RoleStore {
    pub roles: IndexMap<RoleKey, std::sync::Arc<crate::syntax::role::Role>>,
    /// Roles in the order they were first reached (a role before its dependencies), for
    /// messages that should follow the order the user wrote.
    pub first_reached: Vec<RoleKey>,
}

impl RoleStore {
    pub fn get(&self, key: &RoleKey) -> Option<&std::sync::Arc<crate::syntax::role::Role>> {
        self.roles.get(key)
    }
}
