//! `shell`: the text runs through a shell on the host (`executable`, default `/bin/sh`); the
//! text is handed to that shell as one quoted argument of `-c`.

use super::Outcome;
use super::args::Args;
use super::cmd_common::{Decision, read_guard, run_line, stdin_bytes};
use super::context::ModuleCtx;
use crate::connection::{self, BoxFuture, quote};
use crate::value::Value;

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let a = Args::new("shell", ctx.args);
        let read = || -> Result<_, String> {
            a.only(&[
                "cmd",
                "chdir",
                "creates",
                "removes",
                "stdin",
                "stdin_add_newline",
                "strip_empty_ends",
                "executable",
                "expand_argument_vars",
            ])?;
            let text = a.str("_raw_params")?.or(a.str("cmd")?).unwrap_or_default();
            if text.trim().is_empty() {
                return Err("no command given".to_string());
            }
            let exe = a.str("executable")?.unwrap_or_else(|| "/bin/sh".into());
            Ok((
                text,
                exe,
                read_guard(&a)?,
                stdin_bytes(&a)?,
                a.bool("strip_empty_ends", true)?,
            ))
        };
        let (text, exe, guard, stdin, strip) = match read() {
            Ok(r) => r,
            Err(msg) => return Ok(Outcome::fail(msg)),
        };
        match guard.decide(ctx).await? {
            Decision::Done(o) => return Ok(o.with("cmd", Value::Str(text))),
            Decision::Run => {}
        }
        let line = match shell_line(&guard.cd_prefix().unwrap_or_default(), &exe, &text) {
            Ok(l) => l,
            Err(e) => return Ok(Outcome::fail(e.to_string())),
        };
        run_line(ctx, line, stdin, Value::Str(text), strip).await
    })
}

/// `<cd> <exe> -c '<text>'`.
pub fn shell_line(cd: &str, exe: &str, text: &str) -> Result<String, quote::QuoteError> {
    Ok(format!("{cd}{} -c {}", quote::quote(exe)?, quote::quote(text)?))
}

#[cfg(test)]
mod tests {
    use crate::modules::test_support::{Fixture, args, raw};
    use crate::value::Value;

    #[test]
    fn runs_through_the_shell() {
        let fx = Fixture::new();
        let d = fx.dir.path().display().to_string();
        let cases: Vec<(crate::value::Map, i32, &str)> = vec![
            (raw("echo hi | tr a-z A-Z"), 0, "HI"),
            (raw("echo $0"), 0, "/bin/sh"),
            (
                args(&[("cmd", Value::str("echo $0")), ("executable", Value::str("/bin/bash"))]),
                0,
                "/bin/bash",
            ),
            (
                args(&[("cmd", Value::str("pwd; exit 4")), ("chdir", Value::str(d.clone()))]),
                4,
                d.as_str(),
            ),
            (
                args(&[
                    ("cmd", Value::str("cat")),
                    ("stdin", Value::str("x")),
                    ("stdin_add_newline", Value::Bool(false)),
                    ("strip_empty_ends", Value::Bool(false)),
                ]),
                0,
                "x",
            ),
            (
                args(&[
                    ("cmd", Value::str("printf 'a\\n\\n'")),
                    ("strip_empty_ends", Value::Bool(false)),
                ]),
                0,
                "a\n\n",
            ),
        ];
        for (a, rc, stdout) in cases {
            let o = fx.run(super::run, &a, false);
            let r = o.to_result();
            assert_eq!(r.get("rc"), Some(&Value::Int(rc.into())), "{a:?}");
            assert_eq!(r.get("stdout").and_then(Value::as_str), Some(stdout), "{a:?}");
            assert_eq!(o.failed, rc != 0);
            assert!(matches!(r.get("cmd"), Some(Value::Str(_))));
        }
        let o = fx.run(super::run, &raw("echo x"), true);
        assert!(o.skipped && !o.changed);
    }
}
