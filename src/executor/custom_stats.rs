//! The run's custom stats (`set_stats`), combined as ansible-core combines them, and the undo
//! obligations among them: the stat named `undo` is a mapping of obligation name to what is
//! left to undo; a name whose value is null, `""` or `false` is cleared. The same rules replay a
//! journal, so `play runs` and `--resume` see what the run itself saw.

use super::shared::Shared;
use super::task::HostOutcome;
use crate::output::events::{Event, Obligation, StatsChange, Status};
use crate::output::json_lines::censor_vault;
use crate::value::{Map, Value};
use indexmap::IndexMap;

/// The bucket of stats that are not per host (Ansible's `_run`).
pub const RUN: &str = "_run";

/// The stat holding undo obligations.
pub const UNDO: &str = "undo";

/// What `no_log` shows instead of a value.
const HIDDEN: &str = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER";

#[derive(Clone, Debug, Default, PartialEq)]
pub struct CustomStats {
    /// Host name (or [`RUN`]) → stat name → value, in the order they first appeared.
    buckets: IndexMap<String, Map>,
}

impl StatsChange {
    /// Where the change lands: the host's own stats, or the run's.
    pub fn bucket(&self) -> &str {
        if self.per_host { &self.host } else { RUN }
    }

    /// The change as the journal and `--output json` write it, without the event name.
    pub fn to_fields(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("host", Value::str(self.host.clone())),
            ("task", Value::str(self.task.clone())),
            ("per_host", Value::Bool(self.per_host)),
            ("aggregate", Value::Bool(self.aggregate)),
            ("data", Value::Map(self.data.clone())),
        ]
    }

    /// A journal line (`"event": "stats"`) read back.
    pub fn from_journal(m: &Map) -> Option<StatsChange> {
        let flag = |k: &str, d: bool| m.get(k).and_then(Value::as_bool_loose).unwrap_or(d);
        Some(StatsChange {
            host: m.get("host").and_then(Value::as_str)?.to_string(),
            task: m.get("task").and_then(Value::as_str).unwrap_or_default().to_string(),
            per_host: flag("per_host", false),
            aggregate: flag("aggregate", true),
            data: m.get("data").and_then(Value::as_map).cloned()?,
        })
    }
}

/// What a change records: vault values always hidden; under `no_log` every value hidden
/// except the names of undo obligations and their clearing, so they can still be tracked.
pub fn censor(data: &Map, no_log: bool) -> Map {
    let Value::Map(data) = censor_vault(Value::Map(data.clone())) else {
        return Map::new();
    };
    if !no_log {
        return data;
    }
    data.into_iter()
        .map(|(k, v)| {
            let v = match v {
                Value::Map(entries) if k == UNDO => Value::Map(
                    entries
                        .into_iter()
                        .map(|(name, v)| {
                            let v = if clears(&v) { v } else { Value::str(HIDDEN) };
                            (name, v)
                        })
                        .collect(),
                ),
                _ => Value::str(HIDDEN),
            };
            (k, v)
        })
        .collect()
}

/// An obligation's value that means "nothing left to undo".
fn clears(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(false) => true,
        Value::Str(s) | Value::Unsafe(s) => s.is_empty(),
        _ => false,
    }
}

impl CustomStats {
    /// Apply one `set_stats` result as ansible-core's strategy does: each stat set, or (with
    /// `aggregate`) combined with what is there.
    pub fn apply(&mut self, change: &StatsChange) {
        let bucket = self.buckets.entry(change.bucket().to_string()).or_default();
        for (k, v) in &change.data {
            match bucket.get(k) {
                Some(old) if change.aggregate => {
                    // Values of different types are not combined: the new one is dropped.
                    if let Some(sum) = combine(old, v) {
                        bucket.insert(k.clone(), sum);
                    }
                }
                _ => {
                    bucket.insert(k.clone(), v.clone());
                }
            }
        }
    }

    /// The stats of one host, or of the run ([`RUN`]).
    pub fn get(&self, bucket: &str) -> Option<&Map> {
        self.buckets.get(bucket)
    }

    /// Undo obligations not cleared, run-wide ones first, each in the order first declared.
    pub fn obligations(&self) -> Vec<Obligation> {
        let mut out = Vec::new();
        let run = self.buckets.get(RUN).map(|m| (RUN, m));
        let hosts = self
            .buckets
            .iter()
            .filter(|(b, _)| *b != RUN)
            .map(|(b, m)| (b.as_str(), m));
        for (bucket, stats) in run.into_iter().chain(hosts) {
            let Some(Value::Map(undo)) = stats.get(UNDO) else {
                continue;
            };
            for (name, v) in undo.iter().filter(|(_, v)| !clears(v)) {
                let description = match v {
                    Value::Str(s) | Value::Unsafe(s) => s.clone(),
                    // A non-text value (`true`, a mapping): the name says what it is.
                    _ => name.clone(),
                };
                out.push(Obligation {
                    host: (bucket != RUN).then(|| bucket.to_string()),
                    name: name.clone(),
                    description,
                });
            }
        }
        out
    }
}

/// `old` and `new` combined as Python's `+=` (or a recursive dict merge) combines them when
/// `new` is an instance of `old`'s type; `None` when it is not.
fn combine(old: &Value, new: &Value) -> Option<Value> {
    Some(match (old, new) {
        (Value::Map(a), Value::Map(b)) => Value::Map(merge_hash(a, b)),
        (Value::Str(a) | Value::Unsafe(a), Value::Str(b) | Value::Unsafe(b)) => Value::Str(format!("{a}{b}")),
        (Value::List(a), Value::List(b)) => Value::List(a.iter().chain(b).cloned().collect()),
        // bool is an int in Python: True + True is 2, 1 + True is 2, but True + 1 is refused.
        (Value::Int(a), Value::Int(b)) => Value::Int(a.saturating_add(*b)),
        (Value::Int(a), Value::Bool(b)) => Value::Int(a.saturating_add(i64::from(*b))),
        (Value::Bool(a), Value::Bool(b)) => Value::Int(i64::from(*a) + i64::from(*b)),
        (Value::Float(a), Value::Float(b)) => Value::Float(a + b),
        (Value::Null, Value::Null) => Value::Null,
        _ => return None,
    })
}

/// Ansible's `merge_hash` (recursive, lists replaced): `b`'s keys win, mappings on both
/// sides merge.
fn merge_hash(a: &Map, b: &Map) -> Map {
    let mut out = a.clone();
    for (k, bv) in b {
        let merged = match (out.get(k), bv) {
            (Some(Value::Map(am)), Value::Map(bm)) => Value::Map(merge_hash(am, bm)),
            _ => bv.clone(),
        };
        out.insert(k.clone(), merged);
    }
    out
}

/// Keep the `ansible_stats` of a task's successful results (loop items included) and journal
/// them. `outcomes` are the hosts the task ran on; with `run_once`, `run_once_hosts` are the
/// batch's hosts, which per-host stats then land on (as Ansible does).
pub(super) fn record(
    shared: &Shared,
    task: &str,
    outcomes: &[HostOutcome],
    run_once_hosts: Option<&[String]>,
    no_log: &dyn Fn(&str) -> bool,
) {
    for o in outcomes
        .iter()
        .filter(|o| matches!(o.status, Status::Ok | Status::Changed))
    {
        let items = o.result.get("results").and_then(Value::as_list).unwrap_or(&[]);
        let results = std::iter::once(&o.result).chain(items.iter().filter_map(Value::as_map));
        for r in results {
            let Some(stats) = r.get("ansible_stats").and_then(Value::as_map) else {
                continue;
            };
            let Some(data) = stats.get("data").and_then(Value::as_map).filter(|d| !d.is_empty()) else {
                continue;
            };
            let flag = |k: &str| stats.get(k).and_then(Value::as_bool_loose).unwrap_or(false);
            let per_host = flag("per_host");
            let hosts: Vec<String> = match run_once_hosts {
                Some(all) if per_host => all.to_vec(),
                _ => vec![o.host.clone()],
            };
            let data = censor(data, no_log(&o.host));
            for host in hosts {
                let change = StatsChange {
                    host,
                    task: task.to_string(),
                    per_host,
                    aggregate: flag("aggregate"),
                    data: data.clone(),
                };
                shared
                    .custom_stats
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .apply(&change);
                shared.reporter.emit(Event::StatsChanged(change));
            }
        }
    }
}

/// A resumed run starts from the stats of the run it resumes, and journals them again so it
/// can be resumed (and listed) in turn.
pub(super) fn restore(shared: &Shared) {
    for change in &shared.resume.stats {
        shared
            .custom_stats
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .apply(change);
        shared.reporter.emit(Event::StatsChanged(change.clone()));
    }
}

/// What the run leaves to undo, printed after the recap.
pub(super) fn report_end(shared: &Shared, status: i32) {
    let outstanding = shared
        .custom_stats
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .obligations();
    shared.reporter.emit(Event::Undo { outstanding, status });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pairs: &[(&str, Value)]) -> Map {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    fn change(host: &str, per_host: bool, aggregate: bool, data: Map) -> StatsChange {
        StatsChange {
            host: host.into(),
            task: "t".into(),
            per_host,
            aggregate,
            data,
        }
    }

    fn ints(v: &[i64]) -> Value {
        Value::List(v.iter().map(|i| Value::Int(*i)).collect())
    }

    /// The same sequence ansible-core 2.19.14 was run with; its CUSTOM STATS printed these.
    #[test]
    fn aggregates_as_ansible_does() {
        let mut s = CustomStats::default();
        let nested1 = Value::Map(m(&[("x", Value::Map(m(&[("y", Value::Int(1))]))), ("l", ints(&[1]))]));
        let nested2 = Value::Map(m(&[("x", Value::Map(m(&[("z", Value::Int(2))]))), ("l", ints(&[2]))]));
        let steps = [
            change(
                "h",
                false,
                true,
                m(&[
                    ("num", Value::Int(1)),
                    ("fl", Value::Float(1.5)),
                    ("s", Value::str("ab")),
                    ("l", ints(&[1])),
                    ("b", Value::Bool(true)),
                    ("nested", nested1),
                ]),
            ),
            change(
                "h",
                false,
                true,
                m(&[
                    ("num", Value::Int(2)),
                    ("fl", Value::Int(1)),
                    ("s", Value::str("cd")),
                    ("l", ints(&[2])),
                    ("b", Value::Bool(true)),
                    ("nested", nested2),
                ]),
            ),
            change("h", true, true, m(&[("ph", Value::Int(1))])),
            change("h", false, true, m(&[("rep", ints(&[1]))])),
            change("h", false, false, m(&[("rep", ints(&[9]))])),
        ];
        for c in &steps {
            s.apply(c);
        }
        let run = s.get(RUN).cloned().unwrap_or_default();
        let want = m(&[
            ("num", Value::Int(3)),
            ("fl", Value::Float(1.5)),
            ("s", Value::str("abcd")),
            ("l", ints(&[1, 2])),
            ("b", Value::Int(2)),
            (
                "nested",
                Value::Map(m(&[
                    ("x", Value::Map(m(&[("y", Value::Int(1)), ("z", Value::Int(2))]))),
                    ("l", ints(&[2])),
                ])),
            ),
            ("rep", ints(&[9])),
        ]);
        assert_eq!(run, want);
        assert_eq!(s.get("h"), Some(&m(&[("ph", Value::Int(1))])));
    }

    #[test]
    fn obligations_are_declared_and_cleared_by_name() {
        let undo = |pairs: &[(&str, Value)]| m(&[(UNDO, Value::Map(m(pairs)))]);
        type Want<'a> = Vec<(Option<&'a str>, &'a str, &'a str)>;
        let cases: Vec<(Vec<StatsChange>, Want)> = vec![
            (
                vec![
                    change("w3", false, true, undo(&[("cordon w3", Value::str("w3 cordoned"))])),
                    change("w4", false, true, undo(&[("cordon w4", Value::str("w4 cordoned"))])),
                    change("w3", false, true, undo(&[("cordon w3", Value::Null)])),
                ],
                vec![(None, "cordon w4", "w4 cordoned")],
            ),
            (
                vec![
                    change(
                        "a",
                        false,
                        true,
                        undo(&[("x", Value::str("X")), ("y", Value::Bool(true))]),
                    ),
                    change("a", false, true, undo(&[("x", Value::str(""))])),
                ],
                vec![(None, "y", "y")],
            ),
            (
                vec![change("a", false, true, undo(&[("x", Value::Bool(false))]))],
                vec![],
            ),
            // Per host: its own bucket, shown with the host; not cleared from the run's.
            (
                vec![
                    change("w1", true, true, undo(&[("x", Value::str("X"))])),
                    change("w1", false, true, undo(&[("x", Value::Null)])),
                ],
                vec![(Some("w1"), "x", "X")],
            ),
            // aggregate: false replaces the whole mapping.
            (
                vec![
                    change("a", false, true, undo(&[("x", Value::str("X"))])),
                    change("a", false, false, undo(&[("y", Value::str("Y"))])),
                ],
                vec![(None, "y", "Y")],
            ),
            // A stat `undo` that is not a mapping holds no obligations.
            (vec![change("a", false, true, m(&[(UNDO, Value::str("x"))]))], vec![]),
        ];
        for (changes, want) in cases {
            let mut s = CustomStats::default();
            changes.iter().for_each(|c| s.apply(c));
            let got: Vec<(Option<String>, String, String)> = s
                .obligations()
                .into_iter()
                .map(|o| (o.host, o.name, o.description))
                .collect();
            let want: Vec<(Option<String>, String, String)> = want
                .iter()
                .map(|(h, n, d)| (h.map(String::from), n.to_string(), d.to_string()))
                .collect();
            assert_eq!(got, want, "{changes:?}");
        }
    }

    #[test]
    fn no_log_keeps_obligation_names_and_clearing_only() {
        let data = m(&[
            (
                UNDO,
                Value::Map(m(&[("a", Value::str("secret text")), ("b", Value::Null)])),
            ),
            ("other", Value::Int(5)),
        ]);
        let hidden = censor(&data, true);
        let want = m(&[
            (UNDO, Value::Map(m(&[("a", Value::str(HIDDEN)), ("b", Value::Null)]))),
            ("other", Value::str(HIDDEN)),
        ]);
        assert_eq!(hidden, want);
        assert_eq!(censor(&data, false), data);
    }

    #[test]
    fn journal_fields_read_back() {
        let c = change("w3", true, false, m(&[("n", Value::Int(1))]));
        let mut line: Map = c.to_fields().into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        line.insert("event".into(), Value::str("stats"));
        assert_eq!(StatsChange::from_journal(&line), Some(c));
        line.shift_remove("data");
        assert_eq!(StatsChange::from_journal(&line), None);
    }
}
