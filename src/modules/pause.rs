//! `pause`: waits `seconds` or `minutes` on the controller. A module has no terminal, so a
//! `prompt` never blocks: as Ansible does when stdin is not interactive, it returns at once
//! (after the timed wait, if one was given) with an empty `user_input` and a warning.

use super::Outcome;
use super::args::Args;
use super::cmd_common::timestamp;
use super::context::ModuleCtx;
use crate::connection::{self, BoxFuture};
use crate::value::{Map, Value};
use std::time::{Duration, SystemTime};

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let a = Args::new("pause", ctx.args);
        let read = || -> Result<_, String> {
            a.only(&["seconds", "minutes", "prompt", "echo"])?;
            let num = |k: &str| -> Result<Option<f64>, String> {
                match a.get(k) {
                    None => Ok(None),
                    Some(Value::Int(i)) => Ok(Some(*i as f64)),
                    Some(Value::Float(f)) => Ok(Some(*f)),
                    Some(v) => v
                        .as_str()
                        .and_then(|s| s.trim().parse::<f64>().ok())
                        .map(Some)
                        .ok_or_else(|| format!("non-integer value given for prompt duration: {v}")),
                }
            };
            let (seconds, minutes) = (num("seconds")?, num("minutes")?);
            if seconds.is_some() && minutes.is_some() {
                return Err("parameters are mutually exclusive: minutes|seconds".to_string());
            }
            Ok((seconds, minutes, a.get("prompt").is_some(), a.bool("echo", true)?))
        };
        let (seconds, minutes, prompt, echo) = match read() {
            Ok(r) => r,
            Err(msg) => return Ok(Outcome::fail(msg)),
        };
        let wait = seconds.or(minutes.map(|m| m * 60.0)).filter(|w| *w > 0.0);
        let start = SystemTime::now();
        if let Some(w) = wait {
            tokio::time::sleep(Duration::from_secs_f64(w)).await;
        }
        let stop = SystemTime::now();
        let elapsed = stop.duration_since(start).unwrap_or_default().as_secs_f64();
        let stdout = match (seconds, minutes) {
            (Some(s), _) => format!("Paused for {} seconds", py_float(s)),
            (None, Some(m)) => format!("Paused for {} minutes", py_float(m)),
            (None, None) => format!(
                "Paused for {} minutes",
                py_float((elapsed / 60.0 * 100.0).round() / 100.0)
            ),
        };
        let mut data = Map::new();
        data.insert("start".into(), Value::Str(timestamp(start)));
        data.insert("stop".into(), Value::Str(timestamp(stop)));
        data.insert("delta".into(), Value::Int(elapsed as i64));
        data.insert("echo".into(), Value::Bool(echo));
        data.insert("rc".into(), Value::Int(0));
        data.insert("stderr".into(), Value::str(""));
        data.insert("stdout".into(), Value::Str(stdout));
        data.insert("user_input".into(), Value::str(""));
        if prompt && wait.is_none() {
            data.insert(
                "warnings".into(),
                Value::List(vec![Value::str(
                    "Not waiting for response to prompt as stdin is not interactive",
                )]),
            );
        }
        Ok(Outcome {
            data,
            ..Outcome::default()
        })
    })
}

/// A float as Python prints it (`1.0`, `0.5`).
fn py_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e16 {
        format!("{f:.1}")
    } else {
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    use crate::modules::test_support::{Fixture, args};
    use crate::value::Value;
    use std::time::Instant;

    #[test]
    fn waits_and_never_blocks_on_prompt() {
        let fx = Fixture::new();
        let cases = [
            (args(&[("seconds", Value::Int(1))]), "Paused for 1.0 seconds", 1, false),
            (
                args(&[("seconds", Value::str("0.2"))]),
                "Paused for 0.2 seconds",
                0,
                false,
            ),
            (
                args(&[("prompt", Value::str("Continue?"))]),
                "Paused for 0.0 minutes",
                0,
                true,
            ),
            (args(&[("minutes", Value::Int(0))]), "Paused for 0.0 minutes", 0, false),
        ];
        for (a, stdout, delta, warned) in cases {
            let t = Instant::now();
            let o = fx.run(super::run, &a, false);
            assert!(!o.failed && !o.changed, "{o:?}");
            assert_eq!(o.data.get("stdout").and_then(Value::as_str), Some(stdout));
            assert_eq!(o.data.get("delta"), Some(&Value::Int(delta)));
            assert!(t.elapsed().as_secs() == delta as u64);
            assert_eq!(o.data.get("user_input").and_then(Value::as_str), Some(""));
            assert_eq!(o.data.contains_key("warnings"), warned);
            for k in ["start", "stop", "echo", "rc", "stderr"] {
                assert!(o.data.contains_key(k));
            }
        }
        assert!(
            fx.run(
                super::run,
                &args(&[("seconds", Value::Int(1)), ("minutes", Value::Int(1))]),
                false
            )
            .failed
        );
    }
}
