//! `set_fact`: every argument but `cacheable` becomes a host fact, handed to the executor as
//! `ansible_facts`; `_ansible_facts_cacheable` tells it to also keep them in the fact cache.

use super::Outcome;
use super::args::Args;
use super::context::ModuleCtx;
use crate::connection::{self, BoxFuture};
use crate::value::{Map, Value};

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move { Ok(set(ctx)) })
}

/// Ansible's rule for a variable name (a Python identifier, ASCII here).
pub fn valid_name(name: &str) -> bool {
    let mut b = name.bytes();
    b.next().is_some_and(|c| c.is_ascii_alphabetic() || c == b'_') && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

fn set(ctx: &ModuleCtx<'_>) -> Outcome {
    let a = Args::new("set_fact", ctx.args);
    let cacheable = match a.bool("cacheable", false) {
        Ok(c) => c,
        Err(msg) => return Outcome::fail(msg),
    };
    let mut facts = Map::new();
    for (k, v) in ctx.args {
        if k == "cacheable" || k == "_raw_params" {
            continue;
        }
        if !valid_name(k) {
            return Outcome::fail(format!(
                "The variable name '{k}' is not valid. Variables must start with a letter or underscore character, and contain only letters, numbers and underscores."
            ));
        }
        facts.insert(k.clone(), v.clone());
    }
    if facts.is_empty() {
        return Outcome::fail("No key/value pairs provided, at least one is required for this action to succeed");
    }
    Outcome::ok()
        .with("ansible_facts", Value::Map(facts))
        .with("_ansible_facts_cacheable", cacheable)
}

#[cfg(test)]
mod tests {
    use crate::modules::test_support::{Fixture, args};
    use crate::value::{Map, Value};

    #[test]
    fn facts_from_arguments() {
        let fx = Fixture::new();
        let o = fx.run(
            super::run,
            &args(&[
                ("a", Value::Int(1)),
                ("b", Value::List(vec![Value::str("x")])),
                ("cacheable", Value::str("yes")),
            ]),
            false,
        );
        let want: Map = args(&[("a", Value::Int(1)), ("b", Value::List(vec![Value::str("x")]))]);
        assert_eq!(o.data.get("ansible_facts"), Some(&Value::Map(want)));
        assert_eq!(o.data.get("_ansible_facts_cacheable"), Some(&Value::Bool(true)));
        assert!(!o.changed && !o.failed);
        for bad in [
            args(&[]),
            args(&[("bad-name", Value::Int(1))]),
            args(&[("1x", Value::Int(1))]),
        ] {
            assert!(fx.run(super::run, &bad, false).failed, "{bad:?}");
        }
    }
}
