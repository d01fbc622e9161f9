//! `package`: the host's own package manager. Hosts with apt-get get the `apt` module with the
//! same `name`/`state`; dnf/yum hosts are refused with a clear message (not implemented).

use super::Outcome;
use super::args::Args;
use super::context::ModuleCtx;
use super::sys_common::{self as sc, try_arg};
use crate::connection::{self, BoxFuture};
use crate::value::Map;

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let a = Args::new("package", ctx.args);
        try_arg!(a.only(&["name", "state", "use"]));
        if a.get("name").is_none() {
            return Ok(Outcome::fail("missing required arguments: name"));
        }
        let wanted = try_arg!(a.str("use")).unwrap_or_else(|| "auto".into());
        let manager = if wanted == "auto" {
            let out = sc::run_line(
                ctx,
                "for m in apt-get dnf yum zypper apk pacman; do if command -v $m >/dev/null 2>&1; then echo $m; break; fi; done",
            )
            .await?;
            match out.stdout_lossy().trim() {
                "apt-get" => "apt".to_string(),
                "" => "unknown".to_string(),
                other => other.to_string(),
            }
        } else {
            wanted
        };
        if manager != "apt" {
            return Ok(Outcome::fail(format!(
                "package: the '{manager}' package manager is not supported; only apt is"
            )));
        }
        let mut args = Map::new();
        for k in ["name", "state"] {
            if let Some(v) = ctx.args.get(k) {
                args.insert(k.into(), v.clone());
            }
        }
        let inner = ModuleCtx { args: &args, ..*ctx };
        super::apt::run(&inner).await
    })
}

#[cfg(test)]
mod tests {
    use crate::modules::test_support::{Fixture, args};
    use crate::value::Value;

    /// Installed packages of this Debian machine through the local connection: `package`
    /// picks apt, finds dpkg already installed and changes nothing.
    #[test]
    fn dispatches_to_apt() {
        let fx = Fixture::new();
        let o = fx.run(
            super::run,
            &args(&[("name", Value::str("dpkg")), ("state", Value::str("present"))]),
            false,
        );
        assert!(!o.changed && !o.failed, "{o:?}");
        let o = fx.run(
            super::run,
            &args(&[("name", Value::str("dpkg")), ("use", Value::str("dnf"))]),
            false,
        );
        assert!(
            o.failed
                && o.msg
                    .unwrap_or_default()
                    .contains("'dnf' package manager is not supported")
        );
        let o = fx.run(super::run, &args(&[("state", Value::str("present"))]), false);
        assert!(o.failed, "{o:?}");
    }
}
