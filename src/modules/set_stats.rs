//! `set_stats`: custom statistics for the run, handed to the executor as `ansible_stats`
//! (`data`, `per_host`, `aggregate`), which keeps them (see `executor::custom_stats`). It runs
//! on the controller, in check mode too, and never reports a change. The top-level names of
//! `data` are templated (its values already are) and must be valid variable names; names
//! nested deeper stay as written, as Ansible leaves them.

use super::Outcome;
use super::args::Args;
use super::context::ModuleCtx;
use super::set_fact::valid_name;
use crate::connection::{self, BoxFuture};
use crate::value::{Map, Value};

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move { Ok(set(ctx)) })
}

/// `per_host`/`aggregate`: booleans, other values read loosely (unknown text is false), as
/// Ansible's non-strict conversion reads them.
fn flag(args: &Map, name: &str, default: bool) -> bool {
    match args.get(name) {
        None | Some(Value::Null) => default,
        Some(v) => v.as_bool_loose().unwrap_or(false),
    }
}

fn set(ctx: &ModuleCtx<'_>) -> Outcome {
    let a = Args::new("set_stats", ctx.args);
    if let Err(msg) = a.only(&["aggregate", "data", "per_host"]) {
        return Outcome::fail(msg);
    }
    let mut data = Map::new();
    // No arguments at all: empty stats, as Ansible returns them.
    let given = ctx.args.keys().any(|k| !k.starts_with('_'));
    if given {
        let raw = match ctx.args.get("data") {
            None => Map::new(),
            Some(Value::Map(m)) => m.clone(),
            Some(_) => return Outcome::fail("The 'data' option needs to be a dictionary/hash"),
        };
        for (k, v) in raw {
            let name = if crate::template::Templar::is_template(&k) {
                match ctx.templar.render_str(&k, ctx.vars) {
                    Ok(v) => v.to_string(),
                    Err(e) => return Outcome::fail(format!("cannot template the stat name '{k}': {e}")),
                }
            } else {
                k
            };
            if !valid_name(&name) {
                return Outcome::fail(format!("Task failed: Invalid variable name '{name}'."));
            }
            data.insert(name, v);
        }
    }
    let mut stats = Map::new();
    stats.insert("aggregate".into(), Value::Bool(flag(ctx.args, "aggregate", true)));
    stats.insert("data".into(), Value::Map(data));
    stats.insert("per_host".into(), Value::Bool(flag(ctx.args, "per_host", false)));
    Outcome::ok().with("ansible_stats", Value::Map(stats))
}

#[cfg(test)]
mod tests {
    use crate::modules::test_support::{Fixture, args};
    use crate::value::{Map, Value};

    fn stats(o: &crate::modules::Outcome) -> Map {
        o.data
            .get("ansible_stats")
            .and_then(Value::as_map)
            .cloned()
            .unwrap_or_default()
    }

    fn map(pairs: &[(&str, Value)]) -> Value {
        Value::Map(args(pairs))
    }

    #[test]
    fn stats_from_arguments() {
        let mut vars = Map::new();
        vars.insert("n".into(), Value::str("w3"));
        let fx = Fixture::with_vars(vars);
        let undo = map(&[("cordon w3", Value::str("node w3 cordoned"))]);
        let cases: Vec<(Map, Map)> = vec![
            // Defaults: run-wide, aggregated.
            (
                args(&[("data", map(&[("undo", undo.clone()), ("n", Value::Int(1))]))]),
                args(&[
                    ("aggregate", Value::Bool(true)),
                    ("data", map(&[("undo", undo.clone()), ("n", Value::Int(1))])),
                    ("per_host", Value::Bool(false)),
                ]),
            ),
            // Flags read loosely; unknown text is false.
            (
                args(&[
                    ("data", map(&[("l", Value::List(vec![Value::Int(1)]))])),
                    ("per_host", Value::str("yes")),
                    ("aggregate", Value::str("bogus")),
                ]),
                args(&[
                    ("aggregate", Value::Bool(false)),
                    ("data", map(&[("l", Value::List(vec![Value::Int(1)]))])),
                    ("per_host", Value::Bool(true)),
                ]),
            ),
            // Top-level names are templated; nested names stay as written.
            (
                args(&[("data", map(&[("x_{{ n }}", map(&[("{{ n }}", Value::Float(1.5))]))]))]),
                args(&[
                    ("aggregate", Value::Bool(true)),
                    ("data", map(&[("x_w3", map(&[("{{ n }}", Value::Float(1.5))]))])),
                    ("per_host", Value::Bool(false)),
                ]),
            ),
            // No arguments: empty data.
            (
                args(&[]),
                args(&[
                    ("aggregate", Value::Bool(true)),
                    ("data", Value::Map(Map::new())),
                    ("per_host", Value::Bool(false)),
                ]),
            ),
        ];
        for (given, want) in cases {
            for check in [false, true] {
                let o = fx.run(super::run, &given, check);
                assert!(!o.failed && !o.changed, "{given:?}: {o:?}");
                assert_eq!(stats(&o), want, "{given:?} check={check}");
            }
        }
    }

    #[test]
    fn bad_arguments_fail_as_ansible_says() {
        let fx = Fixture::new();
        let cases: Vec<(Map, &str)> = vec![
            (
                args(&[("data", Value::str("not a dict"))]),
                "The 'data' option needs to be a dictionary/hash",
            ),
            (
                args(&[("data", Value::Null)]),
                "The 'data' option needs to be a dictionary/hash",
            ),
            (
                args(&[("data", map(&[("bad-name", Value::Int(1))]))]),
                "Task failed: Invalid variable name 'bad-name'.",
            ),
            (
                args(&[("foo", Value::Int(1))]),
                "Unsupported parameters for (set_stats) module: foo.",
            ),
        ];
        for (given, want) in cases {
            let o = fx.run(super::run, &given, false);
            assert!(o.failed, "{given:?}");
            assert!(
                o.msg.as_deref().unwrap_or_default().starts_with(want),
                "{given:?}: {:?}",
                o.msg
            );
        }
    }
}
