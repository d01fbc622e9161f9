//! `get_url`: download a URL on the host with curl into a temp file beside `dest`, check the
//! checksum there, then rename it over `dest`. Ansible's flow: an existing `dest` with a
//! matching `checksum` (and no `force`) is not downloaded; otherwise the request carries
//! `If-Modified-Since` (unless `force`), and the file is replaced only when its SHA-1 differs.

use super::args::Args;
use super::file_attrs::{Wanted, fix_commands};
use super::http_client::{self, Request, Response};
use super::remote_file::{
    Kind, Probe, RemoteStat, attr_fields, expand_user, parse_records, probe_script, run_then_stat,
};
use super::{ModuleCtx, Outcome};
use crate::connection::quote::quote;
use crate::connection::{self, BoxFuture};
use crate::value::Value;
use std::time::Instant;

const KNOWN: &[&str] = &[
    "url",
    "dest",
    "backup",
    "checksum",
    "force",
    "force_basic_auth",
    "timeout",
    "headers",
    "url_username",
    "username",
    "url_password",
    "password",
    "validate_certs",
    "use_proxy",
    "use_netrc",
    "http_agent",
    "decompress",
    "mode",
    "owner",
    "group",
    "unsafe_writes",
];

/// Digest algorithms a `checksum:` may name, with the coreutils tool that computes each.
const ALGORITHMS: &[(&str, &str)] = &[
    ("md5", "md5sum"),
    ("sha1", "sha1sum"),
    ("sha224", "sha224sum"),
    ("sha256", "sha256sum"),
    ("sha384", "sha384sum"),
    ("sha512", "sha512sum"),
];

const EMPTY_SHA1: &str = "da39a3ee5e6b4b0d3255bfef95601890afd80709";

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let plan = match parse(ctx) {
            Ok(p) => p,
            Err(msg) => return Ok(Outcome::fail(msg)),
        };
        get(ctx, plan).await
    })
}

struct Plan {
    url: String,
    dest: String,
    force: bool,
    backup: bool,
    /// `(algorithm, value)` as written; the value may be a URL of a checksum file.
    checksum: Option<(String, String)>,
    want: Wanted,
    base: Request,
}

fn parse(ctx: &ModuleCtx<'_>) -> Result<Plan, String> {
    let args = Args::new("get_url", ctx.args);
    args.only(KNOWN)?;
    let url = args.required_str("url")?;
    let dest = args.required_str("dest")?;
    let checksum = match args.str("checksum")?.filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => match c.split_once(':') {
            Some((a, v)) => Some((a.to_ascii_lowercase(), v.to_string())),
            None => return Err("The checksum parameter has to be in format <algorithm>:<checksum>".into()),
        },
    };
    let user = args.str("url_username")?.or(args.str("username")?);
    let pass = args.str("url_password")?.or(args.str("password")?);
    let headers = http_client::headers_arg(&args)?;
    let base = Request {
        url: url.clone(),
        headers,
        timeout: args.int("timeout")?.unwrap_or(10).max(0) as u64,
        validate_certs: args.bool("validate_certs", true)?,
        follow_redirects: true,
        auth: user.map(|u| (u, pass.unwrap_or_default())),
        agent: args.str("http_agent")?.unwrap_or_else(|| "ansible-httpget".into()),
        no_proxy: !args.bool("use_proxy", true)?,
        compressed: args.bool("decompress", true)?,
        ..Request::default()
    };
    Ok(Plan {
        url,
        dest,
        force: args.bool("force", false)?,
        backup: args.bool("backup", false)?,
        checksum,
        want: Wanted::from_args(&args)?,
        base,
    })
}

fn tool(algorithm: &str) -> Result<&'static str, String> {
    ALGORITHMS
        .iter()
        .find(|(a, _)| *a == algorithm)
        .map(|(_, t)| *t)
        .ok_or_else(|| {
            let names: Vec<&str> = ALGORITHMS.iter().map(|(a, _)| *a).collect();
            format!(
                "Could not hash file with algorithm '{algorithm}'. Available algorithms: {}",
                names.join(", ")
            )
        })
}

fn is_url(s: &str) -> bool {
    ["http://", "https://", "ftp://", "file://"]
        .iter()
        .any(|p| s.to_ascii_lowercase().starts_with(p))
}

/// Ansible's clean-up of a given digest: drop non-word characters, lower-case, must be hex.
fn clean_digest(raw: &str) -> Result<String, String> {
    let d: String = raw
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '_')
        .collect::<String>()
        .to_lowercase();
    if d.is_empty() || !d.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err("The checksum format is invalid".into());
    }
    Ok(d)
}

/// The digest for `filename` in a checksum file: a lone digest, GNU lines (`<sum>  [*]name`)
/// or BSD lines (`SHA256 (name) = <sum>`).
fn digest_for(filename: &str, text: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    if let [only] = lines.as_slice()
        && only.split_whitespace().count() == 1
    {
        return Some(only.trim().to_string());
    }
    for line in lines {
        if let Some((_, rest)) = line.split_once(" (")
            && let Some((path, digest)) = rest.split_once(") = ")
        {
            if path == filename {
                return Some(digest.trim().to_string());
            }
            continue;
        }
        let mut parts = line.splitn(2, char::is_whitespace);
        let (Some(digest), Some(path)) = (parts.next(), parts.next()) else {
            continue;
        };
        let path = path
            .trim_start()
            .trim_start_matches(['*'])
            .trim_start_matches(['.', '/']);
        if path == filename {
            return Some(digest.to_string());
        }
    }
    None
}

fn parent_of(path: &str) -> String {
    match path.trim_end_matches('/').rsplit_once('/') {
        Some(("", _)) => "/".into(),
        Some((d, _)) => d.into(),
        None => ".".into(),
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

async fn stat2(ctx: &ModuleCtx<'_>, a: &str, b: &str) -> connection::Result<Result<Vec<Option<RemoteStat>>, String>> {
    let probe = Probe {
        follow: true,
        checksum: true,
    };
    let line = match (probe_script(a, probe), probe_script(b, probe)) {
        (Ok(x), Ok(y)) => format!("{x}{y}"),
        (Err(e), _) | (_, Err(e)) => return Ok(Err(e)),
    };
    let out = ctx.exec(line).await?;
    Ok(parse_records(&out.stdout).and_then(|v| {
        if v.len() == 2 {
            Ok(v)
        } else {
            Err(format!("could not stat {a}: {}", out.stderr_lossy().trim()))
        }
    }))
}

/// `<tool> < path` on the host: the hex digest, or `None` when the file cannot be read.
async fn digest(ctx: &ModuleCtx<'_>, tool: &str, path: &str) -> connection::Result<Result<String, String>> {
    let q = match quote(path) {
        Ok(q) => q,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let out = ctx.exec(format!("{tool} < {q}")).await?;
    Ok(if out.rc == 0 {
        Ok(out
            .stdout_lossy()
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string())
    } else {
        Err(format!("could not hash {path}: {}", out.stderr_lossy().trim()))
    })
}

fn base_result(url: &str, dest: &str) -> Outcome {
    Outcome::ok()
        .with("checksum_dest", Value::Null)
        .with("checksum_src", Value::Null)
        .with("dest", dest)
        .with("elapsed", 0i64)
        .with("url", url)
}

fn path_info(out: &mut Outcome, st: &RemoteStat) {
    attr_fields(st, &mut out.data);
    out.data.insert("state".into(), Value::str("file"));
}

/// Bring `dest`'s owner/group/mode to what is asked; returns its new stat and whether it changed.
async fn fix_attrs(
    ctx: &ModuleCtx<'_>,
    dest: &str,
    st: RemoteStat,
    want: &Wanted,
) -> connection::Result<Result<(RemoteStat, bool), String>> {
    let cmds = match fix_commands(dest, &st, want, false) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    if cmds.is_empty() || ctx.check {
        return Ok(Ok((st, !cmds.is_empty())));
    }
    let probe = Probe {
        follow: true,
        checksum: true,
    };
    Ok(match run_then_stat(ctx, &cmds.join(" && "), dest, probe).await? {
        Ok(Some(now)) => Ok((now, true)),
        Ok(None) => Err(format!("{dest} vanished")),
        Err(e) => Err(e),
    })
}

async fn get(ctx: &ModuleCtx<'_>, mut plan: Plan) -> connection::Result<Outcome> {
    let started = Instant::now();
    plan.dest = match expand_user(ctx, &plan.dest).await? {
        Ok(d) => d,
        Err(e) => return Ok(Outcome::fail(e)),
    };
    let (url, mut dest) = (plan.url.clone(), plan.dest.clone());
    let result = base_result(&url, &dest);
    let fail = |msg: String| {
        let mut r = result.clone();
        r.failed = true;
        r.msg = Some(msg);
        r
    };
    // The digest to expect, fetched first when it is a checksum file's URL.
    let mut expected: Option<(String, &'static str)> = None;
    if let Some((algorithm, value)) = &plan.checksum {
        let t = match tool(algorithm) {
            Ok(t) => t,
            Err(e) => return Ok(fail(e)),
        };
        let raw = if is_url(value) {
            let req = Request {
                url: value.clone(),
                ..plan.base.clone()
            };
            let resp = match http_client::fetch(ctx, &req).await? {
                Ok(r) => r,
                Err(e) => return Ok(fail(e)),
            };
            if let Some(failed) = request_failed(&resp, value, &dest, started) {
                return Ok(failed);
            }
            let name = http_client::url_filename(&url);
            match digest_for(&name, &String::from_utf8_lossy(&resp.body)) {
                Some(d) => d,
                None => {
                    return Ok(Outcome::fail(format!(
                        "Unable to find a checksum for file '{name}' in '{value}'"
                    )));
                }
            }
        } else {
            value.clone()
        };
        match clean_digest(&raw) {
            Ok(d) => expected = Some((d, t)),
            Err(e) => return Ok(fail(e)),
        }
    }
    let stats = match stat2(ctx, &dest, &parent_of(&dest)).await? {
        Ok(s) => s,
        Err(e) => return Ok(fail(e)),
    };
    let (mut current, parent) = (stats.first().cloned().flatten(), stats.get(1).cloned().flatten());
    let dest_is_dir = current.as_ref().is_some_and(|st| st.kind == Kind::Dir);
    let mut force = plan.force;
    let mut req = plan.base.clone();
    if let Some(st) = current.clone().filter(|_| !dest_is_dir) {
        let mut mismatch = false;
        if let (false, Some((want, t))) = (force, &expected) {
            let have = match digest(ctx, t, &dest).await? {
                Ok(h) => h,
                Err(e) => return Ok(fail(e)),
            };
            mismatch = &have != want;
            if !mismatch {
                let (st, changed) = match fix_attrs(ctx, &dest, st, &plan.want).await? {
                    Ok(x) => x,
                    Err(e) => return Ok(fail(e)),
                };
                let mut out = result.clone();
                out.changed = changed;
                out.msg = Some(if changed {
                    "file already exists but file attributes changed".into()
                } else {
                    "file already exists".into()
                });
                path_info(&mut out, &st);
                return Ok(out);
            }
        }
        if mismatch {
            force = true;
        }
        if !force {
            req.time_cond = Some(dest.clone());
        }
    }
    // Where the body lands: beside the final file, so the rename is atomic.
    let dir = if dest_is_dir { dest.clone() } else { parent_of(&dest) };
    let dir_ok = if dest_is_dir {
        true
    } else {
        parent.as_ref().is_some_and(|p| p.kind == Kind::Dir)
    };
    let tmp = join(&dir, &format!(".play-get_url.{}.tmp", unique()));
    if ctx.check {
        req.head = true;
        req.output = Some("/dev/null".into());
    } else if dir_ok {
        req.output = Some(tmp.clone());
    } else {
        req.output = Some("/dev/null".into());
    }
    let resp = match http_client::fetch(ctx, &req).await? {
        Ok(r) => r,
        Err(e) => return Ok(fail(e)),
    };
    let elapsed = started.elapsed().as_secs() as i64;
    if resp.curl_rc == 0 && resp.status == 304 {
        let mut out = Outcome::ok()
            .with("url", url.as_str())
            .with("dest", dest.as_str())
            .with("status_code", 304i64)
            .with("elapsed", elapsed)
            .msg(resp.error_msg());
        if let Some(st) = current.as_ref().filter(|_| !dest_is_dir) {
            path_info(&mut out, st);
        }
        return Ok(out);
    }
    if let Some(failed) = request_failed(&resp, &url, &dest, started) {
        remove(ctx, &tmp, !ctx.check && dir_ok).await?;
        return Ok(failed);
    }
    let mut out = result.clone().with("elapsed", elapsed).with("src", tmp.as_str());
    if dest_is_dir {
        let name = resp
            .header("content-disposition")
            .and_then(http_client::disposition_filename)
            .unwrap_or_else(|| http_client::url_filename(&resp.url));
        dest = join(&dest, &name);
        out = out.with("dest", dest.as_str());
        current = match super::remote_file::stat(
            ctx,
            &dest,
            Probe {
                follow: true,
                checksum: true,
            },
        )
        .await?
        {
            Ok(s) => s,
            Err(e) => return Ok(fail(e)),
        };
    }
    if !dir_ok {
        out.failed = true;
        out.msg = Some(format!("Destination {dir} does not exist"));
        return Ok(out);
    }
    let checksum_dest = current.as_ref().and_then(|st| st.checksum.clone());
    if let Some(c) = &checksum_dest {
        out = out.with("checksum_dest", c.as_str());
    }
    if ctx.check {
        // Ansible's check mode sends HEAD and compares the empty body with `dest`.
        out.changed = checksum_dest.as_deref() != Some(EMPTY_SHA1);
        out = out.with("checksum_src", EMPTY_SHA1);
        out.msg = Some(resp.ok_msg());
        return Ok(out);
    }
    let checksum_src = match digest(ctx, "sha1sum", &tmp).await? {
        Ok(d) => d,
        Err(e) => return Ok(fail(e)),
    };
    out = out.with("checksum_src", checksum_src.as_str());
    if let Some((want, t)) = &expected {
        let got = match digest(ctx, t, &tmp).await? {
            Ok(d) => d,
            Err(e) => return Ok(fail(e)),
        };
        if &got != want {
            remove(ctx, &tmp, true).await?;
            out.failed = true;
            out.msg = Some(format!("The checksum for {tmp} did not match {want}; it was {got}."));
            return Ok(out);
        }
    }
    let changed = checksum_dest.as_deref() != Some(checksum_src.as_str());
    if changed {
        if plan.backup && current.is_some() {
            match super::write_file::backup(ctx, &dest).await? {
                Ok(name) => out = out.with("backup_file", name),
                Err(e) => return Ok(fail(e)),
            }
        }
        if let Err(e) = move_into_place(ctx, &tmp, &dest, current.is_some()).await? {
            remove(ctx, &tmp, true).await?;
            out.failed = true;
            out.msg = Some(format!("failed to copy {tmp} to {dest}: {e}"));
            return Ok(out);
        }
    } else {
        remove(ctx, &tmp, true).await?;
    }
    let probe = Probe {
        follow: true,
        checksum: true,
    };
    let st = match super::remote_file::stat(ctx, &dest, probe).await? {
        Ok(Some(st)) => st,
        Ok(None) => return Ok(fail(format!("{dest} vanished"))),
        Err(e) => return Ok(fail(e)),
    };
    let (st, attrs_changed) = match fix_attrs(ctx, &dest, st, &plan.want).await? {
        Ok(x) => x,
        Err(e) => return Ok(fail(e)),
    };
    out.changed = changed || attrs_changed;
    let md5 = match digest(ctx, "md5sum", &dest).await? {
        Ok(d) => Value::str(d),
        Err(_) => Value::Null,
    };
    out = out.with("md5sum", md5).with("status_code", resp.status);
    out.msg = Some(resp.ok_msg());
    path_info(&mut out, &st);
    Ok(out)
}

/// The failure Ansible reports for a request that did not end in `200`.
fn request_failed(resp: &Response, url: &str, dest: &str, started: Instant) -> Option<Outcome> {
    let elapsed = started.elapsed().as_secs() as i64;
    if resp.curl_rc != 0 {
        return Some(
            Outcome::fail(resp.error_msg())
                .with("url", url)
                .with("dest", dest)
                .with("elapsed", elapsed),
        );
    }
    if resp.status == 200 || url.starts_with("file:/") {
        return None;
    }
    Some(
        Outcome::fail("Request failed")
            .with("status_code", resp.status)
            .with("response", resp.error_msg())
            .with("url", url)
            .with("dest", dest)
            .with("elapsed", elapsed),
    )
}

async fn remove(ctx: &ModuleCtx<'_>, path: &str, really: bool) -> connection::Result<()> {
    if let (true, Ok(q)) = (really, quote(path)) {
        ctx.exec(format!("rm -f -- {q}")).await?;
    }
    Ok(())
}

/// Rename the download over `dest`; a replaced file keeps its mode and (when allowed) owner.
async fn move_into_place(
    ctx: &ModuleCtx<'_>,
    tmp: &str,
    dest: &str,
    replacing: bool,
) -> connection::Result<Result<(), String>> {
    let (t, d) = match (quote(tmp), quote(dest)) {
        (Ok(t), Ok(d)) => (t, d),
        (Err(e), _) | (_, Err(e)) => return Ok(Err(e.to_string())),
    };
    let keep = if replacing {
        format!("chmod --reference={d} {t} && {{ chown --reference={d} {t} 2>/dev/null || :; }} && ")
    } else {
        String::new()
    };
    let out = ctx.exec(format!("{keep}mv -f -- {t} {d}")).await?;
    Ok(if out.rc == 0 {
        Ok(())
    } else {
        Err(out.stderr_lossy().trim().to_string())
    })
}

/// A name part no other run on the host is using at the same moment.
fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{}.{nanos}", std::process::id())
}

#[cfg(test)]
#[path = "get_url_tests.rs"]
mod tests;
