//! `play runs [PLAYBOOK] [RUN_ID]`: the recent runs of a playbook from their journals, or one
//! run's batches, where it stopped, and what it left to undo.

use super::events::{Obligation, StatsChange};
use super::human::undo_line;
use crate::executor::custom_stats::CustomStats;
use crate::value::{Map, Value};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// One journal, summarised.
#[derive(Debug, Default)]
pub struct RunSummary {
    pub id: String,
    pub started_ms: i64,
    pub playbooks: Vec<String>,
    /// `None`: no `run_end` line (the engine was killed, or is still running).
    pub status: Option<i64>,
    /// `(play, batch, hosts, clean)` in the order they started; `clean` is `None` while open.
    pub batches: Vec<(i64, i64, Vec<String>, Option<bool>)>,
    pub failed_hosts: Vec<String>,
    pub resumes: Option<String>,
    /// Undo obligations not cleared (with those inherited from the run it resumed).
    pub undo: Vec<Obligation>,
}

fn lines(path: &Path) -> Vec<Map> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|j| match Value::from(j) {
            Value::Map(m) => Some(m),
            _ => None,
        })
        .collect()
}

pub fn summarise(path: &Path) -> RunSummary {
    let mut s = RunSummary {
        id: path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        ..RunSummary::default()
    };
    let int = |m: &Map, k: &str| match m.get(k) {
        Some(Value::Int(i)) => *i,
        _ => 0,
    };
    let mut stats = CustomStats::default();
    for m in lines(path) {
        match m.get("event").and_then(Value::as_str) {
            Some("stats") => {
                if let Some(c) = StatsChange::from_journal(&m) {
                    stats.apply(&c);
                }
            }
            Some("run_start") => {
                s.started_ms = int(&m, "t");
                if let Some(Value::List(p)) = m.get("playbooks") {
                    s.playbooks = p.iter().map(|v| v.to_string()).collect();
                }
                s.resumes = m.get("resumes").map(|v| v.to_string());
            }
            Some("batch_start") => {
                let hosts = m
                    .get("hosts")
                    .and_then(Value::as_list)
                    .map(|l| l.iter().map(|v| v.to_string()).collect())
                    .unwrap_or_default();
                s.batches.push((int(&m, "play"), int(&m, "number"), hosts, None));
            }
            Some("batch_end") => {
                let key = (int(&m, "play"), int(&m, "number"));
                let clean = m.get("clean").and_then(Value::as_bool_loose).unwrap_or(false);
                match s.batches.iter_mut().rev().find(|b| (b.0, b.1) == key) {
                    Some(b) => b.3 = Some(clean),
                    // Carried over from the run this one resumed.
                    None => s.batches.push((key.0, key.1, Vec::new(), Some(clean))),
                }
            }
            Some("result") => {
                let status = m.get("status").and_then(Value::as_str).unwrap_or_default();
                let host = m.get("host").map(|v| v.to_string()).unwrap_or_default();
                let ignored = m.get("ignored").and_then(Value::as_bool_loose).unwrap_or(false);
                if matches!(status, "failed" | "unreachable") && !ignored && !s.failed_hosts.contains(&host) {
                    s.failed_hosts.push(host);
                }
            }
            Some("run_end") => s.status = Some(int(&m, "status")),
            _ => {}
        }
    }
    s.undo = stats.obligations();
    s
}

fn state_word(s: &RunSummary) -> String {
    match s.status {
        Some(0) => "finished".into(),
        Some(130) => "interrupted".into(),
        Some(n) => format!("failed (exit {n})"),
        None => "stopped without an end (killed?) or still running".into(),
    }
}

/// Journals in `dir`, newest first.
pub fn list(dir: &Path) -> Vec<PathBuf> {
    let mut runs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
                .collect()
        })
        .unwrap_or_default();
    runs.sort_by_key(|p| {
        std::cmp::Reverse(
            p.file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.split('-').next())
                .and_then(|n| n.parse::<u128>().ok())
                .unwrap_or(0),
        )
    });
    runs
}

/// Recent runs of `playbook` (as it was named on the command line), newest first.
pub fn runs_of(dir: &Path, playbook: &str) -> Vec<PathBuf> {
    list(dir)
        .into_iter()
        .filter(|p| summarise(p).playbooks.iter().any(|b| b == playbook))
        .collect()
}

pub fn runs_table(dir: &Path, playbook: &str) -> String {
    let mut out = String::new();
    let runs = runs_of(dir, playbook);
    if runs.is_empty() {
        let _ = writeln!(out, "no runs of {playbook} recorded in {}", dir.display());
        return out;
    }
    for p in runs.iter().take(20) {
        let s = summarise(p);
        let done = s.batches.iter().filter(|b| b.3 == Some(true)).count();
        let _ = writeln!(
            out,
            "{}  {}  {}  batches clean: {done}/{}{}{}",
            s.id,
            s.playbooks.join(" "),
            state_word(&s),
            s.batches.len(),
            if s.failed_hosts.is_empty() {
                String::new()
            } else {
                format!("  failed: {}", s.failed_hosts.join(", "))
            },
            if s.undo.is_empty() {
                String::new()
            } else {
                format!("  still to undo: {}", s.undo.len())
            }
        );
    }
    out
}

pub fn run_detail(path: &Path) -> String {
    let s = summarise(path);
    let mut out = String::new();
    let _ = writeln!(out, "run {}: {} — {}", s.id, s.playbooks.join(" "), state_word(&s));
    if let Some(r) = &s.resumes {
        let _ = writeln!(out, "resumes {r}");
    }
    for (play, batch, hosts, clean) in &s.batches {
        let word = match clean {
            Some(true) => "done",
            Some(false) => "ended with failures",
            None => "STOPPED HERE (started, never ended)",
        };
        let _ = writeln!(out, "  play {play} batch {batch}: {word}  {}", hosts.join(", "));
    }
    if !s.failed_hosts.is_empty() {
        let _ = writeln!(out, "failed or unreachable: {}", s.failed_hosts.join(", "));
    }
    for o in &s.undo {
        let _ = writeln!(out, "{}", undo_line(o));
    }
    if s.status != Some(0) {
        let _ = writeln!(out, "resume with: play {} ... --resume {}", s.playbooks.join(" "), s.id);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A journal of a failed run: two obligations declared, one cleared, one line cut short.
    const JOURNAL: &str = r#"{"event":"run_start","run_id":"1-1","playbooks":["site.yml"],"t":1}
{"event":"batch_start","play":1,"number":1,"total":2,"hosts":["w1"],"t":2}
{"event":"stats","host":"w1","task":"cordon","per_host":false,"aggregate":true,"data":{"undo":{"cordon w1":"node w1 cordoned"}},"t":3}
{"event":"stats","host":"w1","task":"uncordon","per_host":false,"aggregate":true,"data":{"undo":{"cordon w1":""}},"t":4}
{"event":"batch_end","play":1,"number":1,"clean":true,"t":5}
{"event":"batch_start","play":1,"number":2,"total":2,"hosts":["w2"],"t":6}
{"event":"stats","host":"w2","task":"cordon","per_host":false,"aggregate":true,"data":{"undo":{"cordon w2":"node w2 cordoned"}},"t":7}
{"event":"stats","host":"w2","task":"uncordon","per_host":false,"aggregate":true,"data":{"undo":{"cord"#;

    #[test]
    fn outstanding_obligations_are_listed_and_shown() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("1-1.jsonl");
        std::fs::write(&path, JOURNAL).unwrap_or_else(|e| panic!("{e}"));
        let s = summarise(&path);
        let names: Vec<&str> = s.undo.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["cordon w2"]);
        let table = runs_table(dir.path(), "site.yml");
        assert!(table.contains("still to undo: 1"), "{table}");
        let detail = run_detail(&path);
        let lines: Vec<&str> = detail.lines().filter(|l| l.starts_with("still to undo")).collect();
        assert_eq!(lines, ["still to undo: node w2 cordoned"], "{detail}");

        // Cleared: nothing to list.
        let cleared = format!(
            "{}\n{}\n",
            JOURNAL.lines().take(7).collect::<Vec<_>>().join("\n"),
            r#"{"event":"stats","host":"w2","task":"uncordon","per_host":false,"aggregate":true,"data":{"undo":{"cordon w2":null}},"t":8}"#
        );
        std::fs::write(&path, cleared).unwrap_or_else(|e| panic!("{e}"));
        assert!(summarise(&path).undo.is_empty());
        assert!(!runs_table(dir.path(), "site.yml").contains("still to undo"));
    }
}
