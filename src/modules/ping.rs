//! `ping`: proves a command runs on the host and echoes `data` back as `ping`.

use super::Outcome;
use super::args::Args;
use super::context::ModuleCtx;
use crate::connection::{self, BoxFuture, ExecRequest};
use crate::value::Value;

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let a = Args::new("ping", ctx.args);
        let data = match a.only(&["data"]).and_then(|_| a.str("data")) {
            Ok(d) => d.unwrap_or_else(|| "pong".into()),
            Err(msg) => return Ok(Outcome::fail(msg)),
        };
        let out = ctx.conn.exec(&ExecRequest::new("true")).await?;
        if out.rc != 0 {
            return Ok(Outcome::fail(format!(
                "the host could not run a command (rc {}): {}",
                out.rc,
                out.stderr_lossy().trim()
            )));
        }
        // Ansible's way to test error handling: `data=crash` raises on the host.
        if data == "crash" {
            return Ok(Outcome::fail("boom"));
        }
        Ok(Outcome::ok().with("ping", Value::Str(data)))
    })
}

#[cfg(test)]
mod tests {
    use crate::modules::test_support::{Fixture, args};
    use crate::value::Value;

    #[test]
    fn echoes_data() {
        let fx = Fixture::new();
        let cases = [
            (None, Some("pong"), false),
            (Some("hi"), Some("hi"), false),
            (Some("crash"), None, true),
        ];
        for (data, want, failed) in cases {
            let a = match data {
                Some(d) => args(&[("data", Value::str(d))]),
                None => args(&[]),
            };
            let o = fx.run(super::run, &a, false);
            assert_eq!(o.failed, failed);
            assert!(!o.changed);
            assert_eq!(o.data.get("ping").and_then(Value::as_str), want);
        }
    }
}
