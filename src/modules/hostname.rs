//! `hostname`: the running hostname (`hostname NAME`) and the permanent one in /etc/hostname.
//! With `use: systemd` on a host where systemd runs, `hostnamectl` sets both instead.

use super::Outcome;
use super::args::Args;
use super::context::{Diff, ModuleCtx};
use super::sys_common::{self as sc, choice, try_arg};
use crate::connection::{self, BoxFuture};
use crate::value::{Map, Value};

const STRATEGIES: &[&str] = &["systemd", "debian", "generic", "alpine", "redhat", "sles", "openrc"];

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let a = Args::new("hostname", ctx.args);
        try_arg!(a.only(&["name", "use"]));
        let name = try_arg!(a.required_str("name"));
        let strategy = try_arg!(choice(&a, "use", None, STRATEGIES));
        if matches!(strategy.as_deref(), Some("redhat" | "sles" | "openrc" | "alpine")) {
            return Ok(Outcome::fail(format!(
                "use: {} is not supported; use systemd, debian or generic",
                strategy.unwrap_or_default()
            )));
        }
        let probe = "hostname; echo '--'; cat /etc/hostname 2>/dev/null; echo '--'; \
                     if [ -d /run/systemd/system ] && command -v hostnamectl >/dev/null; then echo systemd; fi";
        let out = sc::run_line(ctx, probe).await?;
        if out.rc != 0 {
            return Ok(Outcome::fail(format!(
                "Command failed rc={}, out={}",
                out.rc,
                sc::both(&out)
            )));
        }
        let text = out.stdout_lossy();
        let mut parts = text.split("--\n");
        let live = parts.next().unwrap_or_default().trim().to_string();
        let permanent = parts.next().unwrap_or_default().trim().to_string();
        let systemd = parts.next().unwrap_or_default().trim() == "systemd";
        let use_ctl = systemd && strategy.as_deref().is_none_or(|s| s == "systemd");
        let changed = live != name || permanent != name;
        let mut o = Outcome::changed(changed).with("name", name.clone());
        if changed && ctx.diff {
            o.diff.push(Diff {
                before: format!("hostname = {live}\n"),
                after: format!("hostname = {name}\n"),
                ..Diff::default()
            });
        }
        if changed && !ctx.check {
            let line = if use_ctl {
                try_arg!(sc::line(&["hostnamectl", "set-hostname", name.as_str()]))
            } else {
                let q = try_arg!(sc::line(&[name.as_str()]));
                format!("printf '%s\\n' {q} > /etc/hostname && hostname {q}")
            };
            let out = sc::run_line(ctx, &line).await?;
            if out.rc != 0 {
                return Ok(Outcome::fail(format!(
                    "Command failed rc={}, out={}",
                    out.rc,
                    sc::both(&out)
                )));
            }
        }
        let (short, domain) = match name.split_once('.') {
            Some((s, d)) => (s.to_string(), d.to_string()),
            None => (name.clone(), String::new()),
        };
        let mut facts = Map::new();
        facts.insert("ansible_hostname".into(), Value::str(short));
        facts.insert("ansible_nodename".into(), Value::str(name.clone()));
        facts.insert("ansible_fqdn".into(), Value::str(name.clone()));
        facts.insert("ansible_domain".into(), Value::str(domain));
        Ok(o.with("ansible_facts", Value::Map(facts)))
    })
}

#[cfg(test)]
mod tests {
    use crate::modules::sys_lab::SysLab;
    use crate::modules::test_support::args;
    use crate::value::Value;

    /// Real `hostname` inside the lab sshd's own UTS namespace; /etc/hostname is a temp file
    /// bind-mounted over the real one inside the lab's own mount namespace.
    #[test]
    fn sets_hostname_in_a_private_namespace() {
        let lab = SysLab::new(&[]);
        let before = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let etc = lab.lab.dir.path().join("etc-hostname");
        std::fs::write(&etc, "old\n").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(lab.sh(&format!("mount --bind {} /etc/hostname", etc.display())).0, 0);
        let a = args(&[
            ("name", Value::str("pt-node1.example.test")),
            ("use", Value::str("debian")),
        ]);
        let o = lab.run_diff(super::run, &a, true, true);
        assert!(o.changed && o.diff.len() == 1, "{o:?}");
        assert_eq!(std::fs::read_to_string(&etc).unwrap_or_default(), "old\n");
        let o = lab.run(super::run, &a, false);
        assert!(o.changed && !o.failed, "{o:?}");
        assert_eq!(lab.sh("hostname").1.trim(), "pt-node1.example.test");
        assert_eq!(
            std::fs::read_to_string(&etc).unwrap_or_default(),
            "pt-node1.example.test\n"
        );
        let facts = o.data.get("ansible_facts").map(|v| v.to_string()).unwrap_or_default();
        assert!(facts.contains("pt-node1") && facts.contains("example.test"), "{facts}");
        assert!(!lab.run(super::run, &a, false).changed);
        assert_eq!(
            std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default(),
            before
        );
        let o = lab.run(
            super::run,
            &args(&[("name", Value::str("x")), ("use", Value::str("bsd"))]),
            false,
        );
        assert!(o.failed, "{o:?}");
    }
}
