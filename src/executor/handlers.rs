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
    /// Every name each handler answers to: its name, `role : name`, its `listen` topics.
    names: Vec<Vec<String>>,
    pending: Mutex<Vec<IndexSet<String>>>,
}

impl<'a> Handlers<'a> {
    pub fn new(nodes: &'a [PlanNode]) -> Handlers<'a> {
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
        let mut tasks = Vec::new();
        walk(nodes, &mut tasks);
        let names = tasks
            .iter()
            .map(|t| {
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
            })
            .collect();
        let pending = Mutex::new(vec![IndexSet::new(); tasks.len()]);
        Handlers { tasks, names, pending }
    }

    /// Record the notifications of a task's outcomes.
    pub fn notify(&self, outcomes: &[HostOutcome]) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        for o in outcomes {
            for wanted in &o.notify {
                for (i, names) in self.names.iter().enumerate() {
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
                let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
                pending
                    .iter_mut()
                    .enumerate()
                    .find(|(_, s)| !s.is_empty())
                    .map(|(i, s)| (i, std::mem::take(s)))
            };
            let Some((i, hosts)) = next else {
                return active;
            };
            let Some(task) = self.tasks.get(i) else {
                return active;
            };
            let targets: Vec<String> = hosts.into_iter().filter(|h| force || active.contains(h)).collect();
            if targets.is_empty() {
                continue;
            }
            let outcomes = runner.run_task(pvars, task, &targets, true, state).await;
            self.notify(&outcomes);
            active = runner.settle(outcomes, active, state, true);
        }
    }
}
