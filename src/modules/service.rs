//! `service`: on a host run by systemd (or with `use: systemd`) this is the `systemd` module
//! with `name`/`state`/`enabled`; other init systems are refused with a clear message.

use super::Outcome;
use super::args::Args;
use super::context::ModuleCtx;
use super::sys_common::{self as sc, choice, try_arg};
use super::systemd::{Request, apply};
use crate::connection::{self, BoxFuture};

const KNOWN: &[&str] = &[
    "name",
    "state",
    "enabled",
    "use",
    "sleep",
    "pattern",
    "arguments",
    "args",
    "runlevel",
];

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let a = Args::new("service", ctx.args);
        try_arg!(a.only(KNOWN));
        let name = try_arg!(a.required_str("name"));
        let state = try_arg!(choice(
            &a,
            "state",
            None,
            &["started", "stopped", "restarted", "reloaded"]
        ));
        let enabled = match a.get("enabled") {
            Some(_) => Some(try_arg!(a.bool("enabled", false))),
            None => None,
        };
        if state.is_none() && enabled.is_none() {
            return Ok(Outcome::fail("Neither 'state' nor 'enabled' set"));
        }
        // pattern, arguments/args, runlevel and sleep are dropped, as Ansible's service action
        // drops them (with a warning) when the host's manager is systemd.
        let use_ = try_arg!(a.str("use")).unwrap_or_else(|| "auto".into());
        let manager = if use_ == "auto" {
            let out = sc::run_line(ctx, "if command -v systemctl >/dev/null 2>&1 && { [ -d /run/systemd/system ] || systemctl show --property=Version >/dev/null 2>&1; }; then echo systemd; fi").await?;
            if out.stdout_lossy().trim() == "systemd" {
                "systemd".to_string()
            } else {
                "unknown".to_string()
            }
        } else {
            use_
        };
        if manager != "systemd" {
            return Ok(Outcome::fail(format!(
                "service: only the systemd service manager is supported; this host uses '{manager}'"
            )));
        }
        apply(
            ctx,
            Request {
                name: Some(name),
                state,
                enabled,
                masked: None,
                daemon_reload: false,
                daemon_reexec: false,
                no_block: false,
                force: false,
            },
        )
        .await
    })
}

#[cfg(test)]
mod tests {
    use crate::modules::sys_lab::{SYSTEMCTL, SysLab};
    use crate::modules::test_support::args;
    use crate::value::Value;

    #[test]
    fn service_goes_through_systemctl_over_ssh() {
        let lab = SysLab::new(&[SYSTEMCTL]);
        let units = lab.state.join("units");
        std::fs::create_dir_all(&units).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(units.join("db.service"), "[Service]\nExecStart=/bin/true\n").unwrap_or_else(|e| panic!("{e}"));
        let a = args(&[("name", Value::str("db")), ("state", Value::str("restarted"))]);
        let o = lab.run(super::run, &a, false);
        assert!(
            o.changed && !o.failed && o.data.get("state") == Some(&Value::str("started")),
            "{o:?}"
        );
        let log = std::fs::read_to_string(lab.state.join("systemctl.log")).unwrap_or_default();
        assert!(log.contains("start db"), "{log}");
        assert!(lab.run(super::run, &a, false).changed, "restarted always restarts");
        let o = lab.run(super::run, &args(&[("name", Value::str("db"))]), false);
        assert_eq!(o.msg.as_deref(), Some("Neither 'state' nor 'enabled' set"));
        let o = lab.run(
            super::run,
            &args(&[
                ("name", Value::str("db")),
                ("state", Value::str("started")),
                ("use", Value::str("sysvinit")),
            ]),
            false,
        );
        assert!(o.failed, "{o:?}");
    }
}
