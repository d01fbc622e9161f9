//! One task on one host: conditions, loop, the module call (with delegation, become, check
//! mode and timeouts), `until` retries, `changed_when`/`failed_when`, and the registered
//! result. A failure here is an outcome, never a Rust error.

use super::action::{ActionCall, call_module};
use super::loops::{LoopItem, loop_items};
use super::shared::Shared;
use super::vars::{PlayVars, host_scope};
use crate::output::events::{Event, HostResult, Status};
use crate::plan::tree::PlanTask;
use crate::syntax::playbook::Spanned;
use crate::template::Vars;
use crate::value::{Map, Value};
use std::sync::Arc;
use std::time::Duration;

/// How a task ended on a host.
#[derive(Clone, Debug)]
pub struct HostOutcome {
    pub host: String,
    pub status: Status,
    /// The result as registered.
    pub result: Map,
    pub ignored: bool,
    /// Handler names and topics to notify (the task changed something).
    pub notify: Vec<String>,
    /// The `delegate_to` host the task ran on, if any.
    pub delegated: Option<String>,
}

impl HostOutcome {
    pub fn failed(&self) -> bool {
        self.status == Status::Failed && !self.ignored
    }
    pub fn unreachable(&self) -> bool {
        self.status == Status::Unreachable
    }
}

/// `ignore_errors` / `ignore_unreachable` as they hold for one host.
#[derive(Clone, Copy, Debug, Default)]
struct Ignore {
    errors: bool,
    unreachable: bool,
}

impl Ignore {
    fn applies(self, status: Status) -> bool {
        (status == Status::Failed && self.errors) || (status == Status::Unreachable && self.unreachable)
    }
}

/// How a host's result is reported: censored (`no_log`), and which failures are ignored.
#[derive(Clone, Copy, Debug, Default)]
struct Shown {
    no_log: bool,
    ignore: Ignore,
}

/// What a task run needs besides the host.
pub struct TaskRun<'a> {
    pub shared: &'a Arc<Shared>,
    pub play: &'a Arc<PlayVars>,
    pub task: &'a PlanTask,
    /// The name shown in the banner and retry lines.
    pub label: &'a str,
}

/// Where a task was written, for messages.
pub fn task_place(task: &PlanTask) -> String {
    task.task.span.to_string()
}

impl TaskRun<'_> {
    /// A keyword from the task, else from around it (block, role entry, play).
    pub fn keyword(&self, name: &str) -> Option<&Spanned<Value>> {
        self.task.keyword(name)
    }

    fn render_keyword(&self, name: &str, vars: &Arc<dyn Vars>) -> Result<Option<Value>, String> {
        match self.keyword(name) {
            None => Ok(None),
            Some(v) => self
                .shared
                .templar
                .render_value(&v.value, vars)
                .map(Some)
                .map_err(|e| format!("cannot template '{name}' at {}: {e}", v.span)),
        }
    }

    fn bool_keyword(&self, name: &str, vars: &Arc<dyn Vars>) -> Result<Option<bool>, String> {
        Ok(self.render_keyword(name, vars)?.and_then(|v| v.as_bool_loose()))
    }

    fn int_keyword(&self, name: &str, vars: &Arc<dyn Vars>) -> Result<Option<i64>, String> {
        Ok(self.render_keyword(name, vars)?.and_then(|v| match v {
            Value::Int(i) => Some(i),
            other => other.to_string().trim().parse().ok(),
        }))
    }

    fn vars_for(&self, host: &str, extra: &[Arc<Map>]) -> Arc<dyn Vars> {
        Arc::new(host_scope(self.shared, self.play, host, Some(self.task), extra))
    }

    fn emit(&self, r: HostResult) {
        self.shared.reporter.emit(Event::Result(r));
    }

    /// Run the task on `host` and report it.
    pub async fn run(&self, host: &str) -> HostOutcome {
        let vars = self.vars_for(host, &[]);
        let flag = |name: &str| self.bool_keyword(name, &vars).ok().flatten().unwrap_or(false);
        let ignore = Ignore {
            errors: flag("ignore_errors"),
            unreachable: flag("ignore_unreachable"),
        };
        let mut out = self.run_inner(host, &vars, ignore).await;
        out.ignored = ignore.applies(out.status);
        out
    }

    async fn run_inner(&self, host: &str, vars: &Arc<dyn Vars>, ignore: Ignore) -> HostOutcome {
        let no_log = self.bool_keyword("no_log", vars).ok().flatten().unwrap_or(false);
        let delegated = match self.render_keyword("delegate_to", vars) {
            Ok(v) => v.filter(|v| !v.is_null()).map(|v| v.to_string()),
            Err(e) => return self.finish_failed(host, None, e, Shown { no_log, ignore }),
        };
        let register = self.keyword("register").map(|r| r.value.to_string());

        let Some(looping) = &self.task.task.looping else {
            // No loop: all conditions first.
            match self.conditions_hold(vars, true) {
                Ok(true) => {}
                Ok(false) => return self.finish_skipped(host, delegated, register.as_deref()),
                Err(e) => return self.finish_failed(host, delegated, e, Shown { no_log, ignore }),
            }
            let result = self
                .run_once(host, vars, delegated.as_deref(), register.as_deref())
                .await;
            return self.finish(
                host,
                delegated,
                result,
                register.as_deref(),
                Shown { no_log, ignore },
                None,
            );
        };

        // A loop: inherited conditions once, the task's own per item (as Ansible does).
        match self.conditions_hold(vars, false) {
            Ok(true) => {}
            Ok(false) => return self.finish_skipped(host, delegated, register.as_deref()),
            Err(e) => return self.finish_failed(host, delegated, e, Shown { no_log, ignore }),
        }
        let items = match loop_items(&self.shared.templar, looping, &self.task.task.loop_control, vars) {
            Ok(items) => items,
            Err(e) => {
                return self.finish_failed(
                    host,
                    delegated,
                    format!("{e} (in {})", task_place(self.task)),
                    Shown { no_log, ignore },
                );
            }
        };
        let pause = self
            .task
            .task
            .loop_control
            .get("pause")
            .and_then(|p| p.value.to_string().parse::<f64>().ok())
            .filter(|p| *p > 0.0);
        let mut results = Vec::new();
        let (mut any_changed, mut any_failed, mut all_skipped) = (false, false, true);
        let mut status = Status::Ok;
        // What earlier items of a set_fact/include_vars loop set, for the later ones
        // (`acc: "{{ acc + [item] }}"` accumulates, as in Ansible).
        let mut facts_so_far = Arc::new(Map::new());
        for (i, item) in items.iter().enumerate() {
            if i > 0
                && let Some(p) = pause
            {
                tokio::time::sleep(Duration::from_secs_f64(p)).await;
            }
            let item_vars = self.vars_for(host, &[facts_so_far.clone(), item.vars.clone()]);
            let label = item.label(&self.shared.templar, &item_vars);
            let mut r = match self.own_conditions_hold(&item_vars) {
                Ok(true) => {
                    all_skipped = false;
                    self.run_once(host, &item_vars, delegated.as_deref(), register.as_deref())
                        .await
                }
                Ok(false) => skipped_result(),
                Err(e) => {
                    all_skipped = false;
                    failed_result(e)
                }
            };
            r.insert(item.var_name.clone(), item.value.clone());
            r.insert("ansible_loop_var".into(), Value::str(item.var_name.clone()));
            let st = status_of(&r);
            if sets_variables(self.task.task.action.module.name)
                && matches!(st, Status::Ok | Status::Changed)
                && let Some(Value::Map(facts)) = r.get("ansible_facts")
            {
                Arc::make_mut(&mut facts_so_far).extend(facts.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            if st == Status::Unreachable {
                return self.finish(host, delegated, r, register.as_deref(), Shown { no_log, ignore }, None);
            }
            any_changed |= st == Status::Changed;
            any_failed |= st == Status::Failed;
            self.emit(HostResult {
                host: host.to_string(),
                delegated: delegated.clone(),
                status: st,
                item: Some(if no_log { "None".into() } else { label }),
                result: censor(&r, no_log),
                ignored: false,
                show_result: self.task.task.action.module.name == "debug",
                loop_summary: false,
            });
            results.push(Value::Map(r));
        }
        let mut summary = Map::new();
        summary.insert("changed".into(), Value::Bool(any_changed));
        summary.insert(
            "msg".into(),
            Value::str(if any_failed {
                "One or more items failed"
            } else {
                "All items completed"
            }),
        );
        summary.insert("results".into(), Value::List(results));
        if any_failed {
            summary.insert("failed".into(), Value::Bool(true));
            status = Status::Failed;
        } else if all_skipped && !items.is_empty() {
            summary.insert("skipped".into(), Value::Bool(true));
            status = Status::Skipped;
        } else if all_skipped {
            summary.insert("skipped".into(), Value::Bool(true));
            summary.insert("skipped_reason".into(), Value::str("No items in the list"));
            status = Status::Skipped;
        } else if any_changed {
            status = Status::Changed;
        }
        self.finish(
            host,
            delegated,
            summary,
            register.as_deref(),
            Shown { no_log, ignore },
            Some(status),
        )
    }

    /// Inherited conditions, and the task's own when `own` is true.
    fn conditions_hold(&self, vars: &Arc<dyn Vars>, own: bool) -> Result<bool, String> {
        for c in &self.task.inherited_when {
            if !self.eval_when(c, vars)? {
                return Ok(false);
            }
        }
        if own {
            return self.own_conditions_hold(vars);
        }
        Ok(true)
    }

    fn own_conditions_hold(&self, vars: &Arc<dyn Vars>) -> Result<bool, String> {
        for c in &self.task.task.when {
            if !self.eval_when(c, vars)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn eval_when(&self, c: &Spanned<Value>, vars: &Arc<dyn Vars>) -> Result<bool, String> {
        self.shared
            .templar
            .eval_when(&c.value, vars)
            .map_err(|e| format!("The conditional check '{}' failed: {e} (at {})", c.value, c.span))
    }

    /// The module once (one item), with `until` retries and `changed_when`/`failed_when`.
    async fn run_once(&self, host: &str, vars: &Arc<dyn Vars>, delegated: Option<&str>, register: Option<&str>) -> Map {
        let until = self.task.task.keywords.get("until").cloned();
        let (retries, delay) = match &until {
            Some(_) => {
                let r = match self.int_keyword("retries", vars) {
                    Ok(r) => r.unwrap_or(3).max(0),
                    Err(e) => return failed_result(e),
                };
                let d = match self.int_keyword("delay", vars) {
                    Ok(d) => d.unwrap_or(5).max(0),
                    Err(e) => return failed_result(e),
                };
                (r as u32, d as u64)
            }
            None => (0, 0),
        };
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let mut result = self.call(host, vars, delegated).await;
            if status_of(&result) == Status::Unreachable {
                return result;
            }
            if let Err(e) = self.apply_changed_failed_when(&mut result, vars, register) {
                return failed_result(e);
            }
            let Some(cond) = &until else {
                return result;
            };
            result.insert("attempts".into(), Value::Int(i64::from(attempt)));
            let with = bind_register(vars, register, &result);
            let ok = match self.shared.templar.eval_when(&cond.value, &with) {
                Ok(b) => b,
                Err(e) => return failed_result(format!("The conditional check '{}' failed: {e}", cond.value)),
            };
            if ok {
                result.insert("failed".into(), Value::Bool(false));
                return result;
            }
            if attempt > retries {
                result.insert("failed".into(), Value::Bool(true));
                return result;
            }
            self.shared.reporter.emit(Event::Retry {
                host: host.to_string(),
                task: self.label.to_string(),
                retries_left: retries + 1 - attempt,
                result: Map::new(),
            });
            tokio::time::sleep(Duration::from_secs(delay)).await;
        }
    }

    async fn call(&self, host: &str, vars: &Arc<dyn Vars>, delegated: Option<&str>) -> Map {
        let call = ActionCall {
            shared: self.shared,
            play: self.play,
            run: self,
            host,
            delegated,
        };
        let result = call_module(&call, vars).await;
        // What a module returns is host data: never templated or evaluated. `set_fact`
        // returns its rendered arguments, of which only template output is untrusted (a
        // literal from the playbook stays a trusted string); `include_vars` returns the
        // playbook's own vars files, templated when read.
        match self.task.task.action.module.name {
            "include_vars" => result,
            "set_fact" => crate::template::untrusted_map(result),
            _ => crate::template::untrusted_result(result),
        }
    }

    fn apply_changed_failed_when(
        &self,
        result: &mut Map,
        vars: &Arc<dyn Vars>,
        register: Option<&str>,
    ) -> Result<(), String> {
        let kws = &self.task.task.keywords;
        if let Some(c) = kws.get("changed_when") {
            let with = bind_register(vars, register, result);
            let changed = self.eval_when(c, &with)?;
            result.insert("changed".into(), Value::Bool(changed));
        }
        if let Some(c) = kws.get("failed_when") {
            let with = bind_register(vars, register, result);
            let failed = self.eval_when(c, &with)?;
            result.insert("failed_when_result".into(), Value::Bool(failed));
            result.insert("failed".into(), Value::Bool(failed));
        }
        Ok(())
    }

    fn finish_skipped(&self, host: &str, delegated: Option<String>, register: Option<&str>) -> HostOutcome {
        let r = skipped_result();
        self.finish(host, delegated, r, register, Shown::default(), Some(Status::Skipped))
    }

    fn finish_failed(&self, host: &str, delegated: Option<String>, msg: String, shown: Shown) -> HostOutcome {
        self.finish(host, delegated, failed_result(msg), None, shown, None)
    }

    /// Register, apply facts, report, and say what to notify.
    fn finish(
        &self,
        host: &str,
        delegated: Option<String>,
        result: Map,
        register: Option<&str>,
        shown: Shown,
        status: Option<Status>,
    ) -> HostOutcome {
        let Shown { no_log, ignore } = shown;
        let status = status.unwrap_or_else(|| status_of(&result));
        if let Some(name) = register {
            self.shared.state.set_var(host, name, Value::Map(result.clone()));
            let mut vars = Map::new();
            // A no_log result is journaled censored: a resumed run sees what the user saw.
            vars.insert(name.to_string(), Value::Map(censor(&result, no_log)));
            self.shared.reporter.emit(Event::VarsChanged {
                host: host.to_string(),
                layer: "set_fact",
                vars,
            });
        }
        let looped = self.task.task.looping.is_some() && status != Status::Unreachable;
        if !(looped && status != Status::Failed) {
            self.emit(HostResult {
                host: host.to_string(),
                delegated: delegated.clone(),
                status,
                item: None,
                result: censor(&result, no_log),
                ignored: ignore.applies(status),
                show_result: self.task.task.action.module.name == "debug" && !looped,
                loop_summary: looped,
            });
        }
        let notify = if status == Status::Changed {
            self.task.task.notify.iter().map(|n| n.value.to_string()).collect()
        } else {
            Vec::new()
        };
        HostOutcome {
            host: host.to_string(),
            status,
            result,
            ignored: false,
            notify,
            delegated,
        }
    }
}

/// The variables with the result under evaluation bound to the `register` name.
fn bind_register(vars: &Arc<dyn Vars>, register: Option<&str>, result: &Map) -> Arc<dyn Vars> {
    let Some(name) = register else {
        return vars.clone();
    };
    let mut m = Map::new();
    m.insert(name.to_string(), Value::Map(result.clone()));
    Arc::new(crate::template::MapVars::over(vars.clone(), m))
}

pub fn skipped_result() -> Map {
    let mut m = Map::new();
    m.insert("changed".into(), Value::Bool(false));
    m.insert("skip_reason".into(), Value::str("Conditional result was False"));
    m.insert("skipped".into(), Value::Bool(true));
    m
}

pub fn failed_result(msg: String) -> Map {
    let mut m = Map::new();
    m.insert("changed".into(), Value::Bool(false));
    m.insert("failed".into(), Value::Bool(true));
    m.insert("msg".into(), Value::Str(msg));
    m
}

pub fn unreachable_result(msg: String) -> Map {
    let mut m = Map::new();
    m.insert("changed".into(), Value::Bool(false));
    m.insert("msg".into(), Value::Str(msg));
    m.insert("unreachable".into(), Value::Bool(true));
    m
}

pub fn status_of(r: &Map) -> Status {
    let flag = |k: &str| r.get(k).and_then(Value::as_bool_loose).unwrap_or(false);
    if flag("unreachable") {
        Status::Unreachable
    } else if flag("failed") {
        Status::Failed
    } else if flag("skipped") {
        Status::Skipped
    } else if flag("changed") {
        Status::Changed
    } else {
        Status::Ok
    }
}

/// What `no_log: true` lets through.
pub fn censor(r: &Map, no_log: bool) -> Map {
    if !no_log {
        return r.clone();
    }
    let mut m = Map::new();
    m.insert(
        "censored".into(),
        Value::str("the output has been hidden due to the fact that 'no_log: true' was specified for this result"),
    );
    for k in ["changed", "failed", "skipped", "unreachable"] {
        if let Some(v) = r.get(k) {
            m.insert(k.into(), v.clone());
        }
    }
    m
}

impl LoopItem {
    pub fn label(&self, templar: &crate::template::Templar, vars: &Arc<dyn Vars>) -> String {
        match &self.label {
            Some(l) => match templar.render_value(l, vars) {
                Ok(v) => display_item(&v),
                Err(_) => l.to_string(),
            },
            None => display_item(&self.value),
        }
    }
}

/// How an item shows in `(item=...)`: strings bare, others as Python would print them.
pub fn display_item(v: &Value) -> String {
    match v {
        Value::Str(s) | Value::Unsafe(s) => s.clone(),
        other => crate::output::pyjson::compact(other),
    }
}

/// Modules whose `ansible_facts` are plain variables that later loop items must see.
fn sets_variables(module: &str) -> bool {
    matches!(module, "set_fact" | "include_vars")
}
