//! `assert`: every condition in `that` must hold, evaluated on the controller; the first
//! false one fails the task and is named in `assertion`.

use super::Outcome;
use super::args::Args;
use super::context::ModuleCtx;
use crate::connection::{self, BoxFuture};
use crate::value::Value;

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move { Ok(check(ctx)) })
}

fn text(v: &Value) -> String {
    v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())
}

fn check(ctx: &ModuleCtx<'_>) -> Outcome {
    let a = Args::new("assert", ctx.args);
    if let Err(msg) = a.only(&["that", "fail_msg", "msg", "success_msg", "quiet"]) {
        return Outcome::fail(msg);
    }
    let conditions: Vec<Value> = match a.get("that") {
        None => return Outcome::fail("conditional required in \"that\" string"),
        Some(Value::List(items)) => items.clone(),
        Some(v) => vec![v.clone()],
    };
    let fail_msg = a.get("fail_msg").or_else(|| a.get("msg")).cloned();
    for cond in &conditions {
        match ctx.templar.eval_when(cond, ctx.vars) {
            Ok(true) => {}
            Ok(false) => {
                let mut o = Outcome::fail("Assertion failed")
                    .with("evaluated_to", false)
                    .with("assertion", cond.clone());
                if let Some(m) = &fail_msg {
                    // A list or mapping msg is kept as data, as Ansible shows it.
                    o.msg = None;
                    o.data.insert("msg".into(), m.clone());
                    if let Value::Str(s) | Value::Unsafe(s) = m {
                        o.msg = Some(s.clone());
                        o.data.shift_remove("msg");
                    }
                }
                return o;
            }
            Err(e) => {
                return Outcome::fail(format!(
                    "The conditional check '{}' failed. The error was: {}",
                    text(cond),
                    e.message()
                ));
            }
        }
    }
    match a.get("success_msg") {
        Some(Value::Str(s)) | Some(Value::Unsafe(s)) => Outcome::ok().msg(s.clone()),
        Some(other) => Outcome::ok().with("msg", other.clone()),
        None => Outcome::ok().msg("All assertions passed"),
    }
}

#[cfg(test)]
mod tests {
    use crate::modules::test_support::{Fixture, args};
    use crate::value::{Map, Value};

    #[test]
    fn conditions_decide() {
        let mut vars = Map::new();
        vars.insert("x".into(), Value::Int(3));
        let fx = Fixture::with_vars(vars);
        let list = |items: &[&str]| Value::List(items.iter().map(|s| Value::str(*s)).collect());
        let cases: Vec<(Map, bool, &str, Option<&str>)> = vec![
            (
                args(&[("that", Value::str("x == 3"))]),
                false,
                "All assertions passed",
                None,
            ),
            (
                args(&[("that", list(&["x > 1", "x < 2"]))]),
                true,
                "Assertion failed",
                Some("x < 2"),
            ),
            (
                args(&[("that", list(&["x > 1"])), ("success_msg", Value::str("good"))]),
                false,
                "good",
                None,
            ),
            (
                args(&[("that", Value::str("x == 4")), ("fail_msg", Value::str("bad"))]),
                true,
                "bad",
                Some("x == 4"),
            ),
            (
                args(&[("that", Value::str("x == 4")), ("msg", Value::str("bad2"))]),
                true,
                "bad2",
                Some("x == 4"),
            ),
            (
                args(&[("that", Value::Bool(true)), ("quiet", Value::Bool(true))]),
                false,
                "All assertions passed",
                None,
            ),
            (args(&[("that", Value::str("nope"))]), true, "nope", None),
        ];
        for (a, failed, msg, assertion) in cases {
            let o = fx.run(super::run, &a, false);
            assert_eq!(o.failed, failed, "{a:?} {o:?}");
            assert!(!o.changed);
            assert!(o.msg.as_deref().unwrap_or_default().contains(msg), "{o:?}");
            assert_eq!(o.data.get("assertion").and_then(Value::as_str), assertion);
            if assertion.is_some() {
                assert_eq!(o.data.get("evaluated_to"), Some(&Value::Bool(false)));
            }
        }
    }
}
