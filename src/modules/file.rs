//! `file`: make a path be a file, directory, symlink, hard link, touched file or absent, with
//! owner, group and mode. One probe first; one combined change-and-probe when something differs.

use super::args::Args;
use super::context::Diff;
use super::file_attrs::{Wanted, fix_commands};
use super::remote_file::{Kind, Probe, RemoteStat, attr_fields, expand_user, run_then_stat};
use super::{ModuleCtx, Outcome};
use crate::connection::quote::{join, quote};
use crate::connection::{self, BoxFuture};
use crate::value::Value;

const KNOWN: &[&str] = &[
    "path",
    "dest",
    "name",
    "state",
    "mode",
    "owner",
    "group",
    "recurse",
    "src",
    "force",
    "follow",
    "access_time",
    "modification_time",
    "access_time_format",
    "modification_time_format",
    "seuser",
    "serole",
    "setype",
    "selevel",
    "unsafe_writes",
    "attributes",
];

pub(super) struct Task {
    pub(super) path: String,
    pub(super) state: Option<String>,
    pub(super) want: Wanted,
    pub(super) recurse: bool,
    pub(super) src: Option<String>,
    pub(super) force: bool,
    pub(super) follow: bool,
    /// `modification_time` / `access_time`: `Some(true)` now, `Some(false)` preserve, `None`
    /// the state's default (now for touch).
    pub(super) mtime_now: Option<bool>,
    pub(super) atime_now: Option<bool>,
}

fn parse(ctx: &ModuleCtx<'_>) -> Result<Task, String> {
    let args = Args::new("file", ctx.args);
    args.only(KNOWN)?;
    let path = match (args.str("path")?, args.str("dest")?, args.str("name")?) {
        (Some(p), _, _) | (None, Some(p), _) | (None, None, Some(p)) => p,
        _ => return Err("missing required arguments: path".into()),
    };
    let path = if path.len() > 1 {
        path.trim_end_matches('/').to_string()
    } else {
        path
    };
    let state = args.str("state")?;
    if let Some(s) = &state
        && !["file", "directory", "touch", "absent", "link", "hard"].contains(&s.as_str())
    {
        return Err(format!(
            "value of state must be one of: absent, directory, file, hard, link, touch, got: {s}"
        ));
    }
    Ok(Task {
        path,
        state,
        want: Wanted::from_args(&args)?,
        recurse: args.bool("recurse", false)?,
        src: args.str("src")?,
        force: args.bool("force", false)?,
        follow: args.bool("follow", true)?,
        mtime_now: time_arg(&args, "modification_time")?,
        atime_now: time_arg(&args, "access_time")?,
    })
}

fn time_arg(args: &Args<'_>, key: &str) -> Result<Option<bool>, String> {
    match args.str(key)?.as_deref() {
        None => Ok(None),
        Some("now") => Ok(Some(true)),
        Some("preserve") => Ok(Some(false)),
        Some(other) => Err(format!("{key}: '{other}': only 'now' and 'preserve' are supported yet")),
    }
}

/// The `touch` line for an existing path, if its times are to move.
fn touch_line(t: &Task, touching: bool) -> Result<Option<String>, String> {
    let m = t.mtime_now.unwrap_or(touching);
    let a = t.atime_now.unwrap_or(touching);
    let flag = match (m, a) {
        (true, true) => None,
        (true, false) => Some("-m"),
        (false, true) => Some("-a"),
        (false, false) => return Ok(None),
    };
    let mut words = vec!["touch"];
    words.extend(flag);
    words.extend(["--", &t.path]);
    join(&words).map(Some).map_err(|e| e.to_string())
}

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let mut task = match parse(ctx) {
            Ok(t) => t,
            Err(e) => return Ok(Outcome::fail(e)),
        };
        task.path = match expand_user(ctx, &task.path).await? {
            Ok(p) => p,
            Err(e) => return Ok(Outcome::fail(e)),
        };
        if let Some(src) = &task.src {
            task.src = match expand_user(ctx, src).await? {
                Ok(p) => Some(p),
                Err(e) => return Ok(Outcome::fail(e)),
            };
        }
        let r = match task.state.as_deref() {
            Some("link") | Some("hard") => super::file_link::link(ctx, &task).await?,
            _ => plain(ctx, &task).await?,
        };
        Ok(r.unwrap_or_else(Outcome::fail))
    })
}

/// Turn a task-failure message into an early `Ok(Err(..))`.
macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return Ok(Err(e.to_string())),
        }
    };
}

pub(super) type Step = connection::Result<Result<Outcome, String>>;

/// The state Ansible reports for what is at a path.
pub(super) fn state_of(st: &RemoteStat) -> &'static str {
    match st.kind {
        Kind::Dir => "directory",
        Kind::Link => "link",
        _ if st.nlink > 1 => "hard",
        _ => "file",
    }
}

pub(super) fn result(key: &str, path: &str, st: &Option<RemoteStat>, state: &str, changed: bool) -> Outcome {
    let mut out = Outcome::changed(changed).with(key, path).with("state", state);
    if let Some(st) = st {
        attr_fields(st, &mut out.data);
    }
    out
}

/// `--diff` for a path's state and mode, as Ansible shows them: two small JSON objects.
fn state_diff(path: &str, before: &[(&str, String)], after: &[(&str, String)]) -> Diff {
    let render = |pairs: &[(&str, String)]| {
        let mut m: std::collections::BTreeMap<&str, &str> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        m.insert("path", path);
        let mut buf = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
        let _ = serde::Serialize::serialize(&m, &mut ser);
        format!("{}\n", String::from_utf8_lossy(&buf))
    };
    Diff {
        before_header: "before".into(),
        after_header: "after".into(),
        before: render(before),
        after: render(after),
    }
}

/// The `--diff` entry for a change from `current` to `state` with `want`'s mode.
fn change_diff(t: &Task, current: &Option<RemoteStat>, state: &str) -> Diff {
    let mut before = Vec::new();
    let mut after = Vec::new();
    let prev = current.as_ref().map(state_of).unwrap_or("absent");
    if prev != state && !(state == "touch" && prev == "file") {
        before.push(("state", prev.to_string()));
        after.push(("state", state.to_string()));
    }
    if let Some(st) = current
        && let Ok(Some(m)) = t.want.new_mode(st.mode, st.kind == Kind::Dir)
        && m != st.mode
        && state != "absent"
    {
        before.push(("mode", format!("0{:03o}", st.mode)));
        after.push(("mode", format!("0{m:03o}")));
    }
    state_diff(&t.path, &before, &after)
}

/// file, directory, touch, absent, and no state at all.
async fn plain(ctx: &ModuleCtx<'_>, t: &Task) -> Step {
    let follow = t.follow && t.state.as_deref() != Some("absent");
    let probe = Probe {
        follow,
        checksum: false,
    };
    let current = match run_then_stat(ctx, "", &t.path, probe).await? {
        Ok(s) => s,
        Err(e) => return Ok(Err(e)),
    };
    let state = match (&t.state, &current) {
        (Some(s), _) => s.as_str(),
        (None, _) if t.recurse => "directory",
        (None, Some(st)) => state_of(st),
        (None, None) => "file",
    };
    let q = |words: &[&str]| join(words).map_err(|e| e.to_string());
    let mut cmds: Vec<String> = Vec::new();
    match (state, &current) {
        ("absent", None) => return Ok(Ok(result("path", &t.path, &None, "absent", false))),
        ("absent", Some(st)) => {
            let diff = change_diff(t, &current, "absent");
            let with_diff = |mut out: Outcome| {
                if ctx.diff {
                    out.diff.push(diff.clone());
                }
                out
            };
            if ctx.check {
                return Ok(Ok(with_diff(result("path", &t.path, &current, state_of(st), true))));
            } else {
                let out = ctx.exec(tri!(q(&["rm", "-rf", "--", &t.path]))).await?;
                if out.rc != 0 {
                    return Ok(Err(format!("rmtree failed: {}", out.stderr_lossy().trim())));
                }
            }
            return Ok(Ok(with_diff(result("path", &t.path, &None, "absent", true))));
        }
        ("file" | "hard", None) => {
            let mut out = Outcome::fail(format!("file ({}) is absent, cannot continue", t.path));
            out = out.with("path", t.path.as_str()).with("state", "absent");
            return Ok(Ok(out));
        }
        ("file", Some(st)) if st.kind == Kind::Dir && t.state.is_some() => {
            let msg = format!("file ({}) is directory, cannot continue", t.path);
            return Ok(Ok(failed(result("path", &t.path, &current, "directory", false), msg)));
        }
        ("directory", Some(st)) if st.kind != Kind::Dir => {
            let msg = format!("{} already exists as a {}", t.path, state_of(st));
            return Ok(Ok(failed(result("path", &t.path, &current, state_of(st), false), msg)));
        }
        ("directory", None) => cmds.extend(tri!(mkdir_chain(&t.path, &t.want))),
        ("touch", None) => {
            cmds.push(format!(": > {}", tri!(quote(&t.path).map_err(|e| e.to_string()))));
            let probe_new = RemoteStat {
                kind: Kind::File,
                mode: 0o644,
                ..blank()
            };
            cmds.extend(tri!(fix_commands(&t.path, &probe_new, &t.want, false)));
        }
        (_, Some(_)) => cmds.extend(tri!(touch_line(t, state == "touch"))),
        _ => {}
    }
    if let Some(st) = &current {
        if t.recurse && st.kind == Kind::Dir {
            return super::file_recurse::recurse(ctx, t, st, cmds).await;
        }
        cmds.extend(tri!(fix_commands(&t.path, st, &t.want, !follow)));
    }
    // Ansible names the path `dest` for touch and for a hard-linked file found as it is.
    let implicit_hard = t.state.is_none() && state == "hard";
    let key = if state == "touch" || implicit_hard {
        "dest"
    } else {
        "path"
    };
    let finish = |mut out: Outcome| {
        if implicit_hard {
            out.data.insert("src".into(), Value::Null);
        }
        if ctx.diff && out.changed {
            out.diff.push(change_diff(t, &current, state));
        }
        out
    };
    if cmds.is_empty() {
        return Ok(Ok(finish(result(
            key,
            &t.path,
            &current,
            state_of_or(&current, state),
            false,
        ))));
    }
    if ctx.check {
        return Ok(Ok(match &current {
            Some(_) => finish(result(key, &t.path, &current, state_of_or(&current, state), true)),
            // Ansible reports only the path for something it would create.
            None => finish(Outcome::changed(true).with(key, t.path.as_str())),
        }));
    }
    let after = match run_then_stat(ctx, &cmds.join(" && "), &t.path, probe).await? {
        Ok(s) => s,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(finish(result(
        key,
        &t.path,
        &after,
        state_of_or(&after, state),
        true,
    ))))
}

/// A failure that still reports what is at the path, as Ansible's does.
pub(super) fn failed(mut out: Outcome, msg: String) -> Outcome {
    out.failed = true;
    out.msg = Some(msg);
    out
}

fn state_of_or<'s>(st: &Option<RemoteStat>, asked: &'s str) -> &'s str {
    match (asked, st) {
        ("touch", _) => "file",
        (_, Some(st)) => state_of(st),
        _ => asked,
    }
}

pub(super) fn blank() -> RemoteStat {
    RemoteStat {
        kind: Kind::File,
        mode: 0,
        uid: u64::MAX,
        gid: u64::MAX,
        owner: String::new(),
        group: String::new(),
        size: 0,
        mtime: 0.0,
        atime: 0.0,
        ctime: 0.0,
        nlink: 1,
        inode: 0,
        dev: 0,
        blocks: 0,
        block_size: 0,
        checksum: None,
        link_target: None,
        link_source: None,
        readable: false,
        writeable: false,
        executable: false,
        mine_owner: false,
        mine_group: false,
    }
}

/// Create each missing directory from the top down, giving every created one the requested
/// mode and owner (as Ansible does for the parents it makes).
fn mkdir_chain(path: &str, want: &Wanted) -> Result<Vec<String>, String> {
    let mut prefixes = Vec::new();
    let mut cur = String::new();
    for (i, part) in path.split('/').enumerate() {
        if i > 0 {
            cur.push('/');
        }
        cur.push_str(part);
        if !part.is_empty() && part != "." {
            prefixes.push(cur.clone());
        }
    }
    let created = RemoteStat {
        kind: Kind::Dir,
        mode: 0o755,
        ..blank()
    };
    let mut cmds = Vec::new();
    for p in prefixes {
        let qp = quote(&p).map_err(|e| e.to_string())?;
        let mut make = vec![format!("mkdir -- {qp}")];
        make.extend(fix_commands(&p, &created, want, false)?);
        cmds.push(format!("{{ [ -d {qp} ] || {{ {}; }}; }}", make.join(" && ")));
    }
    Ok(cmds)
}

#[cfg(test)]
mod tests {
    use super::run;
    use crate::modules::file_tests::{HOSTILE, Harness, mode_of, p, s, tmp};
    use serde_json::json;

    #[test]
    fn directory_creates_parents_with_mode_and_is_idempotent() {
        let d = tmp();
        let h = Harness::new(vec![]);
        let leaf = p(d.path(), "a/b/c");
        let args = json!({"path": leaf, "state": "directory", "mode": "0700"});
        assert!(!h.check(run, args.clone()).failed);
        assert!(!d.path().join("a").exists(), "check mode created something");
        let r = h.run(run, args.clone());
        assert!(r.changed && !r.failed, "{r:?}");
        for sub in ["a", "a/b", "a/b/c"] {
            assert_eq!(mode_of(&d.path().join(sub)), 0o700, "{sub}");
        }
        assert_eq!(
            (s(&r, "path"), s(&r, "state"), s(&r, "mode")),
            (leaf.clone(), "directory".into(), "0700".into())
        );
        assert!(r.data.contains_key("uid") && r.data.contains_key("owner") && r.data.contains_key("size"));
        let again = h.run(run, args);
        assert!(!again.changed, "{again:?}");
        // --diff shows the state and mode as Ansible's small JSON objects.
        let conn = crate::connection::local::LocalConnection::new("localhost");
        let r = h.run_on(
            &conn,
            run,
            json!({"path": p(d.path(), "x"), "state": "directory"}),
            false,
            true,
        );
        let diff = r.diff.first().cloned().unwrap_or_default();
        let x = p(d.path(), "x");
        assert_eq!(
            diff.before,
            format!("{{\n    \"path\": \"{x}\",\n    \"state\": \"absent\"\n}}\n")
        );
        assert_eq!(
            diff.after,
            format!("{{\n    \"path\": \"{x}\",\n    \"state\": \"directory\"\n}}\n")
        );
        let r = h.run_on(&conn, run, json!({"path": x, "mode": "0700"}), false, true);
        let diff = r.diff.first().cloned().unwrap_or_default();
        assert!(
            diff.before.contains("\"mode\": \"0755\"") && diff.after.contains("\"mode\": \"0700\""),
            "{diff:?}"
        );
        // No mode: the umask default.
        let r = h.run(run, json!({"path": p(d.path(), "plain"), "state": "directory"}));
        assert_eq!((r.changed, s(&r, "mode")), (true, "0755".into()));
    }

    #[test]
    fn touch_file_absent_and_modes() {
        let d = tmp();
        let h = Harness::new(vec![]);
        let t = p(d.path(), "t");
        let r = h.run(run, json!({"path": t, "state": "touch"}));
        assert!(r.changed && s(&r, "dest") == t && s(&r, "state") == "file", "{r:?}");
        assert_eq!(mode_of(&d.path().join("t")), 0o644);
        // touch always reports a change (times move).
        assert!(
            h.run(run, json!({"path": t, "state": "touch", "mode": "u=rw,g=r"}))
                .changed
        );
        let r = h.run(run, json!({"path": t, "state": "file", "mode": "0600"}));
        assert!(r.changed && s(&r, "mode") == "0600", "{r:?}");
        assert_eq!(mode_of(&d.path().join("t")), 0o600);
        assert!(!h.run(run, json!({"path": t, "state": "file", "mode": "0600"})).changed);
        let r = h.run(run, json!({"path": t, "mode": "g+r"}));
        assert!(r.changed && s(&r, "mode") == "0640", "{r:?}");
        let r = h.run(run, json!({"path": t, "state": "directory"}));
        assert_eq!(r.msg, Some(format!("{t} already exists as a file")));
        assert!(r.failed && s(&r, "state") == "file" && s(&r, "mode") == "0640", "{r:?}");
        let top = d.path().display().to_string();
        let r = h.run(run, json!({"path": top, "state": "file"}));
        assert_eq!(r.msg, Some(format!("file ({top}) is directory, cannot continue")));
        let r = h.run(run, json!({"path": p(d.path(), "none"), "state": "file"}));
        assert!(
            r.failed
                && r.msg
                    .as_deref()
                    .unwrap_or_default()
                    .contains("is absent, cannot continue")
        );
        let c = h.check(run, json!({"path": t, "state": "absent"}));
        assert!(
            c.changed && s(&c, "state") == "file" && s(&c, "mode") == "0640",
            "{c:?}"
        );
        let c = h.check(run, json!({"path": p(d.path(), "new"), "state": "directory"}));
        assert!(
            c.changed && !c.data.contains_key("state") && !d.path().join("new").exists(),
            "{c:?}"
        );
        assert!(d.path().join("t").exists());
        let r = h.run(run, json!({"path": t, "state": "absent"}));
        assert!(r.changed && !d.path().join("t").exists());
        assert!(!h.run(run, json!({"path": t, "state": "absent"})).changed);
    }

    #[test]
    fn links_and_hard_links() {
        let d = tmp();
        let h = Harness::new(vec![]);
        let t = p(d.path(), "t");
        let _ = std::fs::write(&t, "x");
        let l = p(d.path(), "lnk");
        let args = json!({"path": l, "state": "link", "src": t});
        let r = h.run(run, args.clone());
        assert!(
            r.changed && s(&r, "state") == "link" && s(&r, "src") == t && s(&r, "mode") == "0777",
            "{r:?}"
        );
        assert_eq!(std::fs::read_link(&l).ok(), Some(std::path::PathBuf::from(&t)));
        assert!(!h.run(run, args).changed);
        let r = h.run(run, json!({"path": l, "state": "link", "src": p(d.path(), "missing")}));
        assert!(r.failed, "{r:?}");
        let hard = p(d.path(), "hard");
        let r = h.run(run, json!({"path": hard, "state": "hard", "src": t}));
        assert!(r.changed && s(&r, "state") == "hard", "{r:?}");
        // A hard-linked file looked at without a state: Ansible says `hard` under `dest`.
        let r = h.run(run, json!({"path": t}));
        assert!(!r.changed && s(&r, "state") == "hard" && s(&r, "dest") == t, "{r:?}");
        assert!(!h.run(run, json!({"path": hard, "state": "hard", "src": t})).changed);
        // A plain file is not replaced by a link without force.
        let f = p(d.path(), "f");
        let _ = std::fs::write(&f, "y");
        let r = h.run(run, json!({"path": f, "state": "link", "src": t}));
        assert_eq!(r.msg, Some(format!("refusing to convert from file to symlink for {f}")));
        let r = h.run(run, json!({"path": f, "state": "hard", "src": t}));
        assert_eq!(r.msg.as_deref(), Some("Cannot link, file exists at destination"));
        let full = d.path().join("full");
        let _ = std::fs::create_dir_all(full.join("x"));
        let full = full.display().to_string();
        let r = h.run(run, json!({"path": full, "state": "link", "src": t, "force": true}));
        assert_eq!(
            r.msg,
            Some(format!("the directory {full} is not empty, refusing to convert it"))
        );
        let empty = p(d.path(), "empty");
        let _ = std::fs::create_dir_all(&empty);
        assert!(
            h.run(run, json!({"path": empty, "state": "link", "src": t, "force": true}))
                .changed
        );
        assert!(Path::new(&empty).is_symlink());
        let r = h.run(
            run,
            json!({"path": p(d.path(), "nf"), "state": "link", "src": "nothere", "force": true}),
        );
        assert!(r.changed && !r.data.contains_key("mode"), "{r:?}");
        assert!(
            h.run(run, json!({"path": f, "state": "link", "src": t, "force": true}))
                .changed
        );
    }

    #[test]
    fn recurse_applies_mode_below() {
        let d = tmp();
        let h = Harness::new(vec![]);
        let top = d.path().join("top");
        let _ = std::fs::create_dir_all(top.join("sub"));
        let _ = std::fs::write(top.join("sub/f"), "x");
        let args =
            json!({"path": top.display().to_string(), "state": "directory", "mode": "u=rwX,g=rX,o=", "recurse": true});
        let c = h.check(run, args.clone());
        assert!(c.changed && mode_of(&top.join("sub/f")) == 0o644, "{c:?}");
        let r = h.run(run, args.clone());
        assert!(r.changed, "{r:?}");
        assert_eq!((mode_of(&top.join("sub")), mode_of(&top.join("sub/f"))), (0o750, 0o640));
        assert!(!h.check(run, args.clone()).changed);
        assert!(!h.run(run, args).changed);
    }

    #[test]
    fn hostile_path_is_one_literal_name() {
        let d = tmp();
        let h = Harness::new(vec![]);
        let path = p(d.path(), HOSTILE);
        let r = h.run(run, json!({"path": path, "state": "directory", "mode": "0750"}));
        assert!(r.changed && !r.failed, "{r:?}");
        assert_eq!(mode_of(Path::new(&path)), 0o750);
        let names: Vec<String> = std::fs::read_dir(d.path())
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(names, vec![HOSTILE.to_string()]);
        assert!(!std::path::Path::new("PWNED").exists());
        assert!(h.run(run, json!({"path": path, "state": "absent"})).changed);
        assert!(!Path::new(&path).exists());
    }

    use std::path::Path;
}
