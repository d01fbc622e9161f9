//! Handlers: which hosts notified which handler, and running them in definition order when
//! handlers are flushed (after each section, on `meta: flush_handlers`).

use super::play::{BatchState, PlayRunner};
use super::task::HostOutcome;
use super::vars::PlayVars;
use crate::plan::tree::{PlanNode, PlanTask};
use indexmap::IndexSet;
use std::sync::{Arc, Mutex};

pub struct Handlers<'a> {
    tasks: Vec<&'a PlanTask>,
    /// Handlers of roles brought in by `include_role` while the play runs, after the
    /// play's own (owned: they were built at run time).
    added: Mutex<Vec<PlanTask>>,
    /// Every name each handler answers to: its name, `role : name`, its `listen` topics.
    names: Mutex<Vec<Vec<String>>>,
    pending: Mutex<Vec<IndexSet<String>>>,
}

fn walk<'a>(nodes: &'a [PlanNode], out: &mut Vec<&'a PlanTask>) {
    for n in nodes {
        match n {
            PlanNode::Task(t) => out.push(t),
            PlanNode::Block(b) => {
                walk(&b.block, out);
                walk(&b.rescue, out);
                walk(&b.always, out);
            }
        }
    }
}

fn names_of(t: &PlanTask) -> Vec<String> {
    let mut n = Vec::new();
    if let Some(name) = &t.task.name {
        let name = name.value.to_string();
        if let Some(r) = &t.role {
            n.push(format!("{} : {name}", r.via.name));
        }
        n.push(name);
    }
    n.extend(t.task.listen.iter().map(|l| l.value.to_string()));
    n
}

impl<'a> Handlers<'a> {
    pub fn new(nodes: &'a [PlanNode]) -> Handlers<'a> {
        let mut tasks = Vec::new();
        walk(nodes, &mut tasks);
        let names = tasks.iter().map(|t| names_of(t)).collect();
        let pending = Mutex::new(vec![IndexSet::new(); tasks.len()]);
        Handlers {
            tasks,
            added: Mutex::new(Vec::new()),
            names: Mutex::new(names),
            pending,
        }
    }

    /// Handlers of a role included at run time: notified by name like the play's own.
    pub fn add(&self, nodes: &[PlanNode]) {
        let mut found = Vec::new();
        walk(nodes, &mut found);
        let mut added = lock(&self.added);
        let mut names = lock(&self.names);
        let mut pending = lock(&self.pending);
        for t in found {
            names.push(names_of(t));
            pending.push(IndexSet::new());
            added.push(t.clone());
        }
    }

    /// The handler at `i`: the play's own first, then those added.
    fn task(&self, i: usize) -> Option<PlanTask> {
        match self.tasks.get(i) {
            Some(t) => Some((*t).clone()),
            None => i
                .checked_sub(self.tasks.len())
                .and_then(|j| lock(&self.added).get(j).cloned()),
        }
    }

    /// Record the notifications of a task's outcomes.
    pub fn notify(&self, outcomes: &[HostOutcome]) {
        let names = lock(&self.names);
        let mut pending = lock(&self.pending);
        for o in outcomes {
            for wanted in &o.notify {
                for (i, names) in names.iter().enumerate() {
                    if names.iter().any(|n| n == wanted)
                        && let Some(set) = pending.get_mut(i)
                    {
                        set.insert(o.host.clone());
                    }
                }
            }
        }
    }

    /// Run every notified handler, in definition order, until none is pending.
    pub async fn flush(
        &self,
        runner: &PlayRunner<'_>,
        pvars: &Arc<PlayVars>,
        mut active: Vec<String>,
        state: &mut BatchState,
    ) -> Vec<String> {
        let force = runner.shared.opts.force_handlers
            || runner
                .play
                .keywords
                .get("force_handlers")
                .and_then(|v| v.value.as_bool_loose())
                .unwrap_or(false);
        loop {
            let next = {
                let mut pending = lock(&self.pending);
                pending
                    .iter_mut()
                    .enumerate()
                    .find(|(_, s)| !s.is_empty())
                    .map(|(i, s)| (i, std::mem::take(s)))
            };
            let Some((i, hosts)) = next else {
                return active;
            };
            let Some(task) = self.task(i) else {
                return active;
            };
            let targets: Vec<String> = hosts.into_iter().filter(|h| force || active.contains(h)).collect();
            if targets.is_empty() {
                continue;
            }
            let outcomes = runner.run_task(pvars, &task, &targets, true, state).await;
            self.notify(&outcomes);
            active = runner.settle(outcomes, active, state, true);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
