//! What every task of a run shares: the templar, the inventory, the mutable run state, the
//! connections and the reporter.

use super::connections::ConnectionPool;
use super::inventory::RunInventory;
use super::options::RunOptions;
use super::state::RunState;
use crate::output::reporter::Reporter;
use crate::template::Templar;
use crate::value::Map;
use std::sync::Arc;

pub struct Shared {
    pub templar: Templar,
    pub inventory: RunInventory,
    pub state: RunState,
    pub extra_vars: Arc<Map>,
    pub opts: RunOptions,
    pub conns: ConnectionPool,
    pub reporter: Reporter,
    /// Background jobs of `async` tasks with `poll: 0`.
    pub jobs: super::jobs::Jobs,
    /// Set by the first Ctrl-C/SIGTERM: nothing new starts.
    pub stop: super::interrupt::StopFlag,
    /// `set_stats` results so far (with those of the run being resumed).
    pub custom_stats: std::sync::Mutex<super::custom_stats::CustomStats>,
    /// What the run being resumed already did (empty for a fresh run).
    pub resume: super::resume::ResumeState,
}
