//! `file` with `state: link` or `state: hard`: make the link, or refuse as Ansible refuses
//! (a file, a hard-linked file or a non-empty directory in the way without `force`).

use super::file::{Step, Task, failed, result, state_of};
use super::file_attrs::fix_commands;
use super::remote_file::{Kind, Probe, RemoteStat, parse_records, probe_script, run_then_stat};
use super::{ModuleCtx, Outcome};
use crate::connection::ExecRequest;
use crate::connection::quote::join;
use crate::value::Value;

/// Turn a task-failure message into an early `Ok(Err(..))`.
macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return Ok(Err(e.to_string())),
        }
    };
}

/// state=link and state=hard.
pub(super) async fn link(ctx: &ModuleCtx<'_>, t: &Task) -> Step {
    let state = t.state.as_deref().unwrap_or("link");
    let hard = state == "hard";
    let Some(src) = t.src.clone() else {
        return Ok(Err(format!("src is required for creating a {state} link")));
    };
    // A relative symlink source is read from the link's directory.
    let src_seen = if src.starts_with('/') || hard {
        src.clone()
    } else {
        match t.path.rsplit_once('/') {
            Some((dir, _)) => format!("{}/{src}", if dir.is_empty() { "" } else { dir }),
            None => src.clone(),
        }
    };
    let probe = Probe::default();
    let mut line = tri!(probe_script(&t.path, probe));
    line.push_str(&tri!(probe_script(
        &src_seen,
        Probe {
            follow: true,
            checksum: false
        }
    )));
    let out = ctx.conn.exec(&ExecRequest::new(line)).await?;
    let recs = tri!(parse_records(&out.stdout));
    let (current, source) = match recs.as_slice() {
        [a, b] => (a.clone(), b.clone()),
        _ => return Ok(Err(format!("could not stat {}: {}", t.path, out.stderr_lossy().trim()))),
    };
    if source.is_none() && (hard || !t.force) {
        let msg = if hard {
            format!("src does not exist: {src}")
        } else {
            format!("src file does not exist, use 'force=yes' if you really want to create the link: {src_seen}")
        };
        let out = Outcome::fail(msg)
            .with("path", t.path.as_str())
            .with("src", src.as_str());
        return Ok(Ok(out));
    }
    let up_to_date = match (&current, &source) {
        (Some(c), _) if !hard && c.kind == Kind::Link => c.link_target.as_deref() == Some(src.as_str()),
        (Some(c), Some(s)) if hard => c.kind != Kind::Link && c.inode == s.inode && c.dev == s.dev,
        _ => false,
    };
    let mut cmds = Vec::new();
    if !up_to_date {
        if let Some(c) = &current {
            let from = state_of(c);
            let refuse = |msg: String, key: &str| Ok(Ok(failed(result(key, &t.path, &current, from, false), msg)));
            match (c.kind, hard, t.force) {
                (Kind::Link, _, _) => {}
                (Kind::Dir, true, _) => {
                    return refuse(
                        format!("refusing to convert from directory to hard for {}", t.path),
                        "dest",
                    );
                }
                (Kind::Dir, false, false) => {
                    return refuse(
                        format!("refusing to convert from directory to symlink for {}", t.path),
                        "path",
                    );
                }
                (Kind::Dir, false, true) => {
                    // Only an empty directory gives way to a link.
                    let rm = tri!(join(&["rmdir", "--", &t.path]).map_err(|e| e.to_string()));
                    if !ctx.check {
                        let r = ctx.exec(rm).await?;
                        if r.rc != 0 {
                            return refuse(
                                format!("the directory {} is not empty, refusing to convert it", t.path),
                                "path",
                            );
                        }
                    }
                }
                (_, false, false) => {
                    return refuse(
                        format!("refusing to convert from {from} to symlink for {}", t.path),
                        "path",
                    );
                }
                (_, true, false) => return refuse("Cannot link, file exists at destination".into(), "dest"),
                _ => {}
            }
        }
        let words: Vec<&str> = if hard {
            vec!["ln", "-f", "--", &src, &t.path]
        } else {
            vec!["ln", "-sfn", "--", &src, &t.path]
        };
        cmds.push(tri!(join(&words).map_err(|e| e.to_string())));
    } else if let Some(c) = &current {
        cmds.extend(tri!(fix_commands(&t.path, c, &t.want, !hard)));
    }
    let finish = |st: &Option<RemoteStat>, changed: bool| {
        // A link to nothing reports no attributes (Ansible cannot follow it).
        let st = if source.is_some() { st } else { &None };
        let mut out = result("dest", &t.path, st, state, changed);
        out.data.insert("src".into(), Value::str(&src));
        out
    };
    if cmds.is_empty() {
        return Ok(Ok(finish(&current, false)));
    }
    if ctx.check {
        return Ok(Ok(finish(&current, true)));
    }
    let mut after = match run_then_stat(ctx, &cmds.join(" && "), &t.path, probe).await? {
        Ok(s) => s,
        Err(e) => return Ok(Err(e)),
    };
    if !up_to_date {
        // The new link gets the requested attributes too.
        if let Some(st) = &after {
            let fix = tri!(fix_commands(&t.path, st, &t.want, !hard));
            if !fix.is_empty() {
                after = match run_then_stat(ctx, &fix.join(" && "), &t.path, probe).await? {
                    Ok(s) => s,
                    Err(e) => return Ok(Err(e)),
                };
            }
        }
    }
    Ok(Ok(finish(&after, true)))
}
