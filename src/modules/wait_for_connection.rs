//! `wait_for_connection`: after `delay`, runs a trivial command on the host every `sleep`
//! seconds until one succeeds or `timeout` passes. Reconnecting a dropped session is the
//! connection's business; this only retries.

use super::Outcome;
use super::args::Args;
use super::context::ModuleCtx;
use crate::connection::{self, BoxFuture, ExecRequest};
use std::time::{Duration, Instant};

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let a = Args::new("wait_for_connection", ctx.args);
        let read = || -> Result<_, String> {
            a.only(&["timeout", "delay", "sleep", "connect_timeout"])?;
            let secs = |k: &str, d: i64| -> Result<u64, String> { Ok(a.int(k)?.unwrap_or(d).max(0) as u64) };
            Ok((
                secs("timeout", 600)?,
                secs("delay", 0)?,
                secs("sleep", 1)?,
                secs("connect_timeout", 5)?,
            ))
        };
        let (timeout, delay, sleep, connect_timeout) = match read() {
            Ok(r) => r,
            Err(msg) => return Ok(Outcome::fail(msg)),
        };
        let start = Instant::now();
        let deadline = start + Duration::from_secs(timeout);
        tokio::time::sleep(Duration::from_secs(delay)).await;
        let req = ExecRequest::new("true").timeout(Duration::from_secs(connect_timeout.max(1)));
        loop {
            let last = match ctx.conn.exec(&req).await {
                Ok(out) if out.rc == 0 => break,
                Ok(out) => format!("rc {}: {}", out.rc, out.stderr_lossy().trim()),
                Err(e) => e.to_string(),
            };
            if Instant::now() + Duration::from_secs(sleep) >= deadline {
                return Ok(Outcome::fail(format!("timed out waiting for ping module test: {last}"))
                    .with("elapsed", start.elapsed().as_secs() as i64));
            }
            tokio::time::sleep(Duration::from_secs(sleep)).await;
        }
        Ok(Outcome::ok().with("elapsed", start.elapsed().as_secs() as i64))
    })
}

#[cfg(test)]
mod tests {
    use crate::connection::{self, BoxFuture, Connection, Error, ErrorKind, ExecOutput, ExecRequest, PutFile};
    use crate::modules::test_support::{Fixture, args};
    use crate::value::Value;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Fails `fail_first` execs as unreachable, then succeeds.
    struct Flaky {
        fail_first: usize,
        calls: AtomicUsize,
    }

    impl Connection for Flaky {
        fn host(&self) -> &str {
            "flaky"
        }
        fn exec<'a>(&'a self, _req: &'a ExecRequest) -> BoxFuture<'a, connection::Result<ExecOutput>> {
            Box::pin(async move {
                let n = self.calls.fetch_add(1, Ordering::SeqCst);
                if n < self.fail_first {
                    Err(Error::new("flaky", ErrorKind::Unreachable { reason: "down".into() }))
                } else {
                    Ok(ExecOutput {
                        rc: 0,
                        stdout: vec![],
                        stderr: vec![],
                    })
                }
            })
        }
        fn put_file<'a>(&'a self, _f: &'a PutFile) -> BoxFuture<'a, connection::Result<()>> {
            Box::pin(async { Ok(()) })
        }
        fn get_file<'a>(&'a self, _r: &'a str) -> BoxFuture<'a, connection::Result<Vec<u8>>> {
            Box::pin(async { Ok(vec![]) })
        }
        fn close<'a>(&'a self) -> BoxFuture<'a, connection::Result<()>> {
            Box::pin(async { Ok(()) })
        }
    }

    #[test]
    fn retries_until_success_or_timeout() {
        let fx = Fixture::new();
        let o = fx.run(super::run, &args(&[]), false);
        assert_eq!((o.failed, o.data.get("elapsed")), (false, Some(&Value::Int(0))));
        let flaky = Flaky {
            fail_first: 2,
            calls: AtomicUsize::new(0),
        };
        let o = fx.run_on(&flaky, super::run, &args(&[("timeout", Value::Int(10))]), false);
        assert!(!o.failed, "{o:?}");
        assert_eq!(flaky.calls.load(Ordering::SeqCst), 3);
        assert_eq!(o.data.get("elapsed"), Some(&Value::Int(2)));
        let down = Flaky {
            fail_first: 100,
            calls: AtomicUsize::new(0),
        };
        let o = fx.run_on(&down, super::run, &args(&[("timeout", Value::Int(2))]), false);
        assert!(
            o.failed && o.msg.unwrap_or_default().starts_with("timed out waiting"),
            ""
        );
    }
}
