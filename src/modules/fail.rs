//! `fail`: a task failure with `msg`, decided on the controller.

use super::Outcome;
use super::args::Args;
use super::context::ModuleCtx;
use crate::connection::{self, BoxFuture};

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let a = Args::new("fail", ctx.args);
        if let Err(msg) = a.only(&["msg"]) {
            return Ok(Outcome::fail(msg));
        }
        // A non-string msg (a list, a mapping) is shown as Ansible prints it: as data.
        let msg = match a.get("msg") {
            None => "Failed as requested from task".to_string(),
            Some(v) => v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()),
        };
        Ok(Outcome::fail(msg))
    })
}

#[cfg(test)]
mod tests {
    use crate::modules::test_support::{Fixture, args};
    use crate::value::Value;

    #[test]
    fn fails_with_message() {
        let fx = Fixture::new();
        let cases = [(None, "Failed as requested from task"), (Some("boom"), "boom")];
        for (msg, want) in cases {
            let a = match msg {
                Some(m) => args(&[("msg", Value::str(m))]),
                None => args(&[]),
            };
            let o = fx.run(super::run, &a, false);
            assert!(o.failed && !o.changed);
            assert_eq!(o.msg.as_deref(), Some(want));
        }
    }
}
