//! A play's tasks as the run walks them: roles expanded (dependencies first), static imports
//! in place, and what every task inherits from around it (tags, conditions, role) resolved
//! once, here, so listings and the executor read the same tree.

use super::roles::{RoleExpander, RoleInstance};
use super::tags::TagFilter;
use super::{Error, ErrorKind, Result};
use crate::syntax::Span;
use crate::syntax::playbook::{ImportTarget, Keywords, Play, RoleStore, Spanned, Task, TaskItem};
use crate::value::{Map, Value};
use std::collections::BTreeSet;
use std::sync::Arc;

/// One task with everything it inherits.
#[derive(Clone, Debug)]
pub struct PlanTask {
    pub task: Arc<Task>,
    /// How `--list-tasks` names it (`role : name`, the name as written, or the action).
    pub label: String,
    /// Its own tags plus every inherited one (play, imports, roles, blocks).
    pub tags: BTreeSet<String>,
    /// Whether `--tags`/`--skip-tags` let it run.
    pub selected: bool,
    /// Conditions from enclosing blocks, imports and role entries, outermost first.
    pub inherited_when: Vec<Spanned<Value>>,
    /// The role it belongs to, if any.
    pub role: Option<Arc<RoleInstance>>,
    /// Keywords inherited from the play, role entries, imports and blocks around it (the
    /// nearest wins); the task's own keywords are in `task.keywords`.
    pub inherited: Arc<Keywords>,
    /// `vars:` of enclosing blocks, imports and role entries, outermost first.
    pub block_vars: Vec<Arc<Map>>,
}

/// `block` / `rescue` / `always`.
#[derive(Clone, Debug)]
pub struct PlanBlock {
    pub span: Span,
    pub name: Option<String>,
    pub block: Vec<PlanNode>,
    pub rescue: Vec<PlanNode>,
    pub always: Vec<PlanNode>,
}

#[derive(Clone, Debug)]
pub enum PlanNode {
    Task(PlanTask),
    Block(PlanBlock),
}

/// The parts of a play, in the order they run (handlers are flushed after each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    PreTasks,
    Roles,
    Tasks,
    PostTasks,
}

#[derive(Clone, Debug)]
pub struct PlayTree {
    pub sections: Vec<(Section, Vec<PlanNode>)>,
    pub handlers: Vec<PlanNode>,
    /// `batch_gate.checks`: run on each finished batch of a serial play.
    pub gate_checks: Vec<PlanNode>,
}

impl PlanTask {
    /// A keyword from the task, else from around it (block, import, role entry, play).
    pub fn keyword(&self, name: &str) -> Option<&Spanned<Value>> {
        self.task.keywords.get(name).or_else(|| self.inherited.get(name))
    }
}

impl PlayTree {
    /// Tasks in run order, walking only `block:` parts (what `--list-tasks` shows).
    pub fn listed_tasks(&self) -> Vec<&PlanTask> {
        fn walk<'a>(nodes: &'a [PlanNode], out: &mut Vec<&'a PlanTask>) {
            for n in nodes {
                match n {
                    PlanNode::Task(t) => out.push(t),
                    PlanNode::Block(b) => walk(&b.block, out),
                }
            }
        }
        let mut out = Vec::new();
        for (_, nodes) in &self.sections {
            walk(nodes, &mut out);
        }
        out
    }
}

/// What a task inherits from where it stands.
#[derive(Clone, Default)]
struct Ctx {
    tags: BTreeSet<String>,
    when: Vec<Spanned<Value>>,
    role: Option<Arc<RoleInstance>>,
    keywords: Arc<Keywords>,
    vars: Vec<Arc<Map>>,
}

impl Ctx {
    fn with_keywords(&self, keywords: &Keywords, when: &[Spanned<Value>]) -> Ctx {
        let mut c = self.clone();
        if let Some(t) = keywords.get("tags") {
            c.tags.extend(tag_list(&t.value));
        }
        c.when.extend(when.iter().cloned());
        if !keywords.is_empty() {
            let mut merged = (*c.keywords).clone();
            for (k, v) in keywords.iter() {
                merged.insert(k, v.clone());
            }
            c.keywords = Arc::new(merged);
        }
        c
    }

    fn with_vars(mut self, vars: &crate::syntax::playbook::Vars) -> Ctx {
        if !vars.is_empty() {
            self.vars.push(Arc::new(
                vars.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect(),
            ));
        }
        self
    }
}

/// The tags a `tags:` value names: a list, or a comma-separated string.
pub fn tag_list(v: &Value) -> Vec<String> {
    match v {
        Value::List(items) => items.iter().flat_map(tag_list).collect(),
        Value::Null => Vec::new(),
        Value::Str(s) | Value::Unsafe(s) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        other => vec![other.to_string()],
    }
}

/// What an include hands to the tasks it brings in at run time.
#[derive(Clone, Debug, Default)]
pub struct IncludeCtx {
    /// `apply:` keywords: its `tags` tag the included tasks, its `when` guards them, the rest
    /// are inherited as block keywords would be.
    pub apply: Keywords,
    pub apply_when: Vec<Spanned<Value>>,
    /// Variables of the include (its `vars:`, then the loop item), outermost first.
    pub vars: Vec<Arc<Map>>,
    /// The role the included tasks belong to: the include's own, or the included role.
    pub role: Option<Arc<RoleInstance>>,
}

impl IncludeCtx {
    /// The context the included tasks stand in: what the include itself inherited (its own
    /// tags and `when` are not passed down, as Ansible does for dynamic includes).
    fn ctx(&self, parent: &PlanTask) -> Ctx {
        let own: BTreeSet<String> = parent
            .task
            .keywords
            .get("tags")
            .map(|t| tag_list(&t.value).into_iter().collect())
            .unwrap_or_default();
        let base = Ctx {
            tags: parent.tags.difference(&own).cloned().collect(),
            when: parent.inherited_when.clone(),
            role: self.role.clone(),
            keywords: parent.inherited.clone(),
            vars: parent.block_vars.iter().chain(&self.vars).cloned().collect(),
        };
        base.with_keywords(&self.apply, &self.apply_when)
    }
}

/// Plan nodes for tasks an `include_tasks` loaded at run time, under the include's context.
/// `store` holds the roles those tasks import.
pub fn included_nodes(
    items: &[TaskItem],
    parent: &PlanTask,
    inc: &IncludeCtx,
    store: &RoleStore,
    filter: &TagFilter,
) -> Result<Vec<PlanNode>> {
    let mut b = TreeBuilder::new(RoleExpander::new(store)?, filter);
    b.items(items, &inc.ctx(parent))
}

/// Tasks and handlers of a role an `include_role` brought in (dependencies first), under the
/// include's context. `store` holds the role and what it depends on.
pub fn included_role_nodes(
    role: &crate::syntax::role::RoleRef,
    allow_duplicates: bool,
    parent: &PlanTask,
    inc: &IncludeCtx,
    store: &RoleStore,
    filter: &TagFilter,
) -> Result<(Vec<PlanNode>, Vec<PlanNode>)> {
    let mut b = TreeBuilder::new(RoleExpander::new(store)?, filter);
    let ctx = inc.ctx(parent);
    let (mut tasks, mut handlers) = (Vec::new(), Vec::new());
    for inst in b.roles.import_role(role, allow_duplicates)? {
        let (t, h) = b.role(inst, &ctx)?;
        tasks.extend(t);
        handlers.extend(h);
    }
    Ok((tasks, handlers))
}

/// Builds the tree of one play.
pub struct TreeBuilder<'a> {
    roles: RoleExpander<'a>,
    filter: &'a TagFilter,
}

impl<'a> TreeBuilder<'a> {
    pub fn new(roles: RoleExpander<'a>, filter: &'a TagFilter) -> TreeBuilder<'a> {
        TreeBuilder { roles, filter }
    }

    pub fn build(mut self, play: &Play) -> Result<PlayTree> {
        let mut root = Ctx::default();
        if let Some(t) = play.keywords.get("tags") {
            root.tags.extend(tag_list(&t.value));
        }
        for t in &play.import_tags {
            root.tags.extend(tag_list(&t.value));
        }
        root.when.extend(play.import_when.iter().cloned());
        root.keywords = Arc::new(play.keywords.clone());

        let mut sections = Vec::new();
        sections.push((Section::PreTasks, self.items(&play.pre_tasks, &root)?));
        let mut role_nodes = Vec::new();
        let mut role_handlers = Vec::new();
        for inst in self.roles.play_roles(play)? {
            let (tasks, handlers) = self.role(inst, &root)?;
            role_nodes.extend(tasks);
            role_handlers.extend(handlers);
        }
        sections.push((Section::Roles, role_nodes));
        sections.push((Section::Tasks, self.items(&play.tasks, &root)?));
        sections.push((Section::PostTasks, self.items(&play.post_tasks, &root)?));
        // Role handlers come before the play's own, as Ansible loads them.
        let mut handlers = role_handlers;
        handlers.extend(self.items(&play.handlers, &root)?);
        let gate_checks = match &play.extensions.gate {
            Some(g) => self.items(&g.checks, &root)?,
            None => Vec::new(),
        };
        Ok(PlayTree {
            sections,
            handlers,
            gate_checks,
        })
    }

    /// A role's tasks and handlers, with the tags and conditions of every entry that led to it.
    fn role(&mut self, inst: RoleInstance, outer: &Ctx) -> Result<(Vec<PlanNode>, Vec<PlanNode>)> {
        let mut ctx = outer.clone();
        for r in inst.parent_refs.iter().chain(std::iter::once(&inst.via)) {
            ctx = ctx.with_keywords(&r.keywords, &r.when).with_vars(&r.vars);
        }
        let role = inst.role.clone();
        ctx.role = Some(Arc::new(inst));
        Ok((self.items(&role.tasks, &ctx)?, self.items(&role.handlers, &ctx)?))
    }

    fn items(&mut self, items: &[TaskItem], ctx: &Ctx) -> Result<Vec<PlanNode>> {
        let mut out = Vec::new();
        for item in items {
            match item {
                TaskItem::Task(t) => out.push(PlanNode::Task(self.task(t, ctx))),
                TaskItem::Block(b) => {
                    let inner = ctx.with_keywords(&b.keywords, &b.when).with_vars(&b.vars);
                    out.push(PlanNode::Block(PlanBlock {
                        span: b.span.clone(),
                        name: b.name.as_ref().map(|n| n.value.to_string()),
                        block: self.items(&b.block, &inner)?,
                        rescue: self.items(&b.rescue, &inner)?,
                        always: self.items(&b.always, &inner)?,
                    }));
                }
                TaskItem::Import(i) => {
                    let inner = ctx.with_keywords(&i.keywords, &i.when).with_vars(&i.vars);
                    match &i.target {
                        ImportTarget::Tasks {
                            children: Some(children),
                            ..
                        } => {
                            out.extend(self.items(children, &inner)?);
                        }
                        ImportTarget::Tasks {
                            children: None, file, ..
                        } => {
                            return Err(Error::new(
                                ErrorKind::Template {
                                    message: format!(
                                        "import_tasks file name '{}' is templated; it must be known before the run starts",
                                        file.value
                                    ),
                                },
                                Some(file.span.clone()),
                            )
                            .with_help("use include_tasks for a file chosen at run time, or give the file name directly"));
                        }
                        ImportTarget::Role { role, allow_duplicates } => {
                            for inst in self.roles.import_role(role, *allow_duplicates)? {
                                let (tasks, _handlers) = self.role(inst, &inner)?;
                                out.extend(tasks);
                            }
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    fn task(&self, task: &Task, ctx: &Ctx) -> PlanTask {
        let own = ctx.with_keywords(&task.keywords, &[]);
        let tags = own.tags;
        PlanTask {
            label: label(task, ctx.role.as_deref()),
            selected: self.filter.runs(&tags),
            tags,
            inherited_when: ctx.when.clone(),
            role: ctx.role.clone(),
            inherited: ctx.keywords.clone(),
            block_vars: ctx.vars.clone(),
            task: Arc::new(task.clone()),
        }
    }
}

/// The task's name as `--list-tasks` prints it: not templated; `role : name` inside a role;
/// the action as written when unnamed; a named `include_role` without a role prefix.
fn label(task: &Task, role: Option<&RoleInstance>) -> String {
    let Some(name) = task.name.as_ref().map(|n| n.value.to_string()) else {
        return task.action.written.clone();
    };
    match role {
        Some(r) if task.action.module.name != "include_role" => format!("{} : {}", r.via.name, name),
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::playbook::load_playbook;
    use crate::syntax::role::RoleSearch;

    #[test]
    fn included_tasks_take_inherited_tags_and_when_but_not_the_includes_own() {
        let dir = tempfile::tempdir().expect("tempdir");
        let site = "- hosts: all\n  tags: [play]\n  tasks:\n    - block:\n        - include_tasks: x.yml\n          tags: [inc]\n          when: own\n      when: outer\n";
        let inc = "- hosts: all\n  tasks:\n    - debug: msg=a\n      tags: [mine]\n";
        std::fs::write(dir.path().join("site.yml"), site).expect("write");
        std::fs::write(dir.path().join("inc.yml"), inc).expect("write");
        let search = RoleSearch::default();
        let pb = load_playbook(&dir.path().join("site.yml"), &search).expect("loads");
        let items = load_playbook(&dir.path().join("inc.yml"), &search).expect("loads");
        let filter = TagFilter::new(&[], &[]);
        let expander = RoleExpander::new(&pb.roles).expect("no cycles");
        let tree = TreeBuilder::new(expander, &filter).build(&pb.plays[0]).expect("builds");
        let parent = tree.listed_tasks()[0].clone();
        let tags = |apply: Keywords| {
            let inc = IncludeCtx {
                apply,
                ..IncludeCtx::default()
            };
            let nodes = included_nodes(&items.plays[0].tasks, &parent, &inc, &items.roles, &filter).expect("builds");
            match nodes.first() {
                Some(PlanNode::Task(t)) => {
                    let when: Vec<String> = t.inherited_when.iter().map(|w| w.value.to_string()).collect();
                    (t.tags.iter().cloned().collect::<Vec<_>>(), when)
                }
                other => panic!("{other:?}"),
            }
        };
        let mut apply = Keywords::default();
        apply.insert(
            "tags",
            Spanned {
                value: Value::str("applied"),
                span: parent.task.span.clone(),
            },
        );
        // (apply, tags of the included task, conditions it inherits)
        let cases: Vec<(Keywords, Vec<&str>, Vec<&str>)> = vec![
            (Keywords::default(), vec!["mine", "play"], vec!["outer"]),
            (apply, vec!["applied", "mine", "play"], vec!["outer"]),
        ];
        for (apply, want_tags, want_when) in cases {
            let (got_tags, got_when) = tags(apply);
            assert_eq!(got_tags, want_tags);
            assert_eq!(got_when, want_when);
        }
    }
}
