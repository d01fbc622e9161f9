//! `file` with `recurse: true`: owner, group and mode for a whole tree, with the change
//! found by listing the tree before and after (or, in check mode, by deciding here).

use super::ModuleCtx;
use super::file::{Step, Task, blank, result};
use super::file_attrs::fix_commands;
use super::remote_file::{Kind, Probe, RemoteStat, run_then_stat};
use crate::connection::quote::{join, quote};

/// Turn a task-failure message into an early `Ok(Err(..))`.
macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return Ok(Err(e.to_string())),
        }
    };
}

/// `recurse: true` on a directory: apply owner, group and mode to everything below it and
/// report whether any of it changed (compared by listing before and after).
pub(super) async fn recurse(ctx: &ModuleCtx<'_>, t: &Task, st: &RemoteStat, pre: Vec<String>) -> Step {
    let q = |words: &[&str]| join(words).map_err(|e| e.to_string());
    let mut cmds = pre;
    if let Some(o) = &t.want.owner {
        cmds.push(tri!(q(&["chown", "-R", "--", o, &t.path])));
    }
    if let Some(g) = &t.want.group {
        cmds.push(tri!(q(&["chgrp", "-R", "--", g, &t.path])));
    }
    if let Some(m) = &t.want.mode {
        cmds.push(tri!(q(&["chmod", "-R", "--", &m.chmod_arg(), &t.path])));
    }
    let root = if t.path.starts_with('-') {
        format!("./{}", t.path)
    } else {
        t.path.clone()
    };
    let qroot = tri!(quote(&root).map_err(|e| e.to_string()));
    let list = format!("find {qroot} -printf '%u:%g:%m\\n' | sha1sum");
    if ctx.check {
        // Nothing may change: list what is below and decide here.
        let listing = format!("find {qroot} ! -type l -printf '%y %m %U %G %u %g\\n'");
        let out = ctx.exec(listing).await?;
        let mut changed = false;
        for line in out.stdout_lossy().lines() {
            let f: Vec<&str> = line.split(' ').collect();
            if let [kind, mode, uid, gid, owner, group] = f.as_slice() {
                let entry = RemoteStat {
                    kind: if *kind == "d" { Kind::Dir } else { Kind::File },
                    mode: u32::from_str_radix(mode, 8).unwrap_or(0),
                    uid: uid.parse().unwrap_or(u64::MAX),
                    gid: gid.parse().unwrap_or(u64::MAX),
                    owner: owner.to_string(),
                    group: group.to_string(),
                    ..blank()
                };
                changed |= !tri!(fix_commands(&t.path, &entry, &t.want, false)).is_empty();
            }
        }
        return Ok(Ok(result("path", &t.path, &Some(st.clone()), "directory", changed)));
    }
    let changed_check = format!(
        "b=$({list}); {} || exit $?; a=$({list}); [ \"$a\" = \"$b\" ] || echo CHANGED",
        cmds.join(" && ")
    );
    let out = ctx.exec(changed_check).await?;
    if out.rc != 0 {
        return Ok(Err(out.stderr_lossy().trim().to_string()));
    }
    let changed = out.stdout_lossy().contains("CHANGED");
    let after = match run_then_stat(ctx, "", &t.path, Probe::default()).await? {
        Ok(s) => s,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(result("path", &t.path, &after, "directory", changed)))
}
