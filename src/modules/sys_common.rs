//! What the system modules (packages, services, users, kernel settings) share: running an argv
//! on the host, reading a small text file, and turning an argument error into a task failure.

use super::context::ModuleCtx;
use crate::connection::{self, ExecOutput, ExecRequest, PutFile, quote};

/// Returns the failed outcome for an `Err(message)`.
macro_rules! try_arg {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(m) => return Ok($crate::modules::Outcome::fail(m)),
        }
    };
}
pub(crate) use try_arg;

/// The shell line that runs `argv` exactly.
pub fn line<S: AsRef<str>>(argv: &[S]) -> Result<String, String> {
    quote::join(argv).map_err(|e| e.to_string())
}

/// Runs `argv` with `LC_ALL=C` so messages are the ones parsed here.
pub async fn run<S: AsRef<str>>(ctx: &ModuleCtx<'_>, argv: &[S]) -> connection::Result<Result<ExecOutput, String>> {
    let l = match line(argv) {
        Ok(l) => l,
        Err(e) => return Ok(Err(e)),
    };
    run_line(ctx, &l).await.map(Ok)
}

/// Runs an already quoted shell line with `LC_ALL=C`.
pub async fn run_line(ctx: &ModuleCtx<'_>, l: &str) -> connection::Result<ExecOutput> {
    ctx.conn
        .exec(&ExecRequest::new(format!("LC_ALL=C LANG=C; export LC_ALL LANG; {l}")))
        .await
}

/// The text of a host file, or `None` when it does not exist or is not a regular file.
pub async fn read_text(ctx: &ModuleCtx<'_>, path: &str) -> connection::Result<Result<Option<String>, String>> {
    let q = match quote::quote(path) {
        Ok(q) => q,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let out = run_line(
        ctx,
        &format!("if [ -f {q} ]; then cat {q}; else echo absent >&2; exit 3; fi"),
    )
    .await?;
    Ok(match out.rc {
        0 => Ok(Some(out.stdout_lossy())),
        3 if out.stderr_lossy().trim() == "absent" => Ok(None),
        _ => Err(format!("Failed to open {path}: {}", out.stderr_lossy().trim())),
    })
}

/// Replaces a host file with `text` atomically, keeping the mode of the file it replaces.
pub async fn write_text(ctx: &ModuleCtx<'_>, path: &str, text: &str) -> connection::Result<()> {
    ctx.conn.put_file(&PutFile::bytes(text.as_bytes().to_vec(), path)).await
}

/// stdout and stderr joined, trimmed: the text a failure message quotes.
pub fn both(out: &ExecOutput) -> String {
    format!("{}{}", out.stdout_lossy(), out.stderr_lossy())
        .trim()
        .to_string()
}

/// One of `choices`, or Ansible's message for a value outside them.
pub fn choice(
    a: &super::args::Args<'_>,
    key: &str,
    default: Option<&str>,
    choices: &[&str],
) -> Result<Option<String>, String> {
    match a.str(key)? {
        None => Ok(default.map(str::to_string)),
        Some(v) if choices.contains(&v.as_str()) => Ok(Some(v)),
        Some(v) => Err(format!(
            "value of {key} must be one of: {}, got: {v}",
            choices.join(", ")
        )),
    }
}
