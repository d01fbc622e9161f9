//! `group_by`: puts the host into group `key` (created under `parents`, default `all`). The
//! executor applies `add_group`/`parent_groups` to the inventory.

use super::Outcome;
use super::args::Args;
use super::context::ModuleCtx;
use crate::connection::{self, BoxFuture};
use crate::value::Value;

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let a = Args::new("group_by", ctx.args);
        let read = || -> Result<(String, Vec<String>), String> {
            a.only(&["key", "parents"])?;
            let key = a
                .str("key")?
                .ok_or_else(|| "the 'key' param is required when using group_by".to_string())?;
            let parents = a.list("parents")?.unwrap_or_else(|| vec!["all".into()]);
            Ok((key, parents))
        };
        let (key, parents) = match read() {
            Ok(r) => r,
            Err(msg) => return Ok(Outcome::fail(msg)),
        };
        // Ansible turns spaces into dashes so the name is a valid group name.
        let fix = |s: &str| s.replace(' ', "-");
        Ok(Outcome::changed(true).with("add_group", fix(&key)).with(
            "parent_groups",
            Value::List(parents.iter().map(|p| Value::Str(fix(p))).collect()),
        ))
    })
}

#[cfg(test)]
mod tests {
    use crate::modules::test_support::{Fixture, args};
    use crate::value::Value;

    #[test]
    fn group_and_parents() {
        let fx = Fixture::new();
        let cases = [
            (args(&[("key", Value::str("os_Debian"))]), "os_Debian", vec!["all"]),
            (
                args(&[("key", Value::str("a b")), ("parents", Value::str("p q,r"))]),
                "a-b",
                vec!["p-q", "r"],
            ),
            (
                args(&[
                    ("key", Value::str("k")),
                    ("parents", Value::List(vec![Value::str("x")])),
                ]),
                "k",
                vec!["x"],
            ),
        ];
        for (a, group, parents) in cases {
            let o = fx.run(super::run, &a, false);
            assert!(o.changed && !o.failed);
            assert_eq!(o.data.get("add_group").and_then(Value::as_str), Some(group));
            let want: Vec<Value> = parents.into_iter().map(Value::str).collect();
            assert_eq!(o.data.get("parent_groups"), Some(&Value::List(want)));
        }
        assert!(fx.run(super::run, &args(&[]), false).failed);
    }
}
