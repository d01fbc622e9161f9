//! `--output json`: one JSON object per event, one per line, for tools that follow a run.

use super::events::{Event, Obligation, Sink, Stats};
use crate::value::{Map, Value};
use std::io::Write;

pub struct JsonLines {
    out: Box<dyn Write + Send>,
}

impl JsonLines {
    pub fn stdout() -> JsonLines {
        JsonLines {
            out: Box::new(std::io::stdout()),
        }
    }
}

fn obj(kind: &str, fields: Vec<(&str, Value)>) -> Value {
    let mut m = Map::new();
    m.insert("event".into(), Value::str(kind));
    for (k, v) in fields {
        m.insert(k.to_string(), v);
    }
    Value::Map(m)
}

fn stats(s: &Stats) -> Value {
    let mut m = Map::new();
    for (k, v) in [
        ("ok", s.ok),
        ("changed", s.changed),
        ("unreachable", s.unreachable),
        ("failed", s.failed),
        ("skipped", s.skipped),
        ("rescued", s.rescued),
        ("ignored", s.ignored),
    ] {
        m.insert(k.into(), Value::Int(i64::from(v)));
    }
    Value::Map(m)
}

fn obligation(o: &Obligation) -> Value {
    let mut m = Map::new();
    m.insert("host".into(), o.host.clone().map(Value::Str).unwrap_or(Value::Null));
    m.insert("name".into(), Value::str(o.name.clone()));
    m.insert("description".into(), Value::str(o.description.clone()));
    Value::Map(m)
}

fn strs(v: &[String]) -> Value {
    Value::List(v.iter().map(|s| Value::str(s.clone())).collect())
}

pub fn to_json(event: &Event) -> Value {
    match event {
        Event::PlaybookStart { path } => obj("playbook_start", vec![("path", Value::str(path.clone()))]),
        Event::PlayStart { play, name } => obj(
            "play_start",
            vec![("play", Value::Int(*play as i64)), ("name", Value::str(name.clone()))],
        ),
        Event::BatchEnd { play, number, clean } => obj(
            "batch_end",
            vec![
                ("play", Value::Int(*play as i64)),
                ("number", Value::Int(*number as i64)),
                ("clean", Value::Bool(*clean)),
            ],
        ),
        Event::VarsChanged { host, layer, vars } => obj(
            "vars",
            vec![
                ("host", Value::str(host.clone())),
                ("layer", Value::str(*layer)),
                ("vars", Value::Map(vars.clone())),
            ],
        ),
        Event::StatsChanged(c) => obj("stats", c.to_fields()),
        Event::Undo { outstanding, status } => obj(
            "undo",
            vec![
                ("status", Value::Int(i64::from(*status))),
                ("outstanding", Value::List(outstanding.iter().map(obligation).collect())),
            ],
        ),
        Event::Interrupted => obj("interrupted", vec![]),
        Event::BatchStart {
            play,
            number,
            total,
            hosts,
        } => obj(
            "batch_start",
            vec![
                ("play", Value::Int(*play as i64)),
                ("number", Value::Int(*number as i64)),
                ("total", Value::Int(*total as i64)),
                ("hosts", strs(hosts)),
            ],
        ),
        Event::TaskStart { name, handler } => obj(
            "task_start",
            vec![("name", Value::str(name.clone())), ("handler", Value::Bool(*handler))],
        ),
        Event::Result(r) => obj(
            "result",
            vec![
                ("host", Value::str(r.host.clone())),
                (
                    "delegated_to",
                    r.delegated.clone().map(Value::Str).unwrap_or(Value::Null),
                ),
                ("status", Value::str(r.status.word())),
                ("item", r.item.clone().map(Value::Str).unwrap_or(Value::Null)),
                ("ignored", Value::Bool(r.ignored)),
                ("result", Value::Map(r.result.clone())),
            ],
        ),
        Event::Included { what, hosts, item } => obj(
            "included",
            vec![
                ("what", Value::str(what.clone())),
                ("hosts", strs(hosts)),
                ("item", item.clone().map(Value::Str).unwrap_or(Value::Null)),
            ],
        ),
        Event::Retry {
            host,
            task,
            retries_left,
            result,
        } => obj(
            "retry",
            vec![
                ("host", Value::str(host.clone())),
                ("task", Value::str(task.clone())),
                ("retries_left", Value::Int(i64::from(*retries_left))),
                ("result", Value::Map(result.clone())),
            ],
        ),
        Event::Progress { host, message } => obj(
            "progress",
            vec![
                ("host", Value::str(host.clone())),
                ("message", Value::str(message.clone())),
            ],
        ),
        Event::Gate {
            batch,
            host,
            check,
            passed,
            message,
        } => obj(
            "gate",
            vec![
                ("batch", Value::Int(*batch as i64)),
                ("host", Value::str(host.clone())),
                ("check", Value::str(check.clone())),
                ("passed", Value::Bool(*passed)),
                ("message", Value::str(message.clone())),
            ],
        ),
        Event::Warning(w) => obj("warning", vec![("message", Value::str(w.clone()))]),
        Event::NoMoreHosts => obj("no_more_hosts", vec![]),
        Event::Aborted { reason } => obj("aborted", vec![("reason", Value::str(reason.clone()))]),
        Event::Recap(hosts) => {
            let mut m = Map::new();
            for (h, s) in hosts {
                m.insert(h.clone(), stats(s));
            }
            obj("recap", vec![("hosts", Value::Map(m))])
        }
        Event::RetryFile { path } => obj("retry_file", vec![("path", Value::str(path.clone()))]),
    }
}

/// Vault values never leave as plaintext: they print as Ansible prints a `no_log` value.
pub fn censor_vault(v: Value) -> Value {
    match v {
        Value::Vault(_) => Value::str("VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"),
        Value::List(l) => Value::List(l.into_iter().map(censor_vault).collect()),
        Value::Map(m) => Value::Map(m.into_iter().map(|(k, v)| (k, censor_vault(v))).collect()),
        other => other,
    }
}

impl Sink for JsonLines {
    fn emit(&mut self, event: &Event) {
        if matches!(event, Event::VarsChanged { .. } | Event::StatsChanged(_)) {
            // The journal's business, not the user's.
            return;
        }
        let line = serde_json::to_string(&censor_vault(to_json(event))).unwrap_or_default();
        let _ = writeln!(self.out, "{line}");
        let _ = self.out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::events::{HostResult, Status};
    use crate::value::VaultValue;
    use std::sync::Arc;

    #[test]
    fn vault_plaintext_never_reaches_json_events() {
        let mut result = Map::new();
        result.insert(
            "secret".into(),
            Value::Vault(Arc::new(VaultValue {
                ciphertext: "$ANSIBLE_VAULT;1.1;AES256\n00".into(),
                plaintext: Some("hunter2".into()),
            })),
        );
        let event = Event::Result(HostResult {
            host: "h".into(),
            delegated: None,
            status: Status::Ok,
            item: None,
            result,
            ignored: false,
            show_result: true,
            loop_summary: false,
        });
        let line = serde_json::to_string(&censor_vault(to_json(&event))).unwrap_or_default();
        assert!(
            !line.contains("hunter2") && line.contains("VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"),
            "{line}"
        );
    }
}
