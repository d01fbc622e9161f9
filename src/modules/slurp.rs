//! `slurp`: a file of the host, base64-encoded, in one round trip (`cat` behind type and
//! permission tests so the failure names the reason as Ansible's does).

use super::args::Args;
use super::remote_file::expand_user;
use super::{ModuleCtx, Outcome};
use crate::connection::quote::quote;
use crate::connection::{self, BoxFuture};
use base64::Engine;

/// What the host said about `src`, then its bytes.
pub enum Read {
    Content(Vec<u8>),
    Missing,
    Directory,
    Unreadable,
}

/// Read `src` on the host; `Err` is a bad path (a NUL byte).
pub async fn read(ctx: &ModuleCtx<'_>, src: &str) -> connection::Result<Result<Read, String>> {
    let q = match quote(src) {
        Ok(q) => q,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let line = format!(
        "p={q}; if [ -d \"$p\" ]; then printf D; elif [ ! -e \"$p\" ]; then printf N; \
         elif [ ! -r \"$p\" ]; then printf R; else printf C; cat -- \"$p\" || exit 3; fi"
    );
    let out = ctx.exec(line).await?;
    if out.rc != 0 {
        return Ok(Err(format!(
            "Unable to slurp file: {src}: {}",
            out.stderr_lossy().trim()
        )));
    }
    Ok(Ok(match out.stdout.split_first() {
        Some((b'C', rest)) => Read::Content(rest.to_vec()),
        Some((b'D', _)) => Read::Directory,
        Some((b'R', _)) => Read::Unreadable,
        _ => Read::Missing,
    }))
}

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let a = Args::new("slurp", ctx.args);
        let src = match a.only(&["src", "path"]).and_then(|_| match a.str("src")? {
            Some(s) => Ok(s),
            None => a
                .required_str("path")
                .map_err(|_| "missing required arguments: src".to_string()),
        }) {
            Ok(s) => s,
            Err(e) => return Ok(Outcome::fail(e)),
        };
        let src = match expand_user(ctx, &src).await? {
            Ok(s) => s,
            Err(e) => return Ok(Outcome::fail(e)),
        };
        Ok(match read(ctx, &src).await? {
            Err(e) => Outcome::fail(e),
            Ok(Read::Missing) => Outcome::fail(format!("File not found: {src}")),
            Ok(Read::Directory) => Outcome::fail(format!("Source is a directory and must be a file: {src}")),
            Ok(Read::Unreadable) => Outcome::fail(format!("File is not readable: {src}")),
            Ok(Read::Content(bytes)) => Outcome::ok()
                .with("content", base64::engine::general_purpose::STANDARD.encode(bytes))
                .with("source", src.as_str())
                .with("encoding", "base64"),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::run;
    use crate::modules::file_tests::{HOSTILE, Harness, p, s, tmp};
    use serde_json::json;

    #[test]
    fn content_is_base64_and_failures_name_the_reason() {
        let d = tmp();
        let h = Harness::new(vec![]);
        let f = p(d.path(), HOSTILE);
        let _ = std::fs::write(&f, b"x\n\x00\xff");
        for check in [false, true] {
            let r = if check {
                h.check(run, json!({"path": f}))
            } else {
                h.run(run, json!({"src": f}))
            };
            assert!(!r.changed && !r.failed, "{r:?}");
            assert_eq!(
                (s(&r, "content"), s(&r, "encoding")),
                ("eAoA/w==".into(), "base64".into())
            );
            assert_eq!(s(&r, "source"), f);
        }
        let dir = d.path().display().to_string();
        let missing = p(d.path(), "nope");
        let table = [
            (json!({"src": missing}), format!("File not found: {missing}")),
            (
                json!({"src": dir}),
                format!("Source is a directory and must be a file: {dir}"),
            ),
            (json!({}), "missing required arguments: src".to_string()),
        ];
        for (args, msg) in table {
            let r = h.run(run, args.clone());
            assert!(r.failed && r.msg.as_deref() == Some(msg.as_str()), "{args}: {r:?}");
        }
        let r = h.run(run, json!({"src": f, "bogus": 1}));
        assert!(r.failed && r.msg.unwrap_or_default().starts_with("Unsupported parameters"));
    }
}
