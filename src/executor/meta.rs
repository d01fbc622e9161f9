//! `meta:` tasks act on the run itself: flush handlers, end the play, batch or host, clear
//! facts or host errors, reset a connection.

use super::handlers::Handlers;
use super::play::{BatchState, PlayRunner};
use super::task::task_place;
use super::vars::{PlayVars, host_scope};
use crate::output::events::{Event, HostResult, Status};
use crate::plan::tree::PlanTask;
use crate::template::Vars;
use crate::value::Map;
use std::sync::Arc;

pub async fn run_meta(
    runner: &PlayRunner<'_>,
    pvars: &Arc<PlayVars>,
    t: &PlanTask,
    active: Vec<String>,
    state: &mut BatchState,
    handlers: &Handlers<'_>,
) -> Vec<String> {
    if !t.selected && !t.tags.contains("always") {
        return active;
    }
    let what = t
        .task
        .action
        .args
        .get("_raw_params")
        .map(|v| v.to_string())
        .unwrap_or_default();
    // Hosts for which the task's conditions hold.
    let shared = &runner.shared;
    let applies: Vec<String> = active
        .iter()
        .filter(|h| {
            let vars: Arc<dyn Vars> = Arc::new(host_scope(shared, pvars, h, Some(t), &[]));
            t.inherited_when
                .iter()
                .chain(t.task.when.iter())
                .all(|c| shared.templar.eval_when(&c.value, &vars).unwrap_or(false))
        })
        .cloned()
        .collect();
    if applies.is_empty() && !t.task.when.is_empty() {
        return active;
    }
    match what.as_str() {
        "flush_handlers" => handlers.flush(runner, pvars, active, state).await,
        "end_play" => {
            state.ended = true;
            state.end_play = true;
            active
        }
        "end_batch" => {
            state.ended = true;
            active
        }
        "end_host" => {
            for h in &applies {
                shared.reporter.emit(Event::Result(HostResult {
                    host: h.clone(),
                    delegated: None,
                    status: Status::Skipped,
                    item: None,
                    result: Map::new(),
                    ignored: false,
                    show_result: false,
                    loop_summary: false,
                }));
            }
            active.into_iter().filter(|h| !applies.contains(h)).collect()
        }
        "clear_facts" => {
            for h in &applies {
                shared.state.update(h, |s| {
                    s.facts = Arc::default();
                    s.fact_vars = Arc::default();
                });
            }
            active
        }
        "clear_host_errors" => {
            for h in &applies {
                shared.state.update(h, |s| s.failed = false);
                state.failed.remove(h);
            }
            active
        }
        "reset_connection" => {
            for h in &applies {
                shared.conns.reset(h).await;
            }
            active
        }
        "noop" | "refresh_inventory" | "end_role" => active,
        other => {
            shared.reporter.emit(Event::Warning(format!(
                "meta: '{other}' is not a meta action play knows (task at {}); it was ignored",
                task_place(t)
            )));
            active
        }
    }
}
