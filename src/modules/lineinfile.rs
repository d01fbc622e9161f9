//! `lineinfile`: make sure one line is in a file (or that matching lines are not). The file is
//! read from the host, edited on the controller ([`super::lineinfile_edit`]) and written back
//! atomically only when it changed.

use super::args::Args;
use super::context::Diff;
use super::file_attrs::{Wanted, fix_commands};
use super::lineinfile_edit::{Present, absent, present, split_lines};
use super::remote_file::{Kind, Probe, expand_user, keep_owner_commands, run_then_stat, stat_and_read};
use super::{ModuleCtx, Outcome};
use crate::connection::quote::join;
use crate::connection::{self, BoxFuture, PutFile};
use regex::bytes::Regex;

const KNOWN: &[&str] = &[
    "path",
    "dest",
    "destfile",
    "name",
    "state",
    "regexp",
    "regex",
    "search_string",
    "line",
    "value",
    "insertafter",
    "insertbefore",
    "backrefs",
    "create",
    "backup",
    "firstmatch",
    "validate",
    "mode",
    "owner",
    "group",
    "seuser",
    "serole",
    "setype",
    "selevel",
    "unsafe_writes",
    "attributes",
];

struct Task {
    path: String,
    absent: bool,
    regexp: Option<Regex>,
    search_string: Option<String>,
    line: Option<String>,
    insertafter: Option<String>,
    insertbefore: Option<String>,
    backrefs: bool,
    create: bool,
    firstmatch: bool,
    validate: Option<String>,
    backup: bool,
    want: Wanted,
}

fn parse(ctx: &ModuleCtx<'_>) -> Result<Task, String> {
    let a = Args::new("lineinfile", ctx.args);
    a.only(KNOWN)?;
    let first = |keys: &[&str]| -> Result<Option<String>, String> {
        for k in keys {
            if let Some(v) = a.str(k)? {
                return Ok(Some(v));
            }
        }
        Ok(None)
    };
    let path = first(&["path", "dest", "destfile", "name"])?.ok_or("missing required arguments: path")?;
    let regexp = first(&["regexp", "regex"])?;
    let search_string = a.str("search_string")?;
    let line = first(&["line", "value"])?;
    let insertafter = a.str("insertafter")?;
    let insertbefore = a.str("insertbefore")?;
    let backrefs = a.bool("backrefs", false)?;
    for (x, y, nx, ny) in [
        (
            insertbefore.is_some(),
            insertafter.is_some(),
            "insertbefore",
            "insertafter",
        ),
        (regexp.is_some(), search_string.is_some(), "regexp", "search_string"),
        (backrefs, search_string.is_some(), "backrefs", "search_string"),
    ] {
        if x && y {
            return Err(format!("parameters are mutually exclusive: {nx}|{ny}"));
        }
    }
    let state = a.str("state")?.unwrap_or_else(|| "present".into());
    let absent = match state.as_str() {
        "present" => false,
        "absent" => true,
        other => return Err(format!("value of state must be one of: absent, present, got: {other}")),
    };
    if absent && regexp.is_none() && search_string.is_none() && line.is_none() {
        return Err("one of line, search_string, or regexp is required with state=absent".into());
    }
    if !absent {
        if backrefs && regexp.is_none() {
            return Err("regexp is required with backrefs=true".into());
        }
        if line.is_none() {
            return Err("line is required with state=present".into());
        }
    }
    let regexp = match regexp {
        Some(r) => Some(Regex::new(&r).map_err(|e| format!("invalid regexp {r:?}: {e}"))?),
        None => None,
    };
    let insertafter = if insertafter.is_none() && insertbefore.is_none() {
        Some("EOF".to_string())
    } else {
        insertafter
    };
    Ok(Task {
        path,
        absent,
        regexp,
        search_string,
        line,
        insertafter,
        insertbefore,
        backrefs,
        create: a.bool("create", false)?,
        firstmatch: a.bool("firstmatch", false)?,
        validate: a.str("validate")?,
        backup: a.bool("backup", false)?,
        want: Wanted::from_args(&a)?,
    })
}

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let mut t = match parse(ctx) {
            Ok(t) => t,
            Err(e) => return Ok(Outcome::fail(e)),
        };
        t.path = match expand_user(ctx, &t.path).await? {
            Ok(p) => p,
            Err(e) => return Ok(Outcome::fail(e)),
        };
        Ok(edit(ctx, &t).await?.unwrap_or_else(Outcome::fail))
    })
}

async fn edit(ctx: &ModuleCtx<'_>, t: &Task) -> connection::Result<Result<Outcome, String>> {
    let probe = Probe {
        follow: true,
        checksum: false,
    };
    let (current, content) = match stat_and_read(ctx, &t.path, probe).await? {
        Ok(Some((st, content))) => (Some(st), content),
        Ok(None) => (None, Vec::new()),
        Err(e) => return Ok(Err(e)),
    };
    if current.as_ref().is_some_and(|st| st.kind == Kind::Dir) {
        return Ok(Ok(
            Outcome::fail(format!("Path {} is a directory !", t.path)).with("rc", 256i64)
        ));
    }
    let before = match &current {
        Some(_) => content,
        None if t.absent => return Ok(Ok(Outcome::ok().msg("file not present"))),
        None if !t.create => {
            return Ok(Ok(
                Outcome::fail(format!("Destination {} does not exist !", t.path)).with("rc", 257i64)
            ));
        }
        None => Vec::new(),
    };
    let mut lines = split_lines(&before);
    let mut found = None;
    let msg = if t.absent {
        let n = absent(
            &mut lines,
            t.regexp.as_ref(),
            t.search_string.as_deref(),
            t.line.as_deref(),
        );
        found = Some(n);
        if n > 0 {
            format!("{n} line(s) removed")
        } else {
            String::new()
        }
    } else {
        let p = Present {
            line: t.line.as_deref().unwrap_or_default(),
            regexp: t.regexp.as_ref(),
            search_string: t.search_string.as_deref(),
            insertafter: t.insertafter.as_deref(),
            insertbefore: t.insertbefore.as_deref(),
            backrefs: t.backrefs,
            firstmatch: t.firstmatch,
        };
        match present(&mut lines, &p) {
            Ok(m) => m.to_string(),
            Err(e) => return Ok(Err(e)),
        }
    };
    let after = lines.concat();
    let mut changed = after != before || (current.is_none() && !msg.is_empty());
    let mut out = Outcome::ok().with("backup", "");
    if let Some(n) = found {
        out = out.with("found", n as i64);
    }
    if ctx.diff && changed {
        out.diff.push(Diff {
            before_header: format!("{} (content)", t.path),
            after_header: format!("{} (content)", t.path),
            before: String::from_utf8_lossy(&before).into_owned(),
            after: String::from_utf8_lossy(&after).into_owned(),
        });
    }
    if ctx.check && current.is_none() {
        out.changed = changed;
        return Ok(Ok(out.msg(msg)));
    }
    let mut stat_now = current.clone();
    if changed && !ctx.check {
        if current.is_none() {
            let parent = match t.path.rsplit_once('/') {
                Some(("", _)) | None => None,
                Some((dir, _)) => Some(dir.to_string()),
            };
            if let Some(dir) = parent {
                let line = match join(&["mkdir", "-p", "--", &dir]) {
                    Ok(l) => l,
                    Err(e) => return Ok(Err(e.to_string())),
                };
                let r = ctx.exec(line).await?;
                if r.rc != 0 {
                    return Ok(Err(format!("Error creating {dir} ({})", r.stderr_lossy().trim())));
                }
            }
        }
        if t.backup && current.is_some() {
            match super::write_file::backup(ctx, &t.path).await? {
                Ok(name) => out = out.with("backup", name),
                Err(e) => return Ok(Err(e)),
            }
        }
        // A new file starts with the umask default and gets its attributes below (so the
        // message says both, as Ansible's does); a replaced one keeps its owner and group.
        // Through a symlink the file it points to is rewritten; the link stays.
        let dest = current
            .as_ref()
            .and_then(|st| st.link_source.clone())
            .unwrap_or_else(|| t.path.clone());
        let put = PutFile {
            content: connection::FileContent::Bytes(after.clone()),
            dest: dest.clone(),
            mode: None,
            owner: None,
            group: None,
        };
        let keep = current.as_ref().map(|st| st.mode);
        if let Some(failed) = super::validate::put(ctx, put, t.validate.as_deref(), keep).await? {
            return Ok(Ok(failed));
        }
        if let Some(old) = &current {
            let cmds = match keep_owner_commands(&dest, old, false, false) {
                Ok(c) => c,
                Err(e) => return Ok(Err(e)),
            };
            if !cmds.is_empty() {
                ctx.exec(cmds.join("; ")).await?;
            }
        }
        if current.is_none() {
            stat_now = match run_then_stat(ctx, "", &t.path, probe).await? {
                Ok(s) => s,
                Err(e) => return Ok(Err(e)),
            };
        }
    }
    let mut msg = msg;
    if let Some(st) = &stat_now {
        let fix = match fix_commands(&t.path, st, &t.want, false) {
            Ok(f) => f,
            Err(e) => return Ok(Err(e)),
        };
        if !fix.is_empty() {
            if !ctx.check
                && let Err(e) = run_then_stat(ctx, &fix.join(" && "), &t.path, probe).await?
            {
                return Ok(Err(e));
            }
            msg = if msg.is_empty() {
                "ownership, perms or SE linux context changed".into()
            } else {
                format!("{msg} and ownership, perms or SE linux context changed")
            };
            changed = true;
        }
    }
    out.changed = changed;
    Ok(Ok(out.msg(msg)))
}

#[cfg(test)]
mod tests {
    use super::run;
    use crate::modules::file_tests::{HOSTILE, Harness, mode_of, p, read, s, tmp};
    use serde_json::json;
    use std::path::Path;

    /// The sequence of the comparison playbook run with ansible-core 2.19: messages and the
    /// file left behind match it step by step.
    #[test]
    fn edits_match_ansible_step_by_step() {
        let d = tmp();
        let h = Harness::new(vec![]);
        let f = p(d.path(), "c1");
        let _ = std::fs::write(&f, "hello2\n");
        let steps = [
            (
                json!({"path": f, "line": "host=a"}),
                true,
                "line added",
                "hello2\nhost=a\n",
            ),
            (json!({"path": f, "line": "host=a"}), false, "", "hello2\nhost=a\n"),
            (
                json!({"path": f, "regexp": "^host=", "line": "host=b"}),
                true,
                "line replaced",
                "hello2\nhost=b\n",
            ),
            (
                json!({"path": f, "regexp": "^host=", "state": "absent"}),
                true,
                "1 line(s) removed",
                "hello2\n",
            ),
            (
                json!({"path": f, "line": "first", "insertbefore": "BOF"}),
                true,
                "line added",
                "first\nhello2\n",
            ),
            (
                json!({"path": f, "line": "after-first", "insertafter": "^first"}),
                true,
                "line added",
                "first\nafter-first\nhello2\n",
            ),
            (
                json!({"path": f, "regexp": "^(hel)lo2", "line": "\\1p", "backrefs": true}),
                true,
                "line replaced",
                "first\nafter-first\nhelp\n",
            ),
            (
                json!({"path": f, "regexp": "^nomatch", "line": "zz", "backrefs": true}),
                false,
                "",
                "first\nafter-first\nhelp\n",
            ),
            (
                json!({"path": f, "search_string": "help", "line": "helped"}),
                true,
                "line replaced",
                "first\nafter-first\nhelped\n",
            ),
            (
                json!({"path": f, "line": "nope", "state": "absent"}),
                false,
                "",
                "first\nafter-first\nhelped\n",
            ),
        ];
        for (args, changed, msg, content) in steps {
            let r = h.run(run, args.clone());
            assert_eq!(
                (r.changed, r.msg.as_deref().unwrap_or_default()),
                (changed, msg),
                "{args}"
            );
            assert_eq!(read(&f), content, "{args}");
            assert_eq!(s(&r, "backup"), "");
        }
        let r = h.run(
            run,
            json!({"path": f, "regexp": "^after", "state": "absent", "backup": true}),
        );
        let b = s(&r, "backup");
        assert!(b.starts_with(&format!("{f}.")) && b.ends_with('~'), "{r:?}");
        assert_eq!(read(&b), "first\nafter-first\nhelped\n");
        assert_eq!(read(&f), "first\nhelped\n");
        assert_eq!(mode_of(Path::new(&f)), 0o644);
    }

    #[test]
    fn create_missing_check_mode_and_attributes() {
        let d = tmp();
        let h = Harness::new(vec![]);
        let missing = p(d.path(), "missing");
        let r = h.run(run, json!({"path": missing, "line": "x"}));
        assert!(r.failed && r.msg.as_deref() == Some(&*format!("Destination {missing} does not exist !")));
        let new = p(d.path(), "sub/new");
        let c = h.check(run, json!({"path": new, "line": "created", "create": true}));
        assert!(c.changed && !d.path().join("sub").exists(), "{c:?}");
        let r = h.run(run, json!({"path": new, "line": "created", "create": true}));
        assert!(r.changed && r.msg.as_deref() == Some("line added"));
        assert_eq!((read(&new), mode_of(Path::new(&new))), ("created\n".to_string(), 0o644));
        // A new file with a mode: Ansible's message names both changes.
        let other = p(d.path(), "sub/other");
        let r = h.run(run, json!({"path": other, "line": "y", "create": true, "mode": "0600"}));
        assert_eq!(
            r.msg.as_deref(),
            Some("line added and ownership, perms or SE linux context changed")
        );
        assert_eq!(mode_of(Path::new(&other)), 0o600);
        let r = h.run(run, json!({"path": new, "line": "created", "mode": "0600"}));
        assert_eq!(r.msg.as_deref(), Some("ownership, perms or SE linux context changed"));
        assert_eq!(mode_of(Path::new(&new)), 0o600);
        let c = h.check(run, json!({"path": new, "line": "more"}));
        assert!(c.changed && read(&new) == "created\n");
        assert_eq!(c.diff.first().map(|d| d.after.as_str()), Some("created\nmore\n"));
        let r = h.run(run, json!({"path": d.path().display().to_string(), "line": "x"}));
        assert!(r.failed && r.msg.as_deref().unwrap_or_default().ends_with("is a directory !"));
        let r = h.run(
            run,
            json!({"path": p(d.path(), "gone"), "line": "x", "state": "absent"}),
        );
        assert_eq!((r.changed, r.msg.as_deref()), (false, Some("file not present")));
    }

    #[test]
    fn a_symlink_stays_and_its_target_changes() {
        let d = tmp();
        let h = Harness::new(vec![]);
        let target = p(d.path(), "target");
        let _ = std::fs::write(&target, "a\n");
        let link = p(d.path(), "link");
        let _ = std::os::unix::fs::symlink(&target, &link);
        let r = h.run(run, json!({"path": link, "line": "b"}));
        assert!(r.changed, "{r:?}");
        assert!(Path::new(&link).is_symlink());
        assert_eq!(read(&target), "a\nb\n");
    }

    #[test]
    fn hostile_path_and_line() {
        let d = tmp();
        let h = Harness::new(vec![]);
        let f = p(d.path(), HOSTILE);
        let r = h.run(run, json!({"path": f, "line": HOSTILE, "create": true}));
        assert!(r.changed, "{r:?}");
        assert_eq!(
            std::fs::read(&f).unwrap_or_default(),
            format!("{HOSTILE}\n").into_bytes()
        );
    }
}
