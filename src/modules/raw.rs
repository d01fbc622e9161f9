//! `raw`: the text as written, run by the connection's shell; no guard, no stripping.

use super::Outcome;
use super::args::Args;
use super::cmd_common::add_lines;
use super::context::ModuleCtx;
use crate::connection::{self, BoxFuture, ExecRequest, quote};
use crate::value::{Map, Value};

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let a = Args::new("raw", ctx.args);
        let read = || -> Result<_, String> {
            a.only(&["executable"])?;
            let text = a.str("_raw_params")?.unwrap_or_default();
            if text.trim().is_empty() {
                return Err("no command given".to_string());
            }
            Ok((text, a.str("executable")?))
        };
        let (text, exe) = match read() {
            Ok(r) => r,
            Err(msg) => return Ok(Outcome::fail(msg)),
        };
        if ctx.check {
            return Ok(Outcome {
                skipped: true,
                msg: Some("check mode not supported for raw".into()),
                ..Outcome::default()
            });
        }
        let line = match &exe {
            Some(e) => match quote::quote(e).and_then(|e| Ok(format!("{e} -c {}", quote::quote(&text)?))) {
                Ok(l) => l,
                Err(err) => return Ok(Outcome::fail(err.to_string())),
            },
            None => text,
        };
        let out = ctx.conn.exec(&ExecRequest::new(line)).await?;
        let mut data = Map::new();
        data.insert("rc".into(), Value::Int(out.rc.into()));
        data.insert("stdout".into(), Value::Str(out.stdout_lossy()));
        data.insert("stderr".into(), Value::Str(out.stderr_lossy()));
        add_lines(&mut data);
        let mut o = Outcome {
            changed: true,
            data,
            ..Outcome::default()
        };
        if out.rc != 0 {
            o.failed = true;
            o.msg = Some("non-zero return code".into());
        }
        Ok(o)
    })
}

#[cfg(test)]
mod tests {
    use crate::modules::test_support::{Fixture, args, raw};
    use crate::value::Value;

    #[test]
    fn runs_text_as_written() {
        let fx = Fixture::new();
        let cases: Vec<(crate::value::Map, i32, &str, Vec<&str>)> = vec![
            (raw("echo raw; echo two"), 0, "raw\ntwo\n", vec!["raw", "two"]),
            (raw("echo $((1+2)); exit 5"), 5, "3\n", vec!["3"]),
            (
                args(&[
                    ("_raw_params", Value::str("echo $0")),
                    ("executable", Value::str("/bin/bash")),
                ]),
                0,
                "/bin/bash\n",
                vec!["/bin/bash"],
            ),
        ];
        for (a, rc, stdout, lines) in cases {
            let o = fx.run(super::run, &a, false);
            let r = o.to_result();
            assert_eq!(r.get("rc"), Some(&Value::Int(rc.into())));
            assert_eq!(r.get("stdout").and_then(Value::as_str), Some(stdout));
            let want: Vec<Value> = lines.into_iter().map(Value::str).collect();
            assert_eq!(r.get("stdout_lines"), Some(&Value::List(want)));
            assert_eq!(o.failed, rc != 0);
            assert!(o.changed && !r.contains_key("cmd"));
        }
    }
}
