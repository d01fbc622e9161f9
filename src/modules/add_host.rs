//! `add_host`: adds a host (and its groups and variables) to the in-memory inventory. The
//! executor applies `add_host: {host_name, groups, host_vars}`.

use super::Outcome;
use super::context::ModuleCtx;
use crate::connection::{self, BoxFuture};
use crate::value::{Map, Value};

const NAME_KEYS: [&str; 3] = ["name", "host", "hostname"];
const GROUP_KEYS: [&str; 3] = ["groups", "group", "groupname"];

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move { Ok(add(ctx.args)) })
}

fn text(v: &Value) -> String {
    v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())
}

fn add(args: &Map) -> Outcome {
    let Some(name) = NAME_KEYS.iter().find_map(|k| args.get(*k)).map(text) else {
        return Outcome::fail("name, host or hostname needs to be provided");
    };
    let mut groups: Vec<String> = Vec::new();
    for k in GROUP_KEYS {
        match args.get(k) {
            None | Some(Value::Null) => {}
            Some(Value::List(items)) => groups.extend(items.iter().map(text)),
            Some(v) => groups.extend(text(v).split(',').map(|s| s.trim().to_string())),
        }
    }
    groups.retain(|g| !g.is_empty());
    let mut seen = Vec::new();
    groups.retain(|g| {
        let new = !seen.contains(g);
        seen.push(g.clone());
        new
    });
    let mut host_vars = Map::new();
    let (host_name, port) = split_port(&name);
    if let Some(p) = port {
        host_vars.insert("ansible_ssh_port".into(), Value::Int(p));
    }
    for (k, v) in args {
        if NAME_KEYS.contains(&k.as_str()) || GROUP_KEYS.contains(&k.as_str()) || k.starts_with('_') {
            continue;
        }
        host_vars.insert(k.clone(), v.clone());
    }
    let mut entry = Map::new();
    entry.insert("host_name".into(), Value::Str(host_name));
    entry.insert(
        "groups".into(),
        Value::List(groups.into_iter().map(Value::Str).collect()),
    );
    entry.insert("host_vars".into(), Value::Map(host_vars));
    Outcome::changed(true).with("add_host", Value::Map(entry))
}

/// `host:port` (one colon, numeric port) or `[v6]:port` splits; anything else is the name.
fn split_port(name: &str) -> (String, Option<i64>) {
    if let Some(rest) = name.strip_prefix('[')
        && let Some((host, port)) = rest.split_once("]:")
        && let Ok(p) = port.parse()
    {
        return (host.to_string(), Some(p));
    }
    if name.matches(':').count() == 1
        && let Some((host, port)) = name.split_once(':')
        && let Ok(p) = port.parse()
    {
        return (host.to_string(), Some(p));
    }
    (name.to_string(), None)
}

#[cfg(test)]
mod tests {
    use crate::modules::test_support::{Fixture, args};
    use crate::value::{Map, Value};

    #[test]
    fn host_groups_and_vars() {
        let fx = Fixture::new();
        let cases: Vec<(Map, &str, Vec<&str>, Map)> = vec![
            (
                args(&[
                    ("name", Value::str("nh")),
                    ("groups", Value::str("a, b")),
                    ("foo", Value::Int(1)),
                ]),
                "nh",
                vec!["a", "b"],
                args(&[("foo", Value::Int(1))]),
            ),
            (
                args(&[
                    ("hostname", Value::str("h:2222")),
                    ("group", Value::List(vec![Value::str("x")])),
                ]),
                "h",
                vec!["x"],
                args(&[("ansible_ssh_port", Value::Int(2222))]),
            ),
            (args(&[("host", Value::str("fe80::1"))]), "fe80::1", vec![], Map::new()),
        ];
        for (a, name, groups, vars) in cases {
            let o = fx.run(super::run, &a, false);
            assert!(o.changed && !o.failed);
            let e = o
                .data
                .get("add_host")
                .and_then(Value::as_map)
                .cloned()
                .unwrap_or_default();
            assert_eq!(e.get("host_name").and_then(Value::as_str), Some(name));
            let want: Vec<Value> = groups.into_iter().map(Value::str).collect();
            assert_eq!(e.get("groups"), Some(&Value::List(want)));
            assert_eq!(e.get("host_vars"), Some(&Value::Map(vars)));
        }
        assert!(fx.run(super::run, &args(&[("groups", Value::str("a"))]), false).failed);
    }
}
