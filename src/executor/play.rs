//! One play: its hosts cut into batches; for each batch, facts, the task sections with
//! handlers flushed after each, Ansible's failure rules, and the health gates between batches.

use super::handlers::Handlers;
use super::shared::Shared;
use super::synthetic::synthetic_task;
use super::task::{HostOutcome, TaskRun};
use super::vars::{PlayVars, host_scope};
use crate::output::events::{Event, Status};
use crate::plan::compile::PlayPlan;
use crate::plan::tree::{PlanNode, PlanTask};
use crate::syntax::playbook::Play;
use crate::template::Vars;
use crate::value::{Map, Value};
use futures::future::{BoxFuture, join_all};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Semaphore;

/// How a play ended for the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlayEnd {
    /// Go on with the next play.
    Continue,
    /// Stop the whole run (every host of a batch failed, a gate failed, the failure limit was
    /// passed, or `any_errors_fatal`).
    Stop,
}

/// State of one batch while it runs.
#[derive(Default)]
pub struct BatchState {
    pub size: usize,
    pub failed: HashSet<String>,
    /// `meta: end_play` / `end_batch`: no more tasks in this batch.
    pub ended: bool,
    /// `meta: end_play`: no more batches either.
    pub end_play: bool,
    /// Set when the run must stop.
    pub abort: Option<String>,
    /// How many includes deep the tasks running now are.
    pub include_depth: usize,
}

pub struct PlayRunner<'a> {
    pub shared: Arc<Shared>,
    pub plan: &'a PlayPlan,
    pub play: &'a Play,
    pub forks: Arc<Semaphore>,
    /// `--start-at-task` not reached yet.
    pub waiting_for_start: &'a AtomicBool,
}

impl PlayRunner<'_> {
    pub async fn run(&self, base: &PlayVars) -> PlayEnd {
        let total = self.plan.batches.len();
        if self.plan.hosts.is_empty() {
            self.shared.reporter.emit(Event::PlayStart {
                play: self.plan.number,
                name: self.plan.name.clone(),
            });
            self.shared
                .reporter
                .emit(Event::Warning("no hosts matched; skipping this play".into()));
            return PlayEnd::Continue;
        }
        for (i, batch) in self.plan.batches.iter().enumerate() {
            let active: Vec<String> = batch
                .iter()
                .filter(|h| {
                    let s = self.shared.state.get(h);
                    !s.failed && !s.unreachable
                })
                .cloned()
                .collect();
            if self.shared.resume.batch_done(self.plan.number, i + 1) {
                // Finished cleanly in the run being resumed.
                continue;
            }
            if self.shared.stop.requested() {
                return PlayEnd::Stop;
            }
            self.shared.reporter.emit(Event::PlayStart {
                play: self.plan.number,
                name: self.plan.name.clone(),
            });
            if active.is_empty() {
                continue;
            }
            self.shared.reporter.emit(Event::BatchStart {
                play: self.plan.number,
                number: i + 1,
                total,
                hosts: active.clone(),
            });
            let pvars = Arc::new(batch_vars(base, &active, &self.shared.inventory));
            let mut state = BatchState {
                size: active.len(),
                ..BatchState::default()
            };
            let end = self.run_batch(&pvars, active, &mut state).await;
            // A batch is done only once its gate passed: --resume must not start the next
            // batch after a gate that failed, or that a killed run never finished.
            let gate = if state.abort.is_none() && end != PlayEnd::Stop && !state.end_play && i + 1 < total {
                super::gates::run_gates(self, &pvars, batch, i + 1).await
            } else {
                Ok(())
            };
            self.shared.reporter.emit(Event::BatchEnd {
                play: self.plan.number,
                number: i + 1,
                clean: state.failed.is_empty()
                    && state.abort.is_none()
                    && gate.is_ok()
                    && !self.shared.stop.requested(),
            });
            if let Some(reason) = state.abort {
                self.shared.reporter.emit(Event::Aborted { reason });
                return PlayEnd::Stop;
            }
            if end == PlayEnd::Stop {
                return PlayEnd::Stop;
            }
            if state.end_play {
                break;
            }
            if let Err(reason) = gate {
                self.shared.reporter.emit(Event::Aborted { reason });
                return PlayEnd::Stop;
            }
        }
        PlayEnd::Continue
    }

    async fn run_batch(&self, pvars: &Arc<PlayVars>, mut active: Vec<String>, state: &mut BatchState) -> PlayEnd {
        let handlers = Handlers::new(&self.plan.tree.handlers);
        if self.gather_facts(pvars) {
            let task = synthetic_task("Gathering Facts", "setup", Map::new(), &self.plan.span);
            let outcomes = self.run_task(pvars, &task, &active, false, state).await;
            active = self.settle(outcomes, active, state, true);
        }
        if self.strategy(pvars) == "free" {
            return self.run_free(pvars, active, state).await;
        }
        for (_, nodes) in &self.plan.tree.sections {
            if active.is_empty() || state.ended || state.abort.is_some() {
                break;
            }
            active = self.run_nodes(pvars, nodes, active, state, &handlers, true).await;
            if state.abort.is_some() {
                break;
            }
            active = handlers.flush(self, pvars, active, state).await;
        }
        if !state.failed.is_empty() && state.failed.len() >= state.size {
            self.shared.reporter.emit(Event::NoMoreHosts);
            return PlayEnd::Stop;
        }
        PlayEnd::Continue
    }

    /// `strategy:` as templated with play vars (`linear` unless said otherwise).
    fn strategy(&self, pvars: &Arc<PlayVars>) -> String {
        let Some(v) = self.play.keywords.get("strategy") else {
            return "linear".into();
        };
        let vars: Arc<dyn Vars> = Arc::new(crate::template::MapVars::new(merged_play_vars(pvars, &self.shared)));
        let name = self
            .shared
            .templar
            .render_value(&v.value, &vars)
            .map(|v| v.to_string())
            .unwrap_or_else(|_| "linear".into());
        name.trim_start_matches("ansible.builtin.").to_string()
    }

    /// `strategy: free`: every host goes through the play at its own pace, handlers included.
    async fn run_free(&self, pvars: &Arc<PlayVars>, active: Vec<String>, state: &mut BatchState) -> PlayEnd {
        let size = state.size;
        let runs = active.iter().map(|h| {
            let host = h.clone();
            async move {
                let handlers = Handlers::new(&self.plan.tree.handlers);
                let mut own = BatchState {
                    size,
                    ..BatchState::default()
                };
                let mut me = vec![host];
                for (_, nodes) in &self.plan.tree.sections {
                    if me.is_empty() || own.ended || own.abort.is_some() {
                        break;
                    }
                    me = self.run_nodes(pvars, nodes, me, &mut own, &handlers, true).await;
                    me = handlers.flush(self, pvars, me, &mut own).await;
                }
                own
            }
        });
        for own in join_all(runs).await {
            state.failed.extend(own.failed);
            state.end_play |= own.end_play;
            if state.abort.is_none() {
                state.abort = own.abort;
            }
        }
        if !state.failed.is_empty() && state.failed.len() >= state.size {
            self.shared.reporter.emit(Event::NoMoreHosts);
            return PlayEnd::Stop;
        }
        PlayEnd::Continue
    }

    fn gather_facts(&self, pvars: &Arc<PlayVars>) -> bool {
        let Some(g) = self.play.keywords.get("gather_facts") else {
            return crate::modules::table::implementation("setup").is_some();
        };
        let vars: Arc<dyn Vars> = Arc::new(crate::template::MapVars::new(merged_play_vars(pvars, &self.shared)));
        self.shared
            .templar
            .render_value(&g.value, &vars)
            .ok()
            .and_then(|v| v.as_bool_loose())
            .unwrap_or(true)
    }

    /// Run a list of nodes on `hosts`; returns the hosts still running at the end.
    pub fn run_nodes<'b>(
        &'b self,
        pvars: &'b Arc<PlayVars>,
        nodes: &'b [PlanNode],
        hosts: Vec<String>,
        state: &'b mut BatchState,
        handlers: &'b Handlers<'b>,
        top: bool,
    ) -> BoxFuture<'b, Vec<String>> {
        Box::pin(async move {
            let mut active = hosts;
            for node in nodes {
                if active.is_empty() || state.ended || state.abort.is_some() || self.shared.stop.requested() {
                    break;
                }
                match node {
                    PlanNode::Task(t) => {
                        if t.task.action.module.name == "meta" {
                            active = super::meta::run_meta(self, pvars, t, active, state, handlers).await;
                            continue;
                        }
                        if super::include::is_include(t) {
                            active = super::include::run_include(self, pvars, t, active, state, handlers, top).await;
                            continue;
                        }
                        let outcomes = self.run_task(pvars, t, &active, false, state).await;
                        handlers.notify(&outcomes);
                        active = self.settle(outcomes, active, state, top);
                    }
                    PlanNode::Block(b) => {
                        let entered = active.clone();
                        let ok = self
                            .run_nodes(pvars, &b.block, entered.clone(), state, handlers, false)
                            .await;
                        let failed: Vec<String> = entered
                            .iter()
                            .filter(|h| !ok.contains(h) && !self.shared.state.get(h).unreachable)
                            .cloned()
                            .collect();
                        let mut survivors = ok;
                        let mut still_failed = failed.clone();
                        if !b.rescue.is_empty() && !failed.is_empty() {
                            // As Ansible counts it: the failure that sends a host into rescue is
                            // a rescue, not a failure, whether or not the rescue then fails too.
                            for h in &failed {
                                state.failed.remove(h);
                                self.shared.state.update(h, |s| {
                                    s.stats.failed = s.stats.failed.saturating_sub(1);
                                    s.stats.rescued += 1;
                                });
                            }
                            let rescued = self
                                .run_nodes(pvars, &b.rescue, failed.clone(), state, handlers, false)
                                .await;
                            still_failed.retain(|h| !rescued.contains(h));
                            survivors.extend(rescued);
                        }
                        if !b.always.is_empty() {
                            let mut run_on: Vec<String> = entered
                                .iter()
                                .filter(|h| survivors.contains(h) || still_failed.contains(h))
                                .cloned()
                                .collect();
                            run_on.retain(|h| !self.shared.state.get(h).unreachable);
                            let after = self
                                .run_nodes(pvars, &b.always, run_on.clone(), state, handlers, false)
                                .await;
                            survivors.retain(|h| after.contains(h));
                        }
                        let mut next: Vec<String> = entered.iter().filter(|h| survivors.contains(h)).cloned().collect();
                        if top {
                            for h in entered.iter().filter(|h| !next.contains(h)) {
                                self.mark_failed(h, state);
                            }
                            self.check_limits(state, &next);
                        }
                        next.dedup();
                        active = next;
                    }
                }
            }
            active
        })
    }

    fn mark_failed(&self, host: &str, state: &mut BatchState) {
        state.failed.insert(host.to_string());
        self.shared.state.update(host, |s| {
            if !s.unreachable {
                s.failed = true;
            }
        });
    }

    /// Drop failed hosts from `active`; at the top level they fail for the rest of the run.
    pub fn settle(
        &self,
        outcomes: Vec<HostOutcome>,
        active: Vec<String>,
        state: &mut BatchState,
        top: bool,
    ) -> Vec<String> {
        let mut gone = HashSet::new();
        for o in &outcomes {
            if o.failed() || (o.unreachable() && !o.ignored) {
                gone.insert(o.host.clone());
                if o.unreachable() {
                    self.shared.state.update(&o.host, |s| s.unreachable = true);
                }
                if top {
                    self.mark_failed(&o.host, state);
                } else {
                    state.failed.insert(o.host.clone());
                }
            }
        }
        let remaining: Vec<String> = active.into_iter().filter(|h| !gone.contains(h)).collect();
        if top {
            self.check_limits(state, &remaining);
        }
        remaining
    }

    /// `any_errors_fatal` and `max_fail_percentage`, checked after each task.
    fn check_limits(&self, state: &mut BatchState, remaining: &[String]) {
        if state.failed.is_empty() {
            return;
        }
        let kw = |name: &str| self.play.keywords.get(name).map(|v| v.value.clone());
        if kw("any_errors_fatal").and_then(|v| v.as_bool_loose()).unwrap_or(false) {
            state.abort = Some(format!(
                "any_errors_fatal: {} failed, so the play stops for every host of the batch",
                sorted(&state.failed).join(", ")
            ));
            for h in remaining {
                self.shared.state.update(h, |s| s.failed = true);
            }
            return;
        }
        if let Some(limit) = kw("max_fail_percentage").and_then(|v| match v {
            Value::Int(i) => Some(i as f64),
            Value::Float(f) => Some(f),
            other => other.to_string().trim().trim_end_matches('%').parse().ok(),
        }) {
            let pct = state.failed.len() as f64 * 100.0 / state.size.max(1) as f64;
            if pct > limit {
                state.abort = Some(format!(
                    "max_fail_percentage {limit}% exceeded: {} of {} hosts of the batch failed ({})",
                    state.failed.len(),
                    state.size,
                    sorted(&state.failed).join(", ")
                ));
            }
        }
    }

    /// Run one task on `hosts` (at most `forks` at once) and count the results.
    pub async fn run_task(
        &self,
        pvars: &Arc<PlayVars>,
        t: &PlanTask,
        hosts: &[String],
        handler: bool,
        _state: &mut BatchState,
    ) -> Vec<HostOutcome> {
        if !t.selected || t.role.as_ref().is_some_and(|r| r.duplicate) || hosts.is_empty() {
            return Vec::new();
        }
        if self.waiting_for_start.load(Ordering::Relaxed) {
            let wanted = self.shared.opts.start_at_task.clone().unwrap_or_default();
            let name = t.task.name.as_ref().map(|n| n.value.to_string()).unwrap_or_default();
            if t.label == wanted || name == wanted {
                self.waiting_for_start.store(false, Ordering::Relaxed);
            } else {
                return Vec::new();
            }
        }
        let label = self.task_label(pvars, t, hosts);
        self.shared.reporter.emit(Event::TaskStart {
            name: label.clone(),
            handler,
        });
        let Some(first) = hosts.first() else {
            return Vec::new();
        };
        let first_vars: Arc<dyn Vars> = Arc::new(host_scope(&self.shared, pvars, first, Some(t), &[]));
        // pause and add_host act on the run, not a host: once per batch, as Ansible does.
        let bypass = matches!(t.task.action.module.name, "pause" | "add_host");
        let run_once = bypass || keyword_bool(&self.shared, t, "run_once", &first_vars);
        let throttle = t
            .keyword("throttle")
            .and_then(|v| v.value.to_string().parse::<usize>().ok())
            .filter(|n| *n > 0);
        let targets: Vec<String> = if run_once { vec![first.clone()] } else { hosts.to_vec() };
        let throttle_sem = throttle.map(|n| Arc::new(Semaphore::new(n)));
        let run = TaskRun {
            shared: &self.shared,
            play: pvars,
            task: t,
            label: &label,
        };
        let futures = targets.iter().map(|h| {
            let forks = self.forks.clone();
            let th = throttle_sem.clone();
            let run = &run;
            async move {
                let _permit = forks.acquire_owned().await.ok();
                let _t = match th {
                    Some(s) => s.acquire_owned().await.ok(),
                    None => None,
                };
                run.run(h).await
            }
        });
        let mut outcomes = join_all(futures).await;
        let no_log = |h: &str| {
            let vars: Arc<dyn Vars> = Arc::new(host_scope(&self.shared, pvars, h, Some(t), &[]));
            keyword_bool(&self.shared, t, "no_log", &vars)
        };
        super::custom_stats::record(&self.shared, &label, &outcomes, run_once.then_some(hosts), &no_log);
        // The recap counts a run_once result only for the host it ran on, as ansible-playbook
        // does; the copies below still decide what happens to the rest of the batch.
        self.count(&outcomes);
        if run_once && let Some(first) = outcomes.first().cloned() {
            // run_once: the result (and what it registered) stands for every host of the batch.
            let register = t.task.keywords.get("register").map(|r| r.value.to_string());
            for h in hosts.iter().skip(1) {
                if let Some(name) = &register {
                    self.shared.state.set_var(h, name, Value::Map(first.result.clone()));
                }
                outcomes.push(HostOutcome {
                    host: h.clone(),
                    ..first.clone()
                });
            }
        }
        super::effects::apply(&self.shared, t, &outcomes, &no_log);
        outcomes
    }

    /// Add results to the hosts' recap counters.
    pub fn count(&self, outcomes: &[HostOutcome]) {
        for o in outcomes {
            self.shared.state.update(&o.host, |s| match o.status {
                Status::Ok => s.stats.ok += 1,
                Status::Changed => {
                    s.stats.ok += 1;
                    s.stats.changed += 1;
                }
                Status::Skipped => s.stats.skipped += 1,
                Status::Failed if o.ignored => {
                    s.stats.ok += 1;
                    s.stats.ignored += 1;
                }
                Status::Failed => s.stats.failed += 1,
                Status::Unreachable if o.ignored => s.stats.skipped += 1,
                Status::Unreachable => s.stats.unreachable += 1,
            });
        }
    }

    /// The task's name as shown: templated with the first host's variables when it can be.
    pub fn task_label(&self, pvars: &Arc<PlayVars>, t: &PlanTask, hosts: &[String]) -> String {
        let Some(name) = t.task.name.as_ref().and_then(|n| n.value.as_str().map(str::to_string)) else {
            // Unnamed: the action, with the role in front as ansible-playbook prints it.
            return match &t.role {
                Some(r) if !t.label.contains(" : ") => format!("{} : {}", r.via.name, t.label),
                _ => t.label.clone(),
            };
        };
        let first = hosts.first().map(String::as_str);
        let rendered = if let (true, Some(first)) = (crate::template::Templar::is_template(&name), first) {
            let vars: Arc<dyn Vars> = Arc::new(host_scope(&self.shared, pvars, first, Some(t), &[]));
            self.shared
                .templar
                .render_str(&name, &vars)
                .map(|v| v.to_string())
                .unwrap_or(name)
        } else {
            name
        };
        match &t.role {
            Some(r) if t.task.action.module.name != "include_role" => format!("{} : {rendered}", r.via.name),
            _ => rendered,
        }
    }
}

fn sorted(s: &HashSet<String>) -> Vec<String> {
    let mut v: Vec<String> = s.iter().cloned().collect();
    v.sort();
    v
}

pub fn keyword_bool(shared: &Shared, t: &PlanTask, name: &str, vars: &Arc<dyn Vars>) -> bool {
    t.keyword(name)
        .and_then(|v| shared.templar.render_value(&v.value, vars).ok())
        .and_then(|v| v.as_bool_loose())
        .unwrap_or(false)
}

/// The play's variables for a batch: `ansible_play_batch` and friends set.
fn batch_vars(base: &PlayVars, active: &[String], inventory: &super::inventory::RunInventory) -> PlayVars {
    let mut magic = (*base.magic).clone();
    let generation = inventory.generation();
    magic.insert("groups".into(), (*inventory.groups_var()).clone());
    let list = Value::List(active.iter().map(|h| Value::str(h.clone())).collect());
    magic.insert("ansible_play_batch".into(), list.clone());
    magic.insert("ansible_play_hosts".into(), list.clone());
    magic.insert("play_hosts".into(), list);
    PlayVars {
        role_defaults: base.role_defaults.clone(),
        role_vars: base.role_vars.clone(),
        play_vars: base.play_vars.clone(),
        vars_files: base.vars_files.clone(),
        magic: Arc::new(magic),
        inventory_generation: generation,
    }
}

/// Play vars and extra vars only: what play keywords see.
pub fn merged_play_vars(pvars: &PlayVars, shared: &Shared) -> Map {
    let mut m = (*pvars.play_vars).clone();
    for (k, v) in pvars
        .vars_files
        .iter()
        .chain(shared.extra_vars.iter())
        .chain(pvars.magic.iter())
    {
        m.insert(k.clone(), v.clone());
    }
    m
}
