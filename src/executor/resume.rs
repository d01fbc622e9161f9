//! `--resume`: what a previous run's journal says is already done (batches that ended with no
//! failure) and the variables its tasks left, so the new run skips the one and restores the
//! other before it starts.

use crate::value::{Map, Value};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

#[derive(Default)]
pub struct ResumeState {
    pub from: Option<PathBuf>,
    done: HashSet<(usize, usize)>,
    /// `(host, layer, vars)` in the order they happened.
    pub replay: Vec<(String, String, Map)>,
    /// `set_stats` results of the run being resumed, in order.
    pub stats: Vec<crate::output::events::StatsChange>,
    /// Digests recorded by the run being resumed: path → sha256.
    pub digests: Map,
}

impl ResumeState {
    pub fn batch_done(&self, play: usize, batch: usize) -> bool {
        self.done.contains(&(play, batch))
    }

    pub fn done_batches(&self) -> Vec<(usize, usize)> {
        let mut v: Vec<(usize, usize)> = self.done.iter().copied().collect();
        v.sort_unstable();
        v
    }

    /// Read a journal. Lines that do not parse (the last one of a killed run) are ignored.
    pub fn load(path: &Path) -> std::io::Result<ResumeState> {
        let text = std::fs::read_to_string(path)?;
        let mut st = ResumeState {
            from: Some(path.to_path_buf()),
            ..ResumeState::default()
        };
        for line in text.lines() {
            let Ok(json) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let Value::Map(m) = Value::from(json) else { continue };
            let int = |k: &str| match m.get(k) {
                Some(Value::Int(i)) => usize::try_from(*i).ok(),
                _ => None,
            };
            match m.get("event").and_then(Value::as_str) {
                Some("run_start") => {
                    if let Some(Value::Map(d)) = m.get("digests") {
                        st.digests = d.clone();
                    }
                }
                Some("batch_end") => {
                    if let (Some(p), Some(b)) = (int("play"), int("number")) {
                        if m.get("clean").and_then(Value::as_bool_loose).unwrap_or(false) {
                            st.done.insert((p, b));
                        } else {
                            st.done.remove(&(p, b));
                        }
                    }
                }
                Some("stats") => {
                    if let Some(c) = crate::output::events::StatsChange::from_journal(&m) {
                        st.stats.push(c);
                    }
                }
                Some("vars") => {
                    let host = m.get("host").and_then(Value::as_str).unwrap_or_default().to_string();
                    let layer = m.get("layer").and_then(Value::as_str).unwrap_or_default().to_string();
                    if let Some(Value::Map(vars)) = m.get("vars") {
                        st.replay.push((host, layer, vars.clone()));
                    }
                }
                _ => {}
            }
        }
        Ok(st)
    }
}

/// The journal of run `id` in `dir`, if there is one ("latest" is resolved by the caller,
/// per playbook).
pub fn find(dir: &Path, id: &str) -> Option<PathBuf> {
    let p = dir.join(format!("{id}.jsonl"));
    p.is_file().then_some(p)
}
