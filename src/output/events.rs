//! The events of a run. The executor emits them; printers turn them into text. Results inside
//! events are already censored (`no_log`, vault values), so no printer can leak a secret.

use crate::value::Map;

/// How one host fared on one task (or one loop item).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    Changed,
    Failed,
    Skipped,
    Unreachable,
}

impl Status {
    pub fn word(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Changed => "changed",
            Status::Failed => "failed",
            Status::Skipped => "skipping",
            Status::Unreachable => "unreachable",
        }
    }
}

/// A host's result for a task or a loop item.
#[derive(Clone, Debug)]
pub struct HostResult {
    pub host: String,
    /// `delegate_to` target, shown as `[host -> target]`.
    pub delegated: Option<String>,
    pub status: Status,
    /// The loop item's label, for per-item lines.
    pub item: Option<String>,
    /// The result as registered (censored when `no_log`).
    pub result: Map,
    /// A failure that `ignore_errors` let pass.
    pub ignored: bool,
    /// Always print the result (debug does), not only with `-v`.
    pub show_result: bool,
    /// A summary line for a looped task (after its items): printed only when it failed.
    pub loop_summary: bool,
}

/// One `set_stats` result taking effect, for the journal (a resumed run and `play runs`
/// replay them). Values are already censored (`no_log`, vault).
#[derive(Clone, Debug, PartialEq)]
pub struct StatsChange {
    /// The host the task ran for.
    pub host: String,
    /// The task's name as shown.
    pub task: String,
    /// Kept per host (else run-wide).
    pub per_host: bool,
    /// Combined with earlier values (else replacing them).
    pub aggregate: bool,
    pub data: Map,
}

/// Something a run did that is still to be undone (the `undo` custom stat).
#[derive(Clone, Debug, PartialEq)]
pub struct Obligation {
    /// Set for a per-host stat; `None` for a run-wide one.
    pub host: Option<String>,
    pub name: String,
    pub description: String,
}

/// Per-host counters for the recap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub ok: u32,
    pub changed: u32,
    pub unreachable: u32,
    pub failed: u32,
    pub skipped: u32,
    pub rescued: u32,
    pub ignored: u32,
}

#[derive(Clone, Debug)]
pub enum Event {
    PlaybookStart {
        path: String,
    },
    PlayStart {
        /// 1-based, counting imported plays.
        play: usize,
        name: String,
    },
    /// A play starting one of its batches (every play has at least one).
    BatchStart {
        play: usize,
        number: usize,
        total: usize,
        hosts: Vec<String>,
    },
    /// A batch ended; `clean` when no host of it failed (a resumed run skips it).
    BatchEnd {
        play: usize,
        number: usize,
        clean: bool,
    },
    /// Variables a task left on a host (`register`, `set_fact`, facts, `include_vars`), for
    /// the journal: a resumed run restores them. Never printed.
    VarsChanged {
        host: String,
        /// `set_fact` (also registered results), `facts` or `include_vars`.
        layer: &'static str,
        vars: Map,
    },
    /// Custom stats a task set (`set_stats`), for the journal. Never printed.
    StatsChanged(StatsChange),
    /// The run ended (after the recap): what it leaves to undo, with its exit status.
    Undo {
        outstanding: Vec<Obligation>,
        status: i32,
    },
    /// The run was interrupted (Ctrl-C, SIGTERM): nothing new starts.
    Interrupted,
    TaskStart {
        name: String,
        handler: bool,
    },
    Result(HostResult),
    /// An `include_tasks`/`include_role` brought in `what` (a file's path, a role's name)
    /// for `hosts` (with the loop item's label when it loops).
    Included {
        what: String,
        hosts: Vec<String>,
        item: Option<String>,
    },
    /// An `until` loop or a gate going round again.
    Retry {
        host: String,
        task: String,
        retries_left: u32,
        result: Map,
    },
    /// A long wait still going (async polls, pauses, gate delays).
    Progress {
        host: String,
        message: String,
    },
    /// A health gate between batches: passed or failed for one host.
    Gate {
        batch: usize,
        host: String,
        check: String,
        passed: bool,
        message: String,
    },
    Warning(String),
    /// The play stopped because no host is left to run on.
    NoMoreHosts,
    /// The whole run stops early (a gate failed, max_fail_percentage, any_errors_fatal...).
    Aborted {
        reason: String,
    },
    Recap(Vec<(String, Stats)>),
    /// Where `--limit @file` can pick up the failed hosts.
    RetryFile {
        path: String,
    },
}

/// Anything that prints events.
pub trait Sink: Send {
    fn emit(&mut self, event: &Event);
}
