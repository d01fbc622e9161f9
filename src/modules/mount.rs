//! `ansible.posix.mount`: an fstab entry (`src path fstype opts dump passno`) and whether it is
//! mounted. The fstab file is edited in one rewrite; `mount`/`umount` run only when the mount
//! state differs (`mountpoint -q`), with `-T FSTAB` when a non-default fstab is given.

use super::Outcome;
use super::args::Args;
use super::context::{Diff, ModuleCtx};
use super::sys_common::{self as sc, choice, read_text, try_arg, write_text};
use crate::connection::{self, BoxFuture};

const KNOWN: &[&str] = &[
    "path", "name", "src", "fstype", "opts", "dump", "passno", "state", "fstab", "boot",
];
const STATES: &[&str] = &["mounted", "present", "unmounted", "absent", "remounted"];

/// The fstab text with the entry for `path` replaced, added (`line` is Some) or removed.
fn edit_fstab(text: &str, path: &str, line: Option<&str>) -> String {
    let mut out = String::new();
    let mut done = false;
    for l in text.lines() {
        let fields: Vec<&str> = l.split_whitespace().collect();
        let ours = !l.trim_start().starts_with('#') && fields.get(1) == Some(&path);
        if !ours {
            out.push_str(l);
            out.push('\n');
        } else if let Some(new) = line.filter(|_| !done) {
            let same = fields.join(" ") == new.split_whitespace().collect::<Vec<_>>().join(" ");
            out.push_str(if same { l } else { new });
            out.push('\n');
            done = true;
        }
    }
    if let Some(new) = line.filter(|_| !done) {
        out.push_str(new);
        out.push('\n');
    }
    out
}

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let a = Args::new("mount", ctx.args);
        try_arg!(a.only(KNOWN));
        let Some(path) = try_arg!(a.str("path")).or(try_arg!(a.str("name"))) else {
            return Ok(Outcome::fail("missing required arguments: path"));
        };
        let Some(state) = try_arg!(choice(&a, "state", None, STATES)) else {
            return Ok(Outcome::fail("missing required arguments: state"));
        };
        let src = try_arg!(a.str("src"));
        let fstype = try_arg!(a.str("fstype"));
        let mut opts = try_arg!(a.str("opts")).unwrap_or_else(|| "defaults".into());
        if !try_arg!(a.bool("boot", true)) && !opts.split(',').any(|o| o == "noauto") {
            opts = if opts == "defaults" {
                "noauto".into()
            } else {
                format!("{opts},noauto")
            };
        }
        let dump = try_arg!(a.str("dump")).unwrap_or_else(|| "0".into());
        let passno = try_arg!(a.str("passno")).unwrap_or_else(|| "0".into());
        let fstab = try_arg!(a.str("fstab")).unwrap_or_else(|| "/etc/fstab".into());
        if matches!(state.as_str(), "mounted" | "present") && (src.is_none() || fstype.is_none()) {
            let missing: Vec<&str> = [("src", &src), ("fstype", &fstype)]
                .iter()
                .filter(|(_, v)| v.is_none())
                .map(|(k, _)| *k)
                .collect();
            return Ok(Outcome::fail(format!(
                "state is {state} but all of the following are missing: {}",
                missing.join(", ")
            )));
        }
        let qpath = try_arg!(sc::line(&[path.as_str()]));
        let mounted = sc::run_line(ctx, &format!("mountpoint -q {qpath}")).await?.rc == 0;
        let text = try_arg!(read_text(ctx, &fstab).await?).unwrap_or_default();
        let entry = match (&src, &fstype) {
            (Some(s), Some(f)) => Some(format!("{s} {path} {f} {opts} {dump} {passno}")),
            _ => None,
        };
        let new_text = match state.as_str() {
            "absent" => edit_fstab(&text, &path, None),
            "mounted" | "present" => edit_fstab(&text, &path, entry.as_deref()),
            _ => text.clone(),
        };
        let fstab_changed = new_text != text;
        let tflag = if fstab == "/etc/fstab" {
            String::new()
        } else {
            format!("-T {} ", try_arg!(sc::line(&[fstab.as_str()])))
        };
        let action: Option<String> = match state.as_str() {
            "mounted" if !mounted => Some(format!("mkdir -p {qpath} && mount {tflag}{qpath}")),
            "mounted" if fstab_changed => Some(format!("mount {tflag}-o remount {qpath}")),
            "unmounted" | "absent" if mounted => Some(format!("umount {qpath}")),
            "remounted" => Some(format!("mount {tflag}-o remount {qpath}")),
            _ => None,
        };
        let mut o = Outcome::changed(fstab_changed || action.is_some())
            .with("name", path.clone())
            .with("opts", opts.clone())
            .with("dump", dump.clone())
            .with("passno", passno.clone())
            .with("fstab", fstab.clone());
        if let Some(s) = &src {
            o = o.with("src", s.clone());
        }
        if let Some(f) = &fstype {
            o = o.with("fstype", f.clone());
        }
        if fstab_changed && ctx.diff {
            o.diff.push(Diff {
                before_header: fstab.clone(),
                after_header: fstab.clone(),
                before: text.clone(),
                after: new_text.clone(),
            });
        }
        if ctx.check {
            return Ok(o);
        }
        if fstab_changed {
            write_text(ctx, &fstab, &new_text).await?;
        }
        if let Some(cmd) = action {
            let out = sc::run_line(ctx, &cmd).await?;
            if out.rc != 0 {
                let verb = if cmd.starts_with("umount") { "unmount" } else { "mount" };
                return Ok(Outcome::fail(format!("Error {verb}ing {path}: {}", sc::both(&out))));
            }
        }
        Ok(o)
    })
}

#[cfg(test)]
mod tests {
    use crate::modules::sys_lab::SysLab;
    use crate::modules::test_support::args;
    use crate::value::Value;

    /// Real tmpfs mounts inside the lab sshd's private mount namespace, with a temp fstab.
    #[test]
    fn mounts_in_a_private_namespace() {
        let lab = SysLab::new(&[]);
        let dir = lab.lab.dir.path();
        let fstab = dir.join("fstab");
        std::fs::write(&fstab, "# kept\n").unwrap_or_else(|e| panic!("{e}"));
        let point = dir.join("mnt");
        let p = point.display().to_string();
        let f = Value::str(fstab.display().to_string());
        let a = args(&[
            ("path", Value::str(p.clone())),
            ("src", Value::str("pt-tmpfs")),
            ("fstype", Value::str("tmpfs")),
            ("opts", Value::str("size=1m")),
            ("state", Value::str("mounted")),
            ("fstab", f.clone()),
        ]);
        let o = lab.run_diff(super::run, &a, true, true);
        assert!(o.changed && o.diff.len() == 1, "{o:?}");
        assert_eq!(std::fs::read_to_string(&fstab).unwrap_or_default(), "# kept\n");
        let o = lab.run(super::run, &a, false);
        assert!(o.changed && !o.failed, "{o:?}");
        assert_eq!(lab.sh(&format!("mountpoint -q {p}")).0, 0);
        assert_eq!(
            std::fs::read_to_string(&fstab).unwrap_or_default(),
            format!("# kept\npt-tmpfs {p} tmpfs size=1m 0 0\n")
        );
        assert!(!lab.run(super::run, &a, false).changed);
        let mut un = a.clone();
        un.insert("state".into(), Value::str("unmounted"));
        assert!(lab.run(super::run, &un, false).changed);
        assert_ne!(lab.sh(&format!("mountpoint -q {p}")).0, 0);
        assert!(!lab.run(super::run, &un, false).changed);
        let gone = args(&[
            ("path", Value::str(p.clone())),
            ("state", Value::str("absent")),
            ("fstab", f),
        ]);
        assert!(lab.run(super::run, &gone, false).changed);
        assert_eq!(std::fs::read_to_string(&fstab).unwrap_or_default(), "# kept\n");
        let o = lab.run(
            super::run,
            &args(&[("path", Value::str(p)), ("state", Value::str("mounted"))]),
            false,
        );
        assert_eq!(
            o.msg.as_deref(),
            Some("state is mounted but all of the following are missing: src, fstype")
        );
    }
}
