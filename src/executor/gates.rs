//! Health gates between batches (a play extension, `batch_gate:`): after each batch of a serial
//! play, every check runs on each host of that batch, retried with a delay until it passes; then
//! an optional pause. A check that still fails stops the run before the next batch starts,
//! naming the batch, the host and the check.

use super::play::{PlayRunner, merged_play_vars};
use super::task::TaskRun;
use super::vars::PlayVars;
use crate::output::events::{Event, Status};
use crate::plan::tree::{PlanNode, PlanTask};
use crate::syntax::playbook::Spanned;
use crate::template::{MapVars, Vars};
use crate::value::{Map, Value};
use futures::future::join_all;
use std::sync::Arc;
use std::time::Duration;

const DEFAULT_RETRIES: u64 = 10;
const DEFAULT_DELAY: u64 = 5;

pub async fn run_gates(
    runner: &PlayRunner<'_>,
    pvars: &Arc<PlayVars>,
    batch: &[String],
    number: usize,
) -> Result<(), String> {
    let Some(gate) = &runner.play.extensions.gate else {
        return Ok(());
    };
    let shared = &runner.shared;
    let vars: Arc<dyn Vars> = Arc::new(MapVars::new(merged_play_vars(pvars, shared)));
    let seconds = |v: &Option<Spanned<Value>>, default: u64, what: &str| -> Result<u64, String> {
        let Some(v) = v else { return Ok(default) };
        let r = shared
            .templar
            .render_value(&v.value, &vars)
            .map_err(|e| format!("batch_gate {what} at {}: {e}", v.span))?;
        match r {
            Value::Int(i) if i >= 0 => Ok(i as u64),
            other => other
                .to_string()
                .trim()
                .parse()
                .map_err(|_| format!("batch_gate {what} at {} must be a whole number, got '{other}'", v.span)),
        }
    };
    let retries = seconds(&gate.retries, DEFAULT_RETRIES, "retries")?;
    let delay = seconds(&gate.delay, DEFAULT_DELAY, "delay")?;
    let pause = seconds(&gate.pause, 0, "pause")?;

    let hosts: Vec<String> = batch
        .iter()
        .filter(|h| {
            let s = shared.state.get(h);
            !s.failed && !s.unreachable
        })
        .cloned()
        .collect();
    let mut checks = Vec::new();
    flatten(&runner.plan.tree.gate_checks, &mut checks);
    for check in checks {
        let label = check.label.clone();
        shared.reporter.emit(Event::TaskStart {
            name: format!("GATE after batch {number}: {label}"),
            handler: false,
        });
        let run = TaskRun {
            shared,
            play: pvars,
            task: check,
            label: &label,
        };
        let results = join_all(hosts.iter().map(|h| {
            let run = &run;
            async move {
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    let o = run.run(h).await;
                    let passed = !matches!(o.status, Status::Failed | Status::Unreachable) || o.ignored;
                    if passed || attempt > retries {
                        let message = o.result.get("msg").map(|m| m.to_string()).unwrap_or_default();
                        return (h.clone(), passed, message);
                    }
                    shared.reporter.emit(Event::Retry {
                        host: h.clone(),
                        task: format!("gate after batch {number}: {}", run.label),
                        retries_left: (retries + 1 - attempt) as u32,
                        result: Map::new(),
                    });
                    tokio::time::sleep(Duration::from_secs(delay)).await;
                }
            }
        }))
        .await;
        for (host, passed, message) in &results {
            shared.reporter.emit(Event::Gate {
                batch: number,
                host: host.clone(),
                check: label.clone(),
                passed: *passed,
                message: if *passed { String::new() } else { message.clone() },
            });
        }
        if let Some((host, _, message)) = results.iter().find(|(_, p, _)| !p) {
            for (h, p, _) in &results {
                if !p {
                    shared.state.update(h, |s| {
                        s.stats.failed += 1;
                        s.failed = true;
                    });
                }
            }
            return Err(format!(
                "health gate after batch {number} failed: check '{label}' on host {host} did not pass after {} tries{}; no further batch was started\n  = help: fix the host (or the check at {}), then continue with --resume (the batch runs again and its gate is checked before the next)",
                retries + 1,
                if message.is_empty() {
                    String::new()
                } else {
                    format!(" ({message})")
                },
                gate.span,
            ));
        }
    }
    if pause > 0 {
        shared.reporter.emit(Event::Progress {
            host: "gate".into(),
            message: format!("batch {number} passed its gate; pausing {pause}s before the next batch"),
        });
        tokio::time::sleep(Duration::from_secs(pause)).await;
    }
    Ok(())
}

fn flatten<'a>(nodes: &'a [PlanNode], out: &mut Vec<&'a PlanTask>) {
    for n in nodes {
        match n {
            PlanNode::Task(t) => out.push(t),
            PlanNode::Block(b) => flatten(&b.block, out),
        }
    }
}
