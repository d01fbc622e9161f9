//! `include_tasks` and `include_role`: what they bring in is known only when they are reached,
//! so each host's file (or role) is chosen with its own variables, hosts choosing the same one
//! are grouped, and each group runs the loaded tasks before the play goes on, as Ansible does.

use super::handlers::Handlers;
use super::loops::loop_items;
use super::play::{BatchState, PlayRunner};
use super::task::{HostOutcome, failed_result, skipped_result, task_place};
use super::vars::{PlayVars, host_scope};
use crate::output::events::{Event, HostResult, Status};
use crate::plan::tags::TagFilter;
use crate::plan::tree::{IncludeCtx, PlanNode, PlanTask, included_nodes, included_role_nodes};
use crate::syntax::playbook::import::task_file_candidates;
use crate::syntax::playbook::keywords::{self as kw, Keywords, Spanned, find_keyword};
use crate::syntax::playbook::loader::{Loader, TaskCtx};
use crate::syntax::role::{RoleFrom, RoleKey, RoleRef, RoleSearch, ensure_loaded, find_role};
use crate::template::Vars;
use crate::value::{Map, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Includes nested deeper than this stop the host: a file including itself with no end.
pub const MAX_DEPTH: usize = 64;

pub fn is_include(t: &PlanTask) -> bool {
    matches!(t.task.action.module.name, "include_tasks" | "include_role")
}

/// What a host includes.
#[derive(Clone, Debug, PartialEq)]
enum Target {
    File(PathBuf),
    Role {
        /// The role's name as found (what `included:` shows).
        name: String,
        key: RoleKey,
    },
}

impl Target {
    fn shown(&self) -> String {
        match self {
            Target::File(p) => p.display().to_string(),
            Target::Role { name, .. } => name.clone(),
        }
    }
}

/// A loop item's label and the variables it sets.
type ItemVars = Option<(String, Arc<Map>)>;

/// Hosts including the same target with the same loop item.
struct Group {
    target: Target,
    item: ItemVars,
    hosts: Vec<String>,
}

/// What one host does at the include.
enum HostPlan {
    Skip,
    Fail(Map),
    Include(Vec<(Target, ItemVars)>),
}

/// Run an include on `active`; returns the hosts still running after what it brought in.
pub async fn run_include(
    runner: &PlayRunner<'_>,
    pvars: &Arc<PlayVars>,
    t: &PlanTask,
    active: Vec<String>,
    state: &mut BatchState,
    handlers: &Handlers<'_>,
    top: bool,
) -> Vec<String> {
    if !t.selected || t.role.as_ref().is_some_and(|r| r.duplicate) || active.is_empty() {
        return active;
    }
    if runner.waiting_for_start.load(Ordering::Relaxed) {
        // `--start-at-task` not reached: what the include holds is not known, so it is passed.
        return active;
    }
    let label = label(runner, pvars, t, &active);
    runner.shared.reporter.emit(Event::TaskStart {
        name: label,
        handler: false,
    });
    let search = RoleSearch::new(runner.shared.opts.roles_path.clone());
    let mut loader = Loader::with_secrets(&search, runner.shared.opts.vault.clone());
    let mut groups: Vec<Group> = Vec::new();
    let mut outcomes = Vec::new();
    for host in &active {
        let plan = if state.include_depth >= MAX_DEPTH {
            HostPlan::Fail(failed_result(format!(
                "includes are nested more than {MAX_DEPTH} deep at {}: an included file probably includes itself with nothing that ends it",
                task_place(t)
            )))
        } else {
            plan_host(runner, pvars, t, host, &loader)
        };
        match plan {
            HostPlan::Skip => outcomes.push(report(runner, host, Status::Skipped, skipped_result())),
            HostPlan::Fail(r) => outcomes.push(report(runner, host, Status::Failed, r)),
            HostPlan::Include(wanted) => {
                for (target, item) in wanted {
                    let same = |g: &&mut Group| {
                        g.target == target && g.item.as_ref().map(|i| &i.1) == item.as_ref().map(|i| &i.1)
                    };
                    match groups.iter_mut().find(same) {
                        Some(g) => g.hosts.push(host.clone()),
                        None => groups.push(Group {
                            target,
                            item,
                            hosts: vec![host.clone()],
                        }),
                    }
                }
            }
        }
    }
    // Every include found is listed (and counted ok once per host) before any of them runs.
    for g in &groups {
        runner.shared.reporter.emit(Event::Included {
            what: g.target.shown(),
            hosts: g.hosts.clone(),
            item: g.item.as_ref().map(|i| i.0.clone()),
        });
        let oks: Vec<HostOutcome> = g.hosts.iter().map(|h| outcome(h, Status::Ok, Map::new())).collect();
        runner.count(&oks);
    }
    runner.count(&outcomes);
    let mut active = runner.settle(outcomes, active, state, top);

    let filter = TagFilter::new(&runner.shared.opts.tags, &runner.shared.opts.skip_tags);
    let built: Vec<(Group, Result<Vec<PlanNode>, String>)> = groups
        .into_iter()
        .map(|g| {
            let nodes = build(runner, t, &g, &mut loader, &filter, handlers);
            (g, nodes)
        })
        .collect();
    drop(loader);
    for (g, nodes) in built {
        if state.ended || state.abort.is_some() || runner.shared.stop.requested() {
            break;
        }
        let hosts: Vec<String> = g.hosts.iter().filter(|h| active.contains(h)).cloned().collect();
        if hosts.is_empty() {
            continue;
        }
        let nodes = match nodes {
            Ok(n) => n,
            Err(msg) => {
                let failed: Vec<HostOutcome> = hosts
                    .iter()
                    .map(|h| report(runner, h, Status::Failed, failed_result(msg.clone())))
                    .collect();
                runner.count(&failed);
                active = runner.settle(failed, active, state, top);
                continue;
            }
        };
        state.include_depth += 1;
        let survivors = runner
            .run_nodes(pvars, &nodes, hosts.clone(), state, handlers, top)
            .await;
        state.include_depth -= 1;
        active.retain(|h| !hosts.contains(h) || survivors.contains(h));
    }
    active
}

/// The banner: the include's name, or `include_role : name` as Ansible shows an unnamed one.
fn label(runner: &PlayRunner<'_>, pvars: &Arc<PlayVars>, t: &PlanTask, hosts: &[String]) -> String {
    if t.task.name.is_none() && t.task.action.module.name == "include_role" {
        let args = &t.task.action.args;
        if let Some(name) = args.get("name").or_else(|| args.get("role")) {
            return format!("{} : {name}", t.task.action.written);
        }
    }
    runner.task_label(pvars, t, hosts)
}

fn outcome(host: &str, status: Status, result: Map) -> HostOutcome {
    HostOutcome {
        host: host.to_string(),
        status,
        result,
        ignored: false,
        notify: Vec::new(),
        delegated: None,
    }
}

/// Print a host's result at the include and return it as an outcome.
fn report(runner: &PlayRunner<'_>, host: &str, status: Status, result: Map) -> HostOutcome {
    runner.shared.reporter.emit(Event::Result(HostResult {
        host: host.to_string(),
        delegated: None,
        status,
        item: None,
        result: result.clone(),
        ignored: false,
        show_result: false,
        loop_summary: false,
    }));
    outcome(host, status, result)
}

/// What `host` includes: conditions checked (inherited once, the include's own per loop
/// item), and the file or role named with the host's (and the item's) variables.
fn plan_host(runner: &PlayRunner<'_>, pvars: &Arc<PlayVars>, t: &PlanTask, host: &str, loader: &Loader) -> HostPlan {
    let shared = &runner.shared;
    let vars: Arc<dyn Vars> = Arc::new(host_scope(shared, pvars, host, Some(t), &[]));
    let holds = |conds: &[Spanned<Value>], vars: &Arc<dyn Vars>| -> Result<bool, String> {
        for c in conds {
            let ok = shared
                .templar
                .eval_when(&c.value, vars)
                .map_err(|e| format!("The conditional check '{}' failed: {e} (at {})", c.value, c.span))?;
            if !ok {
                return Ok(false);
            }
        }
        Ok(true)
    };
    match holds(&t.inherited_when, &vars) {
        Ok(true) => {}
        Ok(false) => return HostPlan::Skip,
        Err(e) => return HostPlan::Fail(failed_result(e)),
    }
    let items: Vec<Option<(String, Arc<Map>)>> = match &t.task.looping {
        None => vec![None],
        Some(l) => match loop_items(&shared.templar, l, &t.task.loop_control, &vars) {
            Ok(items) => items
                .iter()
                .map(|i| {
                    let iv: Arc<dyn Vars> =
                        Arc::new(host_scope(shared, pvars, host, Some(t), std::slice::from_ref(&i.vars)));
                    Some((i.label(&shared.templar, &iv), i.vars.clone()))
                })
                .collect(),
            Err(e) => return HostPlan::Fail(failed_result(format!("{e} (in {})", task_place(t)))),
        },
    };
    let mut wanted = Vec::new();
    for item in items {
        let extra: Vec<Arc<Map>> = item.iter().map(|i| i.1.clone()).collect();
        let iv: Arc<dyn Vars> = Arc::new(host_scope(shared, pvars, host, Some(t), &extra));
        match holds(&t.task.when, &iv) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => return HostPlan::Fail(failed_result(e)),
        }
        match target(runner, t, &iv, loader) {
            Ok(target) => wanted.push((target, item)),
            Err(r) => return HostPlan::Fail(r),
        }
    }
    if wanted.is_empty() {
        return HostPlan::Skip;
    }
    HostPlan::Include(wanted)
}

/// An argument of the include rendered with the host's variables.
fn arg(runner: &PlayRunner<'_>, t: &PlanTask, key: &str, vars: &Arc<dyn Vars>) -> Result<Option<String>, Map> {
    let Some(v) = t.task.action.args.get(key).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    runner
        .shared
        .templar
        .render_value(v, vars)
        .map(|v| Some(v.to_string()))
        .map_err(|e| {
            failed_result(format!(
                "cannot template '{key}' of {} at {}: {e}",
                t.task.action.written,
                task_place(t)
            ))
        })
}

fn target(runner: &PlayRunner<'_>, t: &PlanTask, vars: &Arc<dyn Vars>, loader: &Loader) -> Result<Target, Map> {
    let play_dir = runner.play.dir.clone();
    if t.task.action.module.name == "include_tasks" {
        let name = match arg(runner, t, "_raw_params", vars)? {
            Some(n) => Some(n),
            None => arg(runner, t, "file", vars)?,
        };
        let Some(name) = name.filter(|n| !n.trim().is_empty()) else {
            return Err(failed_result(format!(
                "No file specified for include_tasks at {}",
                task_place(t)
            )));
        };
        let ctx = task_ctx(t, play_dir);
        let candidates = task_file_candidates(&name, &ctx);
        return match candidates.iter().find(|p| p.is_file()) {
            Some(p) => Ok(Target::File(p.canonicalize().unwrap_or_else(|_| p.clone()))),
            None => {
                let searched: Vec<String> = candidates
                    .iter()
                    .map(|p| {
                        std::path::absolute(p)
                            .unwrap_or_else(|_| p.clone())
                            .display()
                            .to_string()
                    })
                    .collect();
                let mut r = Map::new();
                r.insert("changed".into(), Value::Bool(false));
                r.insert("failed".into(), Value::Bool(true));
                r.insert("include".into(), Value::str(name.clone()));
                r.insert(
                    "reason".into(),
                    Value::str(format!(
                        "Could not find or access '{name}' on the controller (searched {}); included at {}",
                        searched.join(", "),
                        task_place(t)
                    )),
                );
                Err(r)
            }
        };
    }
    if let Some(true) = t.task.action.args.get("public").and_then(Value::as_bool_loose) {
        return Err(failed_result(format!(
            "include_role with 'public: true' is not supported yet (at {}); use import_role to make the role's variables visible to later tasks",
            task_place(t)
        )));
    }
    let name = match arg(runner, t, "name", vars)? {
        Some(n) => n,
        None => arg(runner, t, "role", vars)?.unwrap_or_default(),
    };
    let from = RoleFrom {
        tasks: arg(runner, t, "tasks_from", vars)?,
        vars: arg(runner, t, "vars_from", vars)?,
        defaults: arg(runner, t, "defaults_from", vars)?,
        handlers: arg(runner, t, "handlers_from", vars)?,
    };
    let parent = t
        .role
        .as_ref()
        .and_then(|r| r.role.path.parent().map(Path::to_path_buf));
    match find_role(loader, &name, &play_dir, parent.as_deref(), &t.task.action.span) {
        Ok((name, path)) => Ok(Target::Role {
            name,
            key: RoleKey { path, from },
        }),
        Err(e) => Err(failed_result(e.to_string())),
    }
}

fn task_ctx(t: &PlanTask, play_dir: PathBuf) -> TaskCtx {
    let dir = t
        .task
        .span
        .source
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| play_dir.clone());
    TaskCtx {
        dir,
        play_dir,
        role: t.role.as_ref().map(|r| r.role.path.clone()),
        handlers: false,
    }
}

/// Load what a group includes and build its plan nodes; a role's handlers join the play's.
fn build(
    runner: &PlayRunner<'_>,
    t: &PlanTask,
    g: &Group,
    loader: &mut Loader,
    filter: &TagFilter,
    handlers: &Handlers<'_>,
) -> Result<Vec<PlanNode>, String> {
    let mut inc = apply_of(t)?;
    if !t.task.vars.is_empty() {
        inc.vars.push(Arc::new(
            t.task.vars.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect(),
        ));
    }
    if let Some((_, item)) = &g.item {
        inc.vars.push(item.clone());
    }
    let span = &t.task.action.span;
    match &g.target {
        Target::File(path) => {
            inc.role = t.role.clone();
            let ctx = task_ctx(t, runner.play.dir.clone());
            let items = loader
                .load_task_file(path, &ctx, Some(span))
                .map_err(|e| e.to_string())?;
            included_nodes(&items, t, &inc, &loader.roles, filter).map_err(|e| e.to_string())
        }
        Target::Role { name, key } => {
            ensure_loaded(loader, key, name, &runner.play.dir, span).map_err(|e| e.to_string())?;
            let allow_duplicates = t
                .task
                .action
                .args
                .get("allow_duplicates")
                .and_then(Value::as_bool_loose)
                .unwrap_or(true);
            let role = RoleRef {
                span: span.clone(),
                name: name.clone(),
                key: key.clone(),
                params: Map::new(),
                keywords: Keywords::default(),
                when: Vec::new(),
                vars: Default::default(),
            };
            let (tasks, role_handlers) = included_role_nodes(&role, allow_duplicates, t, &inc, &loader.roles, filter)
                .map_err(|e| e.to_string())?;
            handlers.add(&role_handlers);
            Ok(tasks)
        }
    }
}

/// `apply:` of the include: keywords for everything it brings in. `no_log` on the include
/// itself is passed on too (Ansible needs `apply:` for that): hiding more never leaks.
fn apply_of(t: &PlanTask) -> Result<IncludeCtx, String> {
    let mut inc = apply_keywords(t)?;
    if let Some(own) = t.task.keywords.get("no_log")
        && !inc.apply.contains("no_log")
    {
        inc.apply.insert("no_log", own.clone());
    }
    Ok(inc)
}

/// The keywords written under `apply:`.
fn apply_keywords(t: &PlanTask) -> Result<IncludeCtx, String> {
    let mut inc = IncludeCtx::default();
    let Some(apply) = t.task.action.args.get("apply").filter(|v| !v.is_null()) else {
        return Ok(inc);
    };
    let Value::Map(m) = apply else {
        return Err(format!(
            "'apply' of {} must be a mapping of keywords, not {} (at {})",
            t.task.action.written,
            apply.type_name(),
            task_place(t)
        ));
    };
    let span = t.task.action.span.clone();
    for (k, v) in m {
        let spanned = Spanned {
            value: v.clone(),
            span: span.clone(),
        };
        if k == "vars" {
            let Value::Map(v) = v else {
                return Err(format!("'vars' of 'apply' must be a mapping (at {})", task_place(t)));
            };
            inc.vars.push(Arc::new(v.clone()));
            continue;
        }
        if k == "when" {
            match v {
                Value::List(l) => inc.apply_when.extend(l.iter().map(|c| Spanned {
                    value: c.clone(),
                    span: span.clone(),
                })),
                _ => inc.apply_when.push(spanned),
            }
            continue;
        }
        match find_keyword(k, &[kw::BASE, kw::BLOCK]) {
            Some(word) if !matches!(word, "block" | "rescue" | "always" | "vars" | "name") => {
                inc.apply.insert(word, spanned);
            }
            _ => {
                return Err(format!(
                    "'{k}' is not a keyword 'apply' of {} can pass on (at {})",
                    t.task.action.written,
                    task_place(t)
                ));
            }
        }
    }
    Ok(inc)
}
