//! `community.general.modprobe`: loads (`modprobe NAME PARAMS`) or unloads (`modprobe -r`) a
//! kernel module when `lsmod` (or /proc/modules) and modules.builtin say it is not already so,
//! and with `persistent` writes or removes /etc/modules-load.d/NAME.conf and the
//! `options` line in /etc/modprobe.d/NAME.conf.

use super::Outcome;
use super::args::Args;
use super::context::ModuleCtx;
use super::sys_common::{self as sc, choice, read_text, try_arg, write_text};
use crate::connection::{self, BoxFuture};

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let a = Args::new("modprobe", ctx.args);
        try_arg!(a.only(&["name", "state", "params", "persistent"]));
        let name = try_arg!(a.required_str("name"));
        let state = try_arg!(choice(&a, "state", Some("present"), &["present", "absent"])).unwrap_or_default();
        let params = try_arg!(a.str("params")).unwrap_or_default();
        let persistent = try_arg!(choice(
            &a,
            "persistent",
            Some("disabled"),
            &["disabled", "absent", "present"]
        ))
        .unwrap_or_default();
        let norm = name.replace('-', "_");
        let probe = "{ lsmod 2>/dev/null || cat /proc/modules; } | awk '{print $1}'; echo '--'; \
                     cat \"/lib/modules/$(uname -r)/modules.builtin\" 2>/dev/null";
        let out = sc::run_line(ctx, probe).await?;
        let text = out.stdout_lossy();
        let (mods, builtin) = text.split_once("--\n").unwrap_or((&text, ""));
        let loaded = mods.lines().any(|l| l.trim() == norm)
            || builtin.lines().any(|l| {
                l.trim_end().ends_with(&format!("/{name}.ko")) || l.trim_end().ends_with(&format!("/{norm}.ko"))
            });
        let mut changed = false;
        let mut o = Outcome::ok()
            .with("name", name.clone())
            .with("params", params.clone())
            .with("state", state.clone());
        let want_loaded = state == "present";
        if loaded != want_loaded {
            let mut argv = vec!["modprobe".to_string()];
            if ctx.check {
                argv.push("-n".into());
            }
            if !want_loaded {
                argv.push("-r".into());
            }
            argv.push(name.clone());
            if want_loaded {
                argv.extend(params.split_whitespace().map(str::to_string));
            }
            let out = try_arg!(sc::run(ctx, &argv).await?);
            if out.rc != 0 {
                return Ok(Outcome::fail(out.stderr_lossy())
                    .with("name", name.clone())
                    .with("rc", i64::from(out.rc))
                    .with("stdout", out.stdout_lossy())
                    .with("stderr", out.stderr_lossy()));
            }
            changed = true;
        }
        if persistent != "disabled" {
            let load = format!("/etc/modules-load.d/{name}.conf");
            let opts = format!("/etc/modprobe.d/{name}.conf");
            let keep = persistent == "present";
            let files = [
                (load, format!("{name}\n"), true),
                (opts, format!("options {name} {params}\n"), !params.is_empty()),
            ];
            for (path, content, wanted) in files {
                let cur = try_arg!(read_text(ctx, &path).await?);
                let want = keep && wanted;
                match (cur, want) {
                    (Some(c), true) if c == content => {}
                    (None, false) => {}
                    (_, true) => {
                        changed = true;
                        if !ctx.check {
                            write_text(ctx, &path, &content).await?;
                        }
                    }
                    (Some(_), false) => {
                        changed = true;
                        if !ctx.check {
                            let q = try_arg!(sc::line(&[path.as_str()]));
                            sc::run_line(ctx, &format!("rm -f {q}")).await?;
                        }
                    }
                }
            }
        }
        o.changed = changed;
        Ok(o)
    })
}

#[cfg(test)]
mod tests {
    use crate::modules::sys_lab::{LSMOD, MODPROBE, SysLab};
    use crate::modules::test_support::args;
    use crate::value::Value;

    /// The modprobe/lsmod stand-ins (no module loading in a container); the persistent files
    /// are real, in directories bind-mounted over /etc's inside the lab's mount namespace.
    #[test]
    fn loads_and_persists_over_ssh() {
        let lab = SysLab::new(&[MODPROBE, LSMOD]);
        std::fs::write(lab.state.join("available-modules"), "br_netfilter\noverlay\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let d = lab.lab.dir.path();
        for sub in ["modules-load.d", "modprobe.d"] {
            let _ = std::fs::create_dir_all(d.join(sub));
            assert_eq!(
                lab.sh(&format!(
                    "mkdir -p /etc/{sub} && mount --bind {} /etc/{sub}",
                    d.join(sub).display()
                ))
                .0,
                0
            );
        }
        let a = args(&[
            ("name", Value::str("br_netfilter")),
            ("params", Value::str("x=1")),
            ("persistent", Value::str("present")),
        ]);
        let o = lab.run(super::run, &a, true);
        assert!(o.changed && !o.failed, "{o:?}");
        assert!(!lab.sh("lsmod").1.contains("br_netfilter"));
        let o = lab.run(super::run, &a, false);
        assert!(
            o.changed && !o.failed && o.data.get("params") == Some(&Value::str("x=1")),
            "{o:?}"
        );
        assert!(lab.sh("lsmod").1.contains("br_netfilter"));
        assert_eq!(
            std::fs::read_to_string(d.join("modules-load.d/br_netfilter.conf")).unwrap_or_default(),
            "br_netfilter\n"
        );
        assert_eq!(
            std::fs::read_to_string(d.join("modprobe.d/br_netfilter.conf")).unwrap_or_default(),
            "options br_netfilter x=1\n"
        );
        assert!(!lab.run(super::run, &a, false).changed);
        let gone = args(&[
            ("name", Value::str("br_netfilter")),
            ("state", Value::str("absent")),
            ("persistent", Value::str("absent")),
        ]);
        assert!(lab.run(super::run, &gone, false).changed);
        assert!(!lab.sh("lsmod").1.contains("br_netfilter"));
        assert!(!d.join("modules-load.d/br_netfilter.conf").exists());
        assert!(!lab.run(super::run, &gone, false).changed);
        let o = lab.run(super::run, &args(&[("name", Value::str("pt_nope"))]), false);
        assert!(o.failed && o.msg.unwrap_or_default().contains("FATAL: Module pt_nope not found"));
    }
}
