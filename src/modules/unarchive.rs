//! `unarchive`: unpack a tar (plain, gzip, bzip2, xz, zstd) or zip archive into an existing
//! directory on the host. A controller `src` is uploaded first; `remote_src: true` uses the
//! host's file. Idempotence: the archive is unpacked into a scratch directory on the host and
//! every member is compared with `dest` (same bytes for files, same target for links, a
//! directory for directories); only a difference unpacks into `dest`, as Ansible does.

use super::args::{Args, Mode};
use super::remote_file::{Kind, Probe, attr_fields, expand_user};
use super::{ModuleCtx, Outcome};
use crate::connection::quote::{join, quote};
use crate::connection::{self, BoxFuture, ExecRequest, FileContent, PutFile};
use crate::value::{Map, Value};

const KNOWN: &[&str] = &[
    "src",
    "dest",
    "remote_src",
    "copy",
    "creates",
    "list_files",
    "extra_opts",
    "mode",
    "owner",
    "group",
    "decrypt",
    "validate_certs",
    "unsafe_writes",
];

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let plan = match parse(ctx) {
            Ok(p) => p,
            Err(msg) => return Ok(Outcome::fail(msg)),
        };
        unpack(ctx, plan).await
    })
}

struct Plan {
    src: String,
    dest: String,
    remote_src: bool,
    creates: Option<String>,
    list_files: bool,
    extra: Vec<String>,
    mode: Option<Mode>,
    owner: Option<String>,
    group: Option<String>,
}

fn parse(ctx: &ModuleCtx<'_>) -> Result<Plan, String> {
    let args = Args::new("unarchive", ctx.args);
    args.only(KNOWN)?;
    let src = args.required_str("src")?;
    let dest = args.required_str("dest")?;
    // `copy: false` is the old spelling of `remote_src: true`.
    let remote_src = args.bool("remote_src", false)? || !args.bool("copy", true)?;
    if remote_src && src.contains("://") {
        return Err("downloading a remote src URL is not supported; use get_url first".into());
    }
    Ok(Plan {
        src,
        dest,
        remote_src,
        creates: args.str("creates")?,
        list_files: args.bool("list_files", false)?,
        extra: args.list("extra_opts")?.unwrap_or_default(),
        mode: args.mode("mode")?,
        owner: args.str("owner")?,
        group: args.str("group")?,
    })
}

/// What the host found out about the archive.
struct Inspection {
    handler: String,
    files: Vec<String>,
    differs: bool,
}

/// Names the archive's format (Ansible's handler class names) and lists its members, without
/// unpacking anything. Prints `handler\0members`.
fn list_script(src: &str) -> Result<String, String> {
    let s = quote(src).map_err(|e| e.to_string())?;
    Ok(format!(
        "s={s}; m=$(od -An -tx1 -N6 -- \"$s\" | tr -d ' \\n') || exit 3; \
         case $m in 504b0304*|504b0506*) h=ZipArchive;; 1f8b*) h=TgzArchive;; 425a68*) h=TarBzipArchive;; \
         fd377a585a00*) h=TarXzArchive;; 28b52ffd*) h=TarZstdArchive;; *) h=TarArchive;; esac; \
         if [ $h = ZipArchive ]; then command -v unzip >/dev/null 2>&1 || {{ echo NOUNZIP; exit 4; }}; \
           l=$(unzip -Z1 -- \"$s\") || exit 5; \
         else l=$(tar -tf \"$s\") || exit 5; fi; \
         printf '%s\\000%s' \"$h\" \"$l\""
    ))
}

/// Unpacks into a scratch directory and compares every member with `dest`; prints `x` when
/// something differs.
fn compare_script(handler: &str, src: &str, dest: &str, extra: &str) -> Result<String, String> {
    let (s, d) = (
        quote(src).map_err(|e| e.to_string())?,
        quote(dest).map_err(|e| e.to_string())?,
    );
    let x = if handler == "ZipArchive" {
        format!("unzip -q -o \"$s\" {extra} -d \"$w\"")
    } else {
        format!("tar -xf \"$s\" -C \"$w\" {extra}")
    };
    Ok(format!(
        "s={s}; d={d}; w=$(mktemp -d) || exit 1; trap 'rm -rf \"$w\"' EXIT; {x} >/dev/null 2>&1 || exit 5; cd \"$w\" || exit 1; \
         find . -mindepth 1 \\( -type l -exec sh -c 'for f; do [ \"$(readlink -- \"$f\")\" = \"$(readlink -- \"$0/$f\" 2>/dev/null)\" ] || {{ echo x; exit; }}; done' \"$d\" {{}} + \\) \
           -o \\( -type d -exec sh -c 'for f; do [ -d \"$0/$f\" ] || {{ echo x; exit; }}; done' \"$d\" {{}} + \\) \
           -o \\( -type f -exec sh -c 'for f; do cmp -s -- \"$f\" \"$0/$f\" || {{ echo x; exit; }}; done' \"$d\" {{}} + \\) | head -c1"
    ))
}

/// Why an archive may not be unpacked: a member that would land outside `dest` (an absolute
/// name, a `..` component) or one reached through another member that is not a directory
/// (a link the archive itself plants, then writes through). Nothing is unpacked then; GNU tar
/// would strip or skip such members and unpack the rest, which hides the attempt.
pub(super) fn unsafe_member(files: &[String]) -> Option<String> {
    use std::collections::HashSet;
    let non_dirs: HashSet<&str> = files
        .iter()
        .filter(|f| !f.ends_with('/'))
        .map(|f| f.trim_start_matches("./"))
        .collect();
    for f in files {
        if f.starts_with('/') {
            return Some(format!("member '{f}' has an absolute path"));
        }
        let parts: Vec<&str> = f.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
        if parts.contains(&"..") {
            return Some(format!("member '{f}' has a '..' component and would land outside dest"));
        }
        for n in 1..parts.len() {
            let prefix = parts.get(..n).unwrap_or_default().join("/");
            if non_dirs.contains(prefix.as_str()) {
                return Some(format!(
                    "member '{f}' is under '{prefix}', which the archive makes a link or file, not a directory"
                ));
            }
        }
    }
    None
}

/// The unpack command Ansible's handler would run.
fn extract_words(handler: &str, src: &str, dest: &str, extra: &[String]) -> Vec<String> {
    let mut w: Vec<String> = if handler == "ZipArchive" {
        vec!["unzip".into(), "-o".into(), src.into()]
    } else {
        let mut t = vec!["tar".into(), "--extract".into(), "-C".into(), dest.into()];
        match handler {
            "TgzArchive" => t.push("-z".into()),
            "TarBzipArchive" => t.push("-j".into()),
            "TarXzArchive" => t.push("-J".into()),
            "TarZstdArchive" => t.push("--zstd".into()),
            _ => {}
        }
        t
    };
    w.extend(extra.iter().cloned());
    if handler == "ZipArchive" {
        w.extend(["-d".into(), dest.into()]);
    } else {
        w.extend(["-f".into(), src.into()]);
    }
    w
}

async fn unpack(ctx: &ModuleCtx<'_>, mut plan: Plan) -> connection::Result<Outcome> {
    plan.dest = match expand_user(ctx, &plan.dest).await? {
        Ok(d) => d,
        Err(e) => return Ok(Outcome::fail(e)),
    };
    if let Some(c) = &plan.creates {
        let q = match quote(c) {
            Ok(q) => q,
            Err(e) => return Ok(Outcome::fail(e.to_string())),
        };
        if ctx.exec(format!("test -e {q}")).await?.rc == 0 {
            let mut out = Outcome::ok().msg(format!("skipped, since {c} exists"));
            out.skipped = true;
            return Ok(out);
        }
    }
    let dest_st = match super::remote_file::stat(ctx, &plan.dest, Probe::default()).await? {
        Ok(s) => s,
        Err(e) => return Ok(Outcome::fail(e)),
    };
    if !dest_st.as_ref().is_some_and(|st| st.kind == Kind::Dir) {
        return Ok(Outcome::fail(format!("dest '{}' must be an existing dir", plan.dest)));
    }
    // The archive on the host: as given, or uploaded into a scratch directory.
    let mut scratch = None;
    let src = if plan.remote_src {
        match expand_user(ctx, &plan.src).await? {
            Ok(s) => s,
            Err(e) => return Ok(Outcome::fail(e)),
        }
    } else {
        let Some(local) = ctx.find_source("files", &plan.src) else {
            return Ok(Outcome::fail(format!(
                "Could not find or access '{}' on the Ansible Controller.",
                plan.src
            )));
        };
        let out = ctx.exec("mktemp -d").await?;
        let dir = out.stdout_lossy().trim().to_string();
        if out.rc != 0 || dir.is_empty() {
            return Ok(Outcome::fail(format!(
                "could not make a temp dir: {}",
                out.stderr_lossy().trim()
            )));
        }
        let name = local
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "archive".into());
        let remote = format!("{dir}/{name}");
        let put = PutFile {
            content: FileContent::LocalPath(local),
            dest: remote.clone(),
            mode: Some(0o600),
            owner: None,
            group: None,
        };
        scratch = Some(dir);
        if let Err(e) = ctx.conn.put_file(&put).await {
            cleanup(ctx, &scratch).await?;
            return Err(e);
        }
        remote
    };
    let result = unpack_src(ctx, &plan, &src).await;
    cleanup(ctx, &scratch).await?;
    result
}

async fn cleanup(ctx: &ModuleCtx<'_>, scratch: &Option<String>) -> connection::Result<()> {
    if let Some(dir) = scratch
        && let Ok(q) = quote(dir)
    {
        ctx.exec(format!("rm -rf -- {q}")).await?;
    }
    Ok(())
}

async fn unpack_src(ctx: &ModuleCtx<'_>, plan: &Plan, src: &str) -> connection::Result<Outcome> {
    let extra = match join(&plan.extra) {
        Ok(e) => e,
        Err(e) => return Ok(Outcome::fail(e.to_string())),
    };
    let line = match list_script(src) {
        Ok(l) => l,
        Err(e) => return Ok(Outcome::fail(e)),
    };
    let out = ctx.exec(line).await?;
    let text = out.stdout_lossy();
    let (handler, files) = match out.rc {
        0 => {
            let mut parts = text.splitn(2, '\0');
            let handler = parts.next().unwrap_or_default().to_string();
            let files: Vec<String> = parts
                .next()
                .unwrap_or_default()
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect();
            (handler, files)
        }
        3 => return Ok(Outcome::fail(format!("Source '{src}' not readable"))),
        4 => {
            return Ok(Outcome::fail(format!(
                "Failed to find handler for \"{src}\". Make sure the required command to extract the file is \
                 installed.\nUnable to find required 'unzip' binary in the path."
            )));
        }
        _ => return Ok(failed_handler(src, &out.stderr_lossy())),
    };
    if let Some(why) = unsafe_member(&files) {
        return Ok(Outcome::fail(format!(
            "refusing to unpack {src}: {why}; nothing was unpacked"
        )));
    }
    let line = match compare_script(&handler, src, &plan.dest, &extra) {
        Ok(l) => l,
        Err(e) => return Ok(Outcome::fail(e)),
    };
    let out = ctx.exec(line).await?;
    if out.rc != 0 {
        return Ok(failed_handler(src, &out.stderr_lossy()));
    }
    let inspection = Inspection {
        handler,
        files,
        differs: !out.stdout_lossy().trim().is_empty(),
    };
    let mut res = Outcome::ok()
        .with("handler", inspection.handler.as_str())
        .with("dest", plan.dest.as_str())
        .with("src", src);
    res.changed = inspection.differs;
    if inspection.differs && !ctx.check {
        let words = extract_words(&inspection.handler, src, &plan.dest, &plan.extra);
        let cmd = match join(&words) {
            Ok(c) => c,
            Err(e) => return Ok(Outcome::fail(e.to_string())),
        };
        let run = ctx.conn.exec(&ExecRequest::new(cmd)).await?;
        let mut er = Map::new();
        er.insert("cmd".into(), Value::List(words.into_iter().map(Value::Str).collect()));
        er.insert("rc".into(), Value::Int(run.rc.into()));
        er.insert("out".into(), Value::str(run.stdout_lossy()));
        er.insert("err".into(), Value::str(run.stderr_lossy()));
        res = res.with("extract_results", Value::Map(er));
        if run.rc != 0 {
            res.failed = true;
            res.msg = Some(format!("failed to unpack {src} to {}", plan.dest));
            return Ok(res);
        }
    }
    if !ctx.check {
        match fix_attrs(ctx, plan, &inspection.files).await? {
            Ok(changed) => res.changed |= changed,
            Err(e) => return Ok(Outcome::fail(e)),
        }
    }
    if plan.list_files {
        res = res.with("files", Value::List(inspection.files.iter().map(Value::str).collect()));
    }
    if let Ok(Some(st)) = super::remote_file::stat(ctx, &plan.dest, Probe::default()).await? {
        attr_fields(&st, &mut res.data);
        res.data.insert("state".into(), Value::str("directory"));
    }
    Ok(res)
}

fn failed_handler(src: &str, stderr: &str) -> Outcome {
    Outcome::fail(format!(
        "Failed to find handler for \"{src}\". Make sure the required command to extract the file is \
         installed.\n{}",
        stderr.trim()
    ))
}

/// Owner, group and mode on every member (and each top folder), as Ansible applies them;
/// changed when any `stat` line differs afterwards.
async fn fix_attrs(ctx: &ModuleCtx<'_>, plan: &Plan, files: &[String]) -> connection::Result<Result<bool, String>> {
    if plan.mode.is_none() && plan.owner.is_none() && plan.group.is_none() {
        return Ok(Ok(false));
    }
    let mut paths: Vec<String> = Vec::new();
    for f in files {
        let top = f.split('/').next().unwrap_or_default();
        for p in [f.trim_end_matches('/'), top] {
            let full = format!("{}/{p}", plan.dest.trim_end_matches('/'));
            if !p.is_empty() && !paths.contains(&full) {
                paths.push(full);
            }
        }
    }
    let list = match join(&paths) {
        Ok(l) => l,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let mut fix = Vec::new();
    let quoted = |s: &str| quote(s).map_err(|e| e.to_string());
    if let Some(o) = &plan.owner {
        match quoted(o) {
            Ok(o) => fix.push(format!("chown -h -- {o} {list}")),
            Err(e) => return Ok(Err(e)),
        }
    }
    if let Some(g) = &plan.group {
        match quoted(g) {
            Ok(g) => fix.push(format!("chgrp -h -- {g} {list}")),
            Err(e) => return Ok(Err(e)),
        }
    }
    if let Some(m) = &plan.mode {
        // `chmod` would follow links; only real files and directories get the mode.
        match quoted(&m.chmod_arg()) {
            Ok(m) => fix.push(format!("for f in {list}; do [ -L \"$f\" ] || chmod {m} \"$f\"; done")),
            Err(e) => return Ok(Err(e)),
        }
    }
    let line = format!(
        "b=$(stat -c '%a %U %G' -- {list}) && {} && a=$(stat -c '%a %U %G' -- {list}) && \
         {{ [ \"$a\" = \"$b\" ] || echo changed; }}",
        fix.join(" && ")
    );
    let out = ctx.exec(line).await?;
    Ok(if out.rc == 0 {
        Ok(out.stdout_lossy().contains("changed"))
    } else {
        Err(format!("could not set attributes: {}", out.stderr_lossy().trim()))
    })
}

#[cfg(test)]
#[path = "unarchive_tests.rs"]
mod tests;
