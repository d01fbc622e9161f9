//! `reboot`: reads the boot id, runs the reboot command, then reconnects until the boot id has
//! CHANGED and `test_command` succeeds. A host that answers with the old boot id has not
//! rebooted yet; only a new id counts as success. The connection given by the executor opens a
//! new session when the old one dies.

use super::Outcome;
use super::args::Args;
use super::context::ModuleCtx;
use super::sys_common::{self as sc, try_arg};
use crate::connection::{self, BoxFuture, ExecRequest};
use std::time::{Duration, Instant};

const KNOWN: &[&str] = &[
    "reboot_timeout",
    "reboot_timeout_sec",
    "pre_reboot_delay",
    "post_reboot_delay",
    "connect_timeout",
    "test_command",
    "reboot_command",
    "boot_time_command",
    "msg",
    "search_paths",
];

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let a = Args::new("reboot", ctx.args);
        try_arg!(a.only(KNOWN));
        let secs = |k: &str, d: i64| -> Result<u64, String> { Ok(a.int(k)?.unwrap_or(d).max(0) as u64) };
        let timeout = match try_arg!(a.int("reboot_timeout_sec")) {
            Some(t) => t.max(0) as u64,
            None => try_arg!(secs("reboot_timeout", 600)),
        };
        let pre = try_arg!(secs("pre_reboot_delay", 0));
        let post = try_arg!(secs("post_reboot_delay", 0));
        let connect = try_arg!(secs("connect_timeout", 10)).max(1);
        let test = try_arg!(a.str("test_command")).unwrap_or_else(|| "whoami".into());
        let boot_cmd =
            try_arg!(a.str("boot_time_command")).unwrap_or_else(|| "cat /proc/sys/kernel/random/boot_id".into());
        let msg = try_arg!(a.str("msg")).unwrap_or_else(|| "Reboot initiated by Ansible".into());
        let command = match try_arg!(a.str("reboot_command")) {
            Some(c) => c,
            None => format!("shutdown -r +{} {}", pre / 60, try_arg!(sc::line(&[msg.as_str()]))),
        };
        if ctx.check {
            return Ok(Outcome::changed(true).with("rebooted", true).with("elapsed", 0));
        }
        let start = Instant::now();
        let before = ctx.exec(boot_cmd.clone()).await?;
        if before.rc != 0 || before.stdout_lossy().trim().is_empty() {
            return Ok(Outcome::fail(format!(
                "failed to get the boot id with '{boot_cmd}': {}",
                sc::both(&before)
            ))
            .with("rebooted", false));
        }
        let before = before.stdout_lossy().trim().to_string();
        if pre % 60 > 0 && !ctx.args.contains_key("reboot_command") {
            tokio::time::sleep(Duration::from_secs(pre % 60)).await;
        }
        // The session may die before the command returns: that is the reboot starting.
        match ctx
            .conn
            .exec(&ExecRequest::new(command.clone()).timeout(Duration::from_secs(30)))
            .await
        {
            Ok(out) if out.rc != 0 => {
                return Ok(Outcome::fail(format!(
                    "Reboot command failed. Error was: '{}, {}'",
                    out.stdout_lossy().trim(),
                    out.stderr_lossy().trim()
                ))
                .with("rebooted", false)
                .with("start", super::cmd_common::timestamp(std::time::SystemTime::now())));
            }
            _ => {}
        }
        let deadline = start + Duration::from_secs(timeout);
        let probe = ExecRequest::new(boot_cmd.clone()).timeout(Duration::from_secs(connect));
        let mut last = String::from("the boot id has not changed");
        loop {
            if Instant::now() >= deadline {
                return Ok(Outcome::fail(format!(
                    "Timed out waiting for last boot time check (timeout={timeout}): {last}"
                ))
                .with("rebooted", true)
                .with("elapsed", start.elapsed().as_secs() as i64));
            }
            match ctx.conn.exec(&probe).await {
                Ok(out) if out.rc == 0 => {
                    let now = out.stdout_lossy().trim().to_string();
                    if !now.is_empty() && now != before {
                        break;
                    }
                    last = "the boot id has not changed".into();
                }
                Ok(out) => last = sc::both(&out),
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let check = ExecRequest::new(test.clone()).timeout(Duration::from_secs(connect));
        loop {
            match ctx.conn.exec(&check).await {
                Ok(out) if out.rc == 0 => break,
                Ok(out) => {
                    last = format!(
                        "Test command failed: {} {}",
                        out.stdout_lossy().trim(),
                        out.stderr_lossy().trim()
                    )
                }
                Err(e) => last = e.to_string(),
            }
            if Instant::now() >= deadline {
                return Ok(Outcome::fail(format!(
                    "Timed out waiting for post-reboot test command (timeout={timeout}): {last}"
                ))
                .with("rebooted", true)
                .with("elapsed", start.elapsed().as_secs() as i64));
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        tokio::time::sleep(Duration::from_secs(post)).await;
        Ok(Outcome::changed(true)
            .with("rebooted", true)
            .with("elapsed", start.elapsed().as_secs() as i64))
    })
}

#[cfg(test)]
mod tests {
    use crate::modules::sys_lab::{SHUTDOWN, SysLab};
    use crate::modules::test_support::args;
    use crate::value::Value;

    /// The `shutdown` stand-in writes a new boot id and restarts the lab's sshd, killing the
    /// session: the module must reconnect and see the new id.
    #[test]
    fn reboots_and_reconnects_over_ssh() {
        let lab = SysLab::new(&[SHUTDOWN]);
        let boot = Value::str(format!("cat {}/boot_id", lab.state.display()));
        let a = args(&[("boot_time_command", boot.clone()), ("reboot_timeout", Value::Int(60))]);
        let o = lab.run(super::run, &a, true);
        assert!(o.changed && !o.failed, "{o:?}");
        assert_eq!(
            std::fs::read_to_string(lab.state.join("boot_id")).unwrap_or_default(),
            "first-boot\n"
        );
        let pid_before = std::fs::read_to_string(&lab.pidfile).unwrap_or_default();
        let o = lab.run(super::run, &a, false);
        assert!(
            o.changed && !o.failed && o.data.get("rebooted") == Some(&Value::Bool(true)),
            "{o:?}"
        );
        assert_ne!(
            std::fs::read_to_string(lab.state.join("boot_id")).unwrap_or_default(),
            "first-boot\n"
        );
        assert_ne!(
            std::fs::read_to_string(&lab.pidfile).unwrap_or_default(),
            pid_before,
            "sshd was not restarted"
        );
        let log = std::fs::read_to_string(lab.state.join("shutdown.log")).unwrap_or_default();
        assert!(log.starts_with("-r +0 "), "{log}");
        // A reboot command that does not reboot: the boot id never changes, so it times out.
        let fake = args(&[
            ("boot_time_command", boot),
            ("reboot_command", Value::str("true")),
            ("reboot_timeout", Value::Int(3)),
        ]);
        let o = lab.run(super::run, &fake, false);
        assert!(o.failed && o.msg.unwrap_or_default().contains("boot id has not changed"));
        let o = lab.run(super::run, &args(&[("reboot_command", Value::str("exit 3"))]), false);
        assert!(o.failed && o.msg.unwrap_or_default().starts_with("Reboot command failed"));
    }
}
