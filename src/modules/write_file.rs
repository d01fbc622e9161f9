//! Putting known bytes at a path on the host, as `copy` and `template` do: compare checksums
//! first, upload only when they differ (atomic temp file + rename), then fix owner, group and
//! mode, and report Ansible's fields (`dest`, `checksum`, `md5sum`, `mode`, `owner`, ...).

use super::file_attrs::{Wanted, fix_commands};
use super::remote_file::{
    Kind, Probe, RemoteStat, attr_fields, expand_user, keep_owner_commands, parse_records, probe_script, run_then_stat,
};
use super::{ModuleCtx, Outcome, context::Diff};
use crate::connection::quote::quote;
use crate::connection::{self, ExecRequest, PutFile};

/// One file to write.
pub struct WriteRequest {
    pub content: Vec<u8>,
    /// The `dest` argument as written.
    pub dest: String,
    /// The source's file name, used when `dest` is a directory; `None` for `content:`.
    pub src_name: Option<String>,
    /// What `--diff` shows as the new side's header.
    pub src_label: String,
    pub want: Wanted,
    pub force: bool,
    pub backup: bool,
    /// A check run on the new file before it replaces `dest` (`%s` is the file).
    pub validate: Option<String>,
    /// The mode of a directory made for `dest/`.
    pub directory_mode: Option<u32>,
    /// `remote_src: true`: the bytes are the host's file at this path, not `content`.
    pub remote_src: Option<String>,
}

pub fn sha1_hex(data: &[u8]) -> String {
    use sha1::{Digest, Sha1};
    hex::encode(Sha1::digest(data))
}

pub fn md5_hex(data: &[u8]) -> String {
    use md5::{Digest, Md5};
    hex::encode(Md5::digest(data))
}

fn parent_of(path: &str) -> String {
    match path.trim_end_matches('/').rsplit_once('/') {
        Some(("", _)) => "/".to_string(),
        Some((dir, _)) => dir.to_string(),
        None => ".".to_string(),
    }
}

/// Look at several paths in one round trip.
async fn stat_many(
    ctx: &ModuleCtx<'_>,
    paths: &[&str],
    probe: Probe,
) -> connection::Result<Result<Vec<Option<RemoteStat>>, String>> {
    let mut line = String::new();
    for p in paths {
        match probe_script(p, probe) {
            Ok(s) => line.push_str(&s),
            Err(e) => return Ok(Err(e)),
        }
    }
    let out = ctx.conn.exec(&ExecRequest::new(line)).await?;
    let recs = parse_records(&out.stdout);
    Ok(match recs {
        Ok(r) if r.len() == paths.len() => Ok(r),
        Ok(_) => Err(format!(
            "could not stat {}: {}",
            paths.join(", "),
            out.stderr_lossy().trim()
        )),
        Err(e) => Err(e),
    })
}

/// Write `req` on the host and report like Ansible's `copy`.
pub async fn write(ctx: &ModuleCtx<'_>, mut req: WriteRequest) -> connection::Result<Outcome> {
    req.dest = match expand_user(ctx, &req.dest).await? {
        Ok(d) => d,
        Err(e) => return Ok(Outcome::fail(e)),
    };
    if let Some(src) = &req.remote_src {
        req.remote_src = match expand_user(ctx, src).await? {
            Ok(s) => Some(s),
            Err(e) => return Ok(Outcome::fail(e)),
        };
    }
    let probe = Probe {
        follow: true,
        checksum: true,
    };
    let dir_dest = req.src_name.as_ref().map(|name| {
        let sep = if req.dest.ends_with('/') { "" } else { "/" };
        format!("{}{sep}{name}", req.dest)
    });
    // The second path: where a source lands inside a directory `dest`, else `dest`'s parent
    // (which must exist for a new file). When `dest` may be a directory the parent comes
    // third: every answer the write may need costs one round trip.
    let parent = parent_of(&req.dest);
    let mut paths = vec![req.dest.as_str()];
    let dest_may_be_dir = dir_dest.is_some();
    match &dir_dest {
        Some(d) => paths.extend([d.as_str(), parent.as_str()]),
        None => paths.push(parent.as_str()),
    }
    if let Some(src) = &req.remote_src {
        paths.push(src.as_str());
    }
    let mut stats = match stat_many(ctx, &paths, probe).await? {
        Ok(s) => s,
        Err(e) => return Ok(Outcome::fail(e)),
    };
    let remote = match &req.remote_src {
        None => None,
        Some(src) => match stats.pop().flatten() {
            None => return Ok(Outcome::fail(format!("Source {src} not found"))),
            Some(st) if st.kind == Kind::Dir => {
                return Ok(Outcome::fail(format!(
                    "copying the remote directory {src} is not supported yet"
                )));
            }
            Some(st) => Some((src.clone(), st)),
        },
    };
    let dest_is_dir = req.dest.ends_with('/') || matches!(stats.first(), Some(Some(st)) if st.kind == Kind::Dir);
    let (dest, current, parent_stat) = if dest_is_dir {
        match (dir_dest, stats.get(1)) {
            // `dest/` that is not there yet: Ansible makes the directory for a source file.
            (Some(d), Some(None)) if matches!(stats.first(), Some(None)) && !ctx.check => {
                match make_dir(ctx, &req.dest, req.directory_mode).await? {
                    Ok(made) => (d, None, made),
                    Err(e) => return Ok(Outcome::fail(e)),
                }
            }
            (Some(d), Some(st)) => (d, st.clone(), stats.first().cloned().flatten()),
            _ => return Ok(Outcome::fail("can not use content with a dir as dest")),
        }
    } else if dest_may_be_dir {
        // `dest` is a plain path after all: its parent is the third answer.
        let st = stats.first().cloned().flatten();
        let parent_stat = match st {
            Some(_) => None,
            None => stats.get(2).cloned().flatten(),
        };
        (req.dest.clone(), st, parent_stat)
    } else {
        (
            req.dest.clone(),
            stats.first().cloned().flatten(),
            stats.get(1).cloned().flatten(),
        )
    };
    if current.as_ref().is_some_and(|st| st.kind == Kind::Dir) {
        return Ok(Outcome::fail(format!("dest {dest} is a directory")));
    }
    let checksum = match &remote {
        Some((_, st)) => st.checksum.clone().unwrap_or_default(),
        None => sha1_hex(&req.content),
    };
    let mut out = Outcome::ok().with("dest", dest.as_str());
    if current.is_some() && !req.force {
        return Ok(out);
    }
    let same = current.as_ref().and_then(|st| st.checksum.as_deref()) == Some(checksum.as_str());
    if !same {
        if ctx.diff {
            out.diff.push(content_diff(ctx, &dest, current.is_some(), &req).await?);
        }
        out.changed = true;
        if ctx.check {
            // Ansible reports nothing else for a file it would write.
            out.data.clear();
            return Ok(out);
        }
        if current.is_none() {
            let parent = parent_of(&dest);
            match parent_stat {
                Some(p) if p.kind == Kind::Dir => {}
                Some(_) => {
                    return Ok(Outcome::fail(format!(
                        "Destination directory {parent} is not a directory"
                    )));
                }
                None => return Ok(Outcome::fail(format!("Destination directory {parent} does not exist"))),
            }
        }
        if req.backup && current.is_some() {
            match backup(ctx, &dest).await? {
                Ok(name) => out = out.with("backup_file", name),
                Err(e) => return Ok(Outcome::fail(e)),
            }
        }
        let base = current.as_ref().map(|st| st.mode).unwrap_or(0o644);
        let mode = match req.want.new_mode(base, false) {
            Ok(m) => m,
            Err(e) => return Ok(Outcome::fail(e)),
        };
        let put = PutFile {
            content: connection::FileContent::Bytes(req.content.clone()),
            dest: dest.clone(),
            mode,
            owner: req.want.owner.clone(),
            group: req.want.group.clone(),
        };
        if let Some((src, src_st)) = &remote {
            if let Err(e) = remote_copy(ctx, src, src_st, &put, current.is_some()).await? {
                return Ok(Outcome::fail(e));
            }
            out = out.with("src", src.as_str());
        } else {
            let keep = current.as_ref().map(|st| st.mode);
            if let Some(failed) = super::validate::put(ctx, put, req.validate.as_deref(), keep).await? {
                return Ok(failed);
            }
            out = out.with("md5sum", md5_hex(&req.content));
        }
    }
    // Attributes: fixed on what is there now (the new file already has the requested ones).
    let after = match (&current, same) {
        (Some(st), true) => {
            let cmds = match fix_commands(&dest, st, &req.want, false) {
                Ok(c) => c,
                Err(e) => return Ok(Outcome::fail(e)),
            };
            if cmds.is_empty() {
                Some(st.clone())
            } else {
                out.changed = true;
                if ctx.check {
                    let mut out = out.with("checksum", checksum.as_str()).with("state", "file");
                    out = out.with("path", dest.as_str());
                    attr_fields(st, &mut out.data);
                    return Ok(out);
                }
                match run_then_stat(ctx, &cmds.join(" && "), &dest, probe).await? {
                    Ok(s) => s,
                    Err(e) => return Ok(Outcome::fail(e)),
                }
            }
        }
        _ => {
            // Replacing a file keeps its owner and group unless others are asked for.
            let keep = match &current {
                Some(old) => {
                    match keep_owner_commands(&dest, old, req.want.owner.is_some(), req.want.group.is_some()) {
                        Ok(c) => c,
                        Err(e) => return Ok(Outcome::fail(e)),
                    }
                }
                None => Vec::new(),
            };
            match run_then_stat(ctx, &keep.join("; "), &dest, probe).await? {
                Ok(s) => s,
                Err(e) => return Ok(Outcome::fail(e)),
            }
        }
    };
    out = out.with("checksum", checksum.as_str()).with("state", "file");
    if !out.changed {
        out = out.with("path", dest.as_str());
    }
    if let Some(st) = after {
        attr_fields(&st, &mut out.data);
    }
    Ok(out)
}

/// `mkdir -p` for a `dest/` that does not exist, then what it is now.
async fn make_dir(
    ctx: &ModuleCtx<'_>,
    dir: &str,
    mode: Option<u32>,
) -> connection::Result<Result<Option<RemoteStat>, String>> {
    let trimmed = dir.trim_end_matches('/');
    let mut words = vec!["mkdir".to_string(), "-p".into()];
    if let Some(m) = mode {
        words.extend(["-m".to_string(), format!("{m:04o}")]);
    }
    words.extend(["--".to_string(), trimmed.to_string()]);
    let line = match crate::connection::quote::join(&words) {
        Ok(l) => l,
        Err(e) => return Ok(Err(e.to_string())),
    };
    run_then_stat(ctx, &line, trimmed, Probe::default()).await
}

/// `remote_src`: copy on the host through a temp file beside `put.dest`. Like Ansible, a
/// replaced file takes the source's mode and a new one the umask default, unless a mode is
/// given.
async fn remote_copy(
    ctx: &ModuleCtx<'_>,
    src: &str,
    src_st: &RemoteStat,
    put: &PutFile,
    replacing: bool,
) -> connection::Result<Result<(), String>> {
    let q = |s: &str| quote(s).map_err(|e| e.to_string());
    let (qs, qd) = match (q(src), q(&put.dest)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return Ok(Err(e)),
    };
    let mut line = format!(
        "set -e; s={qs}; d={qd}; t=\"$(dirname -- \"$d\")/.$(basename -- \"$d\").play-cp.$$\"; \
         trap 'rm -f \"$t\"' EXIT; cp -- \"$s\" \"$t\"; "
    );
    match (put.mode, replacing) {
        (Some(m), _) => line.push_str(&format!("chmod {m:04o} \"$t\"; ")),
        (None, true) => line.push_str(&format!("chmod {:04o} \"$t\"; ", src_st.mode)),
        (None, false) => line.push_str("chmod \"$(printf %o $((0666 & ~0$(umask))))\" \"$t\"; "),
    }
    if let Some(o) = &put.owner {
        match q(o) {
            Ok(o) => line.push_str(&format!("chown -- {o} \"$t\"; ")),
            Err(e) => return Ok(Err(e)),
        }
    }
    if let Some(g) = &put.group {
        match q(g) {
            Ok(g) => line.push_str(&format!("chgrp -- {g} \"$t\"; ")),
            Err(e) => return Ok(Err(e)),
        }
    }
    line.push_str("mv -f -- \"$t\" \"$d\"; trap - EXIT");
    let out = ctx.exec(line).await?;
    Ok(if out.rc == 0 {
        Ok(())
    } else {
        Err(format!(
            "could not copy {src} to {}: {}",
            put.dest,
            out.stderr_lossy().trim()
        ))
    })
}

async fn content_diff(ctx: &ModuleCtx<'_>, dest: &str, exists: bool, req: &WriteRequest) -> connection::Result<Diff> {
    let before = if exists {
        String::from_utf8_lossy(&ctx.conn.get_file(dest).await?).into_owned()
    } else {
        String::new()
    };
    Ok(Diff {
        before_header: dest.to_string(),
        after_header: req.src_label.clone(),
        before,
        after: match &req.remote_src {
            Some(src) => String::from_utf8_lossy(&ctx.conn.get_file(src).await?).into_owned(),
            None => String::from_utf8_lossy(&req.content).into_owned(),
        },
    })
}

/// Copy `dest` aside as `dest.<pid>.<date>@<time>~` (Ansible's backup name); returns the name.
pub async fn backup(ctx: &ModuleCtx<'_>, dest: &str) -> connection::Result<Result<String, String>> {
    let q = match quote(dest) {
        Ok(q) => q,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let line = format!("b={q}.$$.$(date +%Y-%m-%d@%H:%M:%S~) && cp -p -- {q} \"$b\" && printf %s \"$b\"");
    let out = ctx.exec(line).await?;
    Ok(if out.rc == 0 {
        Ok(out.stdout_lossy())
    } else {
        Err(format!("could not back up {dest}: {}", out.stderr_lossy().trim()))
    })
}

/// The common file arguments copy and template accept.
pub const COMMON_FILE_ARGS: &[&str] = &[
    "mode",
    "owner",
    "group",
    "force",
    "backup",
    "seuser",
    "serole",
    "setype",
    "selevel",
    "unsafe_writes",
    "attributes",
    "validate",
    "follow",
    "local_follow",
    "directory_mode",
    "checksum",
    "decrypt",
    "remote_src",
];

/// `directory_mode:` as octal bits (a symbolic one is applied to the default 0755).
pub fn directory_mode(args: &super::args::Args<'_>) -> Result<Option<u32>, String> {
    Ok(match args.mode("directory_mode")? {
        None => None,
        Some(super::args::Mode::Bits(b)) => Some(b),
        Some(super::args::Mode::Symbolic(s)) => Some(super::file_attrs::symbolic(&s, 0o755, true)?),
    })
}
