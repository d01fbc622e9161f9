//! `debug`: prints `msg` or the value of `var`, on the controller. `verbosity` is handed to
//! the executor as `_verbosity` (it knows the run's `-v` level and skips the task with
//! "Verbosity threshold not met." when the level is lower).

use super::Outcome;
use super::args::Args;
use super::context::ModuleCtx;
use crate::connection::{self, BoxFuture};
use crate::value::Value;

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move { Ok(debug(ctx)) })
}

fn debug(ctx: &ModuleCtx<'_>) -> Outcome {
    let a = Args::new("debug", ctx.args);
    if let Err(msg) = a.only(&["msg", "var", "verbosity"]) {
        return Outcome::fail(msg);
    }
    let verbosity = match a.int("verbosity") {
        Ok(v) => v.unwrap_or(0),
        Err(msg) => return Outcome::fail(msg),
    };
    let mut o = match (a.get("msg"), a.get("var")) {
        (Some(_), Some(_)) => return Outcome::fail("'msg' and 'var' are incompatible options"),
        (Some(m), None) => Outcome::ok().with("msg", m.clone()),
        (None, Some(Value::Unsafe(_))) => {
            return Outcome::fail(format!(
                "Error while resolving `var` expression: {}",
                crate::template::UNTRUSTED
            ));
        }
        (None, Some(v)) => {
            let name = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
            show_var(ctx, &name)
        }
        (None, None) => Outcome::ok().with("msg", "Hello world!"),
    };
    if verbosity > 0 {
        o.data.insert("_verbosity".into(), Value::Int(verbosity));
    }
    o
}

/// `{name: value}`; an expression that does not render shows Ansible's error marker and a
/// warning instead of failing the task.
fn show_var(ctx: &ModuleCtx<'_>, name: &str) -> Outcome {
    let text = if crate::template::Templar::is_template(name) {
        name.to_string()
    } else {
        format!("{{{{ {name} }}}}")
    };
    match ctx.templar.render_str(&text, ctx.vars) {
        Ok(v) => Outcome::ok().with(name, v),
        Err(e) => {
            let msg = e.message();
            Outcome::ok().with(name, format!("<< error 1 - {msg} >>")).with(
                "warnings",
                Value::List(vec![Value::Str(format!(
                    "Encountered 1 template error.\nerror 1 - {msg}"
                ))]),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::modules::test_support::{Fixture, args};
    use crate::value::{Map, Value};

    #[test]
    fn msg_var_and_verbosity() {
        let mut vars = Map::new();
        vars.insert("who".into(), Value::str("world"));
        vars.insert("r".into(), Value::Map(args(&[("rc", Value::Int(3))])));
        vars.insert("t".into(), Value::str("{{ who }}!"));
        let fx = Fixture::with_vars(vars);
        let cases: Vec<(Map, &str, Value)> = vec![
            (args(&[]), "msg", Value::str("Hello world!")),
            (args(&[("msg", Value::str("hey"))]), "msg", Value::str("hey")),
            (args(&[("var", Value::str("who"))]), "who", Value::str("world")),
            (args(&[("var", Value::str("r.rc"))]), "r.rc", Value::Int(3)),
            (args(&[("var", Value::str("t"))]), "t", Value::str("world!")),
            (
                args(&[("var", Value::str("nope"))]),
                "nope",
                Value::str("<< error 1 - 'nope' is undefined >>"),
            ),
        ];
        for (a, key, want) in cases {
            let o = fx.run(super::run, &a, false);
            assert!(!o.failed && !o.changed, "{o:?}");
            assert_eq!(o.data.get(key), Some(&want), "{a:?}");
        }
        let o = fx.run(
            super::run,
            &args(&[("msg", Value::str("x")), ("verbosity", Value::Int(2))]),
            false,
        );
        assert_eq!(o.data.get("_verbosity"), Some(&Value::Int(2)));
        let o = fx.run(
            super::run,
            &args(&[("msg", Value::str("x")), ("var", Value::str("y"))]),
            false,
        );
        assert!(o.failed);
    }
}
