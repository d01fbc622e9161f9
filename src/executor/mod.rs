//! The executor: runs compiled plays on hosts. Plays in order; each play's batches in order;
//! in a batch, each task on every active host at once (up to `--forks`), as Ansible's linear
//! strategy does. All mutable run state lives in [`state::RunState`] behind [`shared::Shared`].

mod action;
mod become_;
pub mod connections;
pub mod custom_stats;
mod effects;
mod env_connection;
mod fact_names;
mod gates;
mod handlers;
mod include;
pub mod interrupt;
pub mod inventory;
pub mod jobs;
pub mod journal;
mod loops;
mod meta;
pub mod options;
mod play;
pub mod preflight;
pub mod resume;
pub mod shared;
pub mod state;
mod synthetic;
mod task;
pub mod vars;

use crate::output::events::Event;
use crate::plan::compile::{PlayPlan, PlaybookPlan};
use crate::plan::tree::PlanNode;
use crate::value::{Map, Value};
use play::{PlayEnd, PlayRunner};
use shared::Shared;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use tokio::sync::Semaphore;
use vars::PlayVars;

/// Exit statuses of a run, as ansible-playbook's.
pub mod status {
    pub const OK: i32 = 0;
    pub const HOST_FAILED: i32 = 2;
    pub const HOST_UNREACHABLE: i32 = 4;
    /// Stopped by Ctrl-C or SIGTERM.
    pub const INTERRUPTED: i32 = 130;
}

/// Run every play of every playbook; returns the exit status.
pub async fn run(plans: &[PlaybookPlan], shared: Arc<Shared>) -> i32 {
    restore(&shared);
    let watcher = {
        let shared = shared.clone();
        tokio::spawn(async move {
            loop {
                interrupt::next_signal().await;
                if shared.stop.request() {
                    // Second signal: stop now. Every journal line written so far is on disk.
                    std::process::exit(status::INTERRUPTED);
                }
                shared.reporter.emit(Event::Interrupted);
            }
        })
    };
    let forks = Arc::new(Semaphore::new(shared.opts.forks.max(1)));
    let waiting = AtomicBool::new(shared.opts.start_at_task.is_some());
    let mut stopped = false;
    'plays: for pb in plans {
        shared.reporter.emit(Event::PlaybookStart {
            path: pb.path.display().to_string(),
        });
        for plan in &pb.plays {
            let Some(play) = pb.playbook.plays.get(plan.number - 1) else {
                continue;
            };
            let base = base_vars(pb, plan, play, &shared);
            let runner = PlayRunner {
                shared: shared.clone(),
                plan,
                play,
                forks: forks.clone(),
                waiting_for_start: &waiting,
            };
            if runner.run(&base).await == PlayEnd::Stop {
                stopped = true;
                break 'plays;
            }
        }
    }
    let _ = stopped;
    watcher.abort();
    shared.conns.close_all().await;
    let recap = shared.state.recap();
    shared.reporter.emit(Event::Recap(recap.clone()));
    let failed = recap.iter().any(|(_, s)| s.failed > 0);
    let unreachable = recap.iter().any(|(_, s)| s.unreachable > 0);
    if failed || unreachable {
        write_retry_file(plans, &shared);
    }
    let code = if shared.stop.requested() {
        status::INTERRUPTED
    } else if failed || shared.state.failed_hosts().iter().any(|h| shared.state.get(h).failed) {
        status::HOST_FAILED
    } else if unreachable {
        status::HOST_UNREACHABLE
    } else {
        status::OK
    };
    custom_stats::report_end(&shared, code);
    code
}

/// A resumed run starts from the variables the earlier run's tasks left, and records them
/// (and the batches already done) in its own journal so it can be resumed in turn.
fn restore(shared: &Shared) {
    for (host, layer, vars) in &shared.resume.replay {
        match layer.as_str() {
            // Journaled as JSON, where `Unsafe` reads back as a plain string: facts and
            // registered values are host data, set_fact values template output; none is
            // templated or evaluated again (a set_fact literal included: fail closed).
            "facts" => {
                shared
                    .state
                    .merge_facts(host, &crate::template::untrusted_result(vars.clone()));
            }
            "include_vars" => shared.state.update(host, |s| {
                let m = Arc::make_mut(&mut s.include_vars);
                m.extend(vars.iter().map(|(k, v)| (k.clone(), v.clone())));
            }),
            _ => {
                for (k, v) in crate::template::untrusted_result(vars.clone()) {
                    shared.state.set_var(host, &k, v);
                }
            }
        }
        let layer = match layer.as_str() {
            "facts" => "facts",
            "include_vars" => "include_vars",
            _ => "set_fact",
        };
        shared.reporter.emit(Event::VarsChanged {
            host: host.clone(),
            layer,
            vars: vars.clone(),
        });
    }
    custom_stats::restore(shared);
    for (play, number) in shared.resume.done_batches() {
        shared.reporter.emit(Event::BatchEnd {
            play,
            number,
            clean: true,
        });
    }
}

/// `<playbook>.retry` beside the first playbook, listing the hosts that failed, for
/// `--limit @file`.
fn write_retry_file(plans: &[PlaybookPlan], shared: &Shared) {
    if !shared.opts.retry_files {
        return;
    }
    let Some(pb) = plans.first() else { return };
    let path = pb.path.with_extension("retry");
    let mut text = shared.state.failed_hosts().join("\n");
    text.push('\n');
    if std::fs::write(&path, text).is_ok() {
        shared.reporter.emit(Event::RetryFile {
            path: path.display().to_string(),
        });
    }
}

/// Variables fixed for the whole play: every role's defaults and vars (Ansible exposes them
/// play-wide), play vars, vars_files, and the magic variables that do not depend on a host.
fn base_vars(pb: &PlaybookPlan, plan: &PlayPlan, play: &crate::syntax::playbook::Play, shared: &Shared) -> PlayVars {
    let mut defaults = Map::new();
    let mut role_vars = Map::new();
    let mut seen = std::collections::HashSet::new();
    fn walk<'a>(nodes: &'a [PlanNode], out: &mut Vec<&'a Arc<crate::plan::roles::RoleInstance>>) {
        for n in nodes {
            match n {
                PlanNode::Task(t) => {
                    if let Some(r) = &t.role {
                        out.push(r);
                    }
                }
                PlanNode::Block(b) => {
                    walk(&b.block, out);
                    walk(&b.rescue, out);
                    walk(&b.always, out);
                }
            }
        }
    }
    let mut roles = Vec::new();
    for (_, nodes) in &plan.tree.sections {
        walk(nodes, &mut roles);
    }
    for r in roles {
        if seen.insert(r.role.path.clone()) {
            defaults.extend(r.role.defaults.iter().map(|(k, v)| (k.clone(), v.clone())));
            role_vars.extend(r.role.vars.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    }
    let play_vars: Map = play.vars.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect();
    let mut files = Map::new();
    for (_, m) in &plan.vars_files {
        files.extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    let dir = pb.playbook.path.parent().unwrap_or(&play.dir);
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let hosts = Value::List(plan.hosts.iter().map(|h| Value::str(h.clone())).collect());
    let mut magic = Map::new();
    magic.insert("playbook_dir".into(), Value::str(dir.to_string_lossy().into_owned()));
    magic.insert("ansible_play_name".into(), Value::str(plan.name.clone()));
    magic.insert("ansible_play_hosts_all".into(), hosts);
    magic.insert("ansible_check_mode".into(), Value::Bool(shared.opts.check));
    magic.insert("ansible_diff_mode".into(), Value::Bool(shared.opts.diff));
    magic.insert("ansible_forks".into(), Value::Int(shared.opts.forks as i64));
    let strs = |v: &[String]| Value::List(v.iter().map(|s| Value::str(s.clone())).collect());
    magic.insert(
        "ansible_run_tags".into(),
        if shared.opts.tags.is_empty() {
            Value::List(vec![Value::str("all")])
        } else {
            strs(&shared.opts.tags)
        },
    );
    magic.insert("ansible_skip_tags".into(), strs(&shared.opts.skip_tags));
    let mut version = Map::new();
    version.insert("full".into(), Value::str("2.19.14"));
    version.insert("major".into(), Value::Int(2));
    version.insert("minor".into(), Value::Int(19));
    version.insert("revision".into(), Value::Int(14));
    version.insert("string".into(), Value::str("2.19.14"));
    magic.insert("ansible_version".into(), Value::Map(version));
    PlayVars {
        role_defaults: Arc::new(defaults),
        role_vars: Arc::new(role_vars),
        play_vars: Arc::new(play_vars),
        vars_files: Arc::new(files),
        magic: Arc::new(magic),
        inventory_generation: u64::MAX,
    }
}
