//! The run journal: one JSON object per line under `.play/runs/` beside the playbook (or
//! `$PLAY_STATE_DIR`), appended and flushed as the run goes, so a killed engine leaves a usable
//! record. It holds the run's identity (playbook and inventory digests, extra vars with secrets
//! redacted), every batch's start and end, every task outcome per host, the variables tasks
//! left behind, and every `set_stats` result (undo obligations among them); vault values and
//! `no_log` results are censored before they are written.

use crate::output::events::{Event, Sink};
use crate::output::json_lines::{censor_vault, to_json};
use crate::value::{Map, Value};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct Journal {
    pub path: PathBuf,
    file: std::fs::File,
}

/// Journals kept per directory; older ones are removed when a run starts.
const KEEP_RUNS: usize = 200;

/// Remove all but the newest `keep - 1` journals (the run starting now makes `keep`).
fn prune(dir: &Path, keep: usize) {
    let runs = crate::output::runs_view::list(dir);
    for old in runs.iter().skip(keep.saturating_sub(1)) {
        let _ = std::fs::remove_file(old);
    }
}

/// Where journals of runs of `playbook` live.
pub fn runs_dir(playbook: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os("PLAY_STATE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("runs");
    }
    let base = playbook
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    base.join(".play").join("runs")
}

/// A new run id: sortable by time.
pub fn new_run_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    format!("{now}-{}", std::process::id())
}

/// sha256 of a file's bytes (empty when unreadable).
pub fn digest(path: &Path) -> String {
    match std::fs::read(path) {
        Ok(bytes) => hex::encode(Sha256::digest(&bytes)),
        Err(_) => String::new(),
    }
}

/// Whether a variable name (or any text naming variables) looks like it holds a secret.
pub fn looks_secret(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    ["pass", "secret", "token", "key", "credential"]
        .iter()
        .any(|w| t.contains(w))
}

/// Extra vars as the journal keeps them: names that look secret lose their values.
pub fn redact_vars(vars: &Map) -> Map {
    vars.iter()
        .map(|(k, v)| {
            let v = if looks_secret(k) {
                Value::str("VALUE_SPECIFIED_IN_NO_LOG_PARAMETER")
            } else {
                censor_vault(v.clone())
            };
            (k.clone(), v)
        })
        .collect()
}

impl Journal {
    /// Create the journal and write its first line.
    pub fn create(dir: &Path, run_id: &str, header: Map) -> std::io::Result<Journal> {
        std::fs::create_dir_all(dir)?;
        prune(dir, KEEP_RUNS);
        let path = dir.join(format!("{run_id}.jsonl"));
        let file = std::fs::OpenOptions::new().create_new(true).append(true).open(&path)?;
        let mut j = Journal { path, file };
        let mut first = Map::new();
        first.insert("event".into(), Value::str("run_start"));
        first.insert("run_id".into(), Value::str(run_id));
        first.extend(header);
        j.write(Value::Map(first));
        Ok(j)
    }

    fn write(&mut self, v: Value) {
        let mut m = match censor_vault(v) {
            Value::Map(m) => m,
            other => {
                let mut m = Map::new();
                m.insert("value".into(), other);
                m
            }
        };
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        m.insert("t".into(), Value::Int(t));
        let line = serde_json::to_string(&Value::Map(m)).unwrap_or_default();
        // Flushed per line: a killed engine leaves every finished line on disk.
        let _ = writeln!(self.file, "{line}");
        let _ = self.file.flush();
    }
}

/// The last line of a journal: how the run ended.
pub fn append_end(path: &Path, status: i32) {
    if let Ok(file) = std::fs::OpenOptions::new().append(true).open(path) {
        let mut j = Journal {
            path: path.to_path_buf(),
            file,
        };
        let mut m = Map::new();
        m.insert("event".into(), Value::str("run_end"));
        m.insert("status".into(), Value::Int(i64::from(status)));
        j.write(Value::Map(m));
    }
}

impl Sink for Journal {
    fn emit(&mut self, event: &Event) {
        match event {
            Event::Progress { .. } | Event::PlaybookStart { .. } => {}
            other => self.write(to_json(other)),
        }
    }
}

/// Prints to two sinks: the user's and the journal.
pub struct Tee(pub Vec<Box<dyn Sink>>);

impl Sink for Tee {
    fn emit(&mut self, event: &Event) {
        for s in &mut self.0 {
            s.emit(event);
        }
    }
}
