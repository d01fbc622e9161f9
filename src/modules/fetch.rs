//! `fetch`: a host's file copied to the controller, under `dest/<inventory_hostname>/<src>`
//! (or `dest` itself with `flat`). The host's SHA-1 is compared with the local copy first, so
//! an unchanged file is not transferred again.

use super::args::Args;
use super::remote_file::{Kind, Probe, expand_user, stat};
use super::slurp::{Read, read};
use super::write_file::{md5_hex, sha1_hex};
use super::{ModuleCtx, Outcome};
use crate::connection::{self, BoxFuture};
use crate::value::Value;
use std::path::{Component, Path, PathBuf};

struct Task {
    src: String,
    dest: String,
    flat: bool,
    fail_on_missing: bool,
    validate_checksum: bool,
}

fn parse(ctx: &ModuleCtx<'_>) -> Result<Task, String> {
    let a = Args::new("fetch", ctx.args);
    a.only(&[
        "src",
        "dest",
        "flat",
        "fail_on_missing",
        "validate_checksum",
        "fail_if_missing",
        "validate_md5",
    ])?;
    for (key, what) in [("src", "source"), ("dest", "dest")] {
        if matches!(a.get(key), Some(Value::List(_) | Value::Map(_))) {
            return Err(format!("Invalid type supplied for {what} option, it must be a string"));
        }
    }
    let (Some(src), Some(dest)) = (a.str("src")?, a.str("dest")?) else {
        return Err("src and dest are required".into());
    };
    Ok(Task {
        src,
        dest,
        flat: a.bool("flat", false)?,
        fail_on_missing: a.bool("fail_on_missing", a.bool("fail_if_missing", true)?)?,
        validate_checksum: a.bool("validate_checksum", a.bool("validate_md5", true)?)?,
    })
}

/// `os.path.normpath` for a controller path.
fn normpath(p: &str) -> PathBuf {
    let mut out: Vec<Component> = Vec::new();
    for c in Path::new(p).components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            Component::ParentDir if matches!(out.last(), Some(Component::RootDir)) => {}
            c => out.push(c),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

/// `<base>/<host>/<src>` normalized, refused when it would leave `<base>/<host>`: a host name
/// that is not one plain path component (`../x`, `a/b`), or a `src` whose `..` climbs out.
/// Ansible's own check compares the wrong paths and lets these through; here they fail.
fn host_dest(base: &str, host: &str, src: &str) -> Result<PathBuf, String> {
    let plain = !host.is_empty() && host != "." && host != ".." && !host.contains('/') && !host.contains('\0');
    let host_dir = normpath(&format!("{base}/{host}"));
    let dest = normpath(&format!("{base}/{host}/{src}"));
    if !plain || dest == host_dir || !dest.starts_with(&host_dir) {
        return Err(format!(
            "Detected directory traversal, expected to be contained in '{}' but got '{}'",
            normpath(&format!("{base}/{}", host.replace('/', "_"))).display(),
            dest.display()
        ));
    }
    Ok(dest)
}

/// A relative controller path is taken from the playbook's directory, as Ansible's loader does.
fn dwim(ctx: &ModuleCtx<'_>, p: &str) -> String {
    let p = match (p.strip_prefix('~'), std::env::var("HOME")) {
        (Some(rest), Ok(home)) if rest.is_empty() || rest.starts_with('/') => format!("{home}{rest}"),
        _ => p.to_string(),
    };
    match ctx.search_dirs.last() {
        Some(base) if !p.starts_with('/') => base.join(&p).display().to_string(),
        _ => p,
    }
}

fn local_file(dest: &Path) -> Option<Vec<u8>> {
    std::fs::metadata(dest).ok().filter(|m| m.is_file())?;
    std::fs::read(dest).ok()
}

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        if ctx.check {
            let mut o = Outcome::ok().msg("check mode not (yet) supported for this module");
            o.skipped = true;
            return Ok(o);
        }
        let t = match parse(ctx) {
            Ok(t) => t,
            Err(e) => return Ok(Outcome::fail(e)),
        };
        let src = match expand_user(ctx, &t.src).await? {
            Ok(s) => s,
            Err(e) => return Ok(Outcome::fail(e)),
        };
        let probe = Probe {
            follow: true,
            checksum: true,
        };
        let st = match stat(ctx, &src, probe).await? {
            Ok(st) => st,
            Err(e) => return Ok(Outcome::fail(e)),
        };
        if st.as_ref().is_some_and(|s| s.kind == Kind::Dir) {
            let msg = "remote file is a directory, fetch cannot work on directories";
            return Ok(if t.fail_on_missing {
                Outcome::fail(msg)
            } else {
                Outcome::ok().msg(format!("{msg}, not transferring, ignored"))
            });
        }
        let mut remote_checksum = st.as_ref().and_then(|s| s.checksum.clone());
        // No checksum (missing or unreadable): read the file, as Ansible falls back to slurp.
        let mut data = None;
        if remote_checksum.is_none() {
            let reason = match read(ctx, &src).await? {
                Err(e) => Some(e),
                Ok(Read::Content(bytes)) => {
                    remote_checksum = Some(sha1_hex(&bytes));
                    data = Some(bytes);
                    None
                }
                Ok(Read::Missing) => Some("the remote file does not exist, not transferring, ignored".into()),
                Ok(Read::Directory) => Some("remote file is a directory, fetch cannot work on directories".into()),
                Ok(Read::Unreadable) => Some(format!("File is not readable: {src}")),
            };
            if let Some(msg) = reason {
                return Ok(if t.fail_on_missing {
                    Outcome::fail(msg)
                } else {
                    Outcome::ok().msg(msg).with("file", src.as_str())
                });
            }
        }
        let dest = if t.flat {
            let mut dest = t.dest.clone();
            if Path::new(&dest).is_dir() && !dest.ends_with('/') {
                return Ok(Outcome::fail(
                    "dest is an existing directory, use a trailing slash if you want to fetch src into that directory",
                ));
            }
            if dest.ends_with('/') {
                let base = src.rsplit('/').next().unwrap_or_default();
                if matches!(base, "" | "." | "..") {
                    return Ok(Outcome::fail(format!(
                        "Detected directory traversal: '{src}' has no file name to fetch into '{dest}'"
                    )));
                }
                dest = format!("{dest}{base}");
                if Path::new(&dest).is_dir() {
                    return Ok(Outcome::fail(format!(
                        "calculated dest '{dest}' is an existing directory, use another path that does not point to an existing directory"
                    )));
                }
            }
            if dest.starts_with('/') { dest } else { dwim(ctx, &dest) }
        } else {
            match host_dest(&dwim(ctx, &t.dest), ctx.host, &src) {
                Ok(d) => d.display().to_string(),
                Err(e) => return Ok(Outcome::fail(e)),
            }
        };
        let dest = normpath(&dest);
        let dest_s = dest.display().to_string();
        let local = local_file(&dest);
        if local.as_deref().map(sha1_hex) == remote_checksum {
            let local = local.unwrap_or_default();
            return Ok(Outcome::ok()
                .with("md5sum", md5_hex(&local))
                .with("file", src.as_str())
                .with("dest", dest_s)
                .with("checksum", sha1_hex(&local)));
        }
        let bytes = match data {
            Some(b) => b,
            None => ctx.conn.get_file(&src).await?,
        };
        let written = dest
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|_| std::fs::write(&dest, &bytes));
        if let Err(e) = written {
            return Ok(Outcome::fail(format!("Failed to fetch the file. {dest_s}: {e}")));
        }
        let new_checksum = sha1_hex(&bytes);
        let remote_checksum = remote_checksum.unwrap_or_default();
        let mut out = if t.validate_checksum && new_checksum != remote_checksum {
            Outcome::fail("checksum mismatch").with("file", src.as_str())
        } else {
            Outcome::changed(true)
        };
        out = out
            .with("md5sum", md5_hex(&bytes))
            .with("dest", dest_s)
            .with("remote_md5sum", Value::Null)
            .with("checksum", new_checksum)
            .with("remote_checksum", remote_checksum);
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::{host_dest, normpath, run};
    use crate::modules::file_tests::{HOSTILE, Harness, p, s, tmp};
    use serde_json::json;
    use std::path::Path;

    #[test]
    fn fetches_under_the_host_name_once() {
        let d = tmp();
        let h = Harness::new(vec![d.path().to_path_buf()]);
        let src = p(d.path(), HOSTILE);
        let _ = std::fs::write(&src, "x\n");
        let out = p(d.path(), "out");
        let want = format!("{out}/localhost{src}");
        let r = h.run(run, json!({"src": src, "dest": out}));
        assert!(r.changed && !r.failed, "{r:?}");
        assert_eq!(s(&r, "dest"), want);
        assert_eq!(s(&r, "checksum"), "6fcf9dfbd479ed82697fee719b9f8c610a11ff2a");
        assert_eq!(s(&r, "remote_checksum"), "6fcf9dfbd479ed82697fee719b9f8c610a11ff2a");
        assert_eq!(s(&r, "md5sum"), "401b30e3b8b5d629635a5c613cdb7919");
        assert_eq!(std::fs::read_to_string(&want).unwrap_or_default(), "x\n");
        let again = h.run(run, json!({"src": src, "dest": out}));
        assert!(!again.changed && !again.failed && s(&again, "file") == src, "{again:?}");
        // Relative dest: from the playbook's directory; flat with a trailing slash.
        let r = h.run(run, json!({"src": src, "dest": "flat/", "flat": true}));
        assert!(r.changed, "{r:?}");
        assert_eq!(s(&r, "dest"), p(d.path(), &format!("flat/{HOSTILE}")));
        let _ = std::fs::write(&src, "changed\n");
        let r = h.run(run, json!({"src": src, "dest": "flat/", "flat": true}));
        assert!(
            r.changed
                && std::fs::read_to_string(p(d.path(), &format!("flat/{HOSTILE}"))).unwrap_or_default() == "changed\n"
        );
        let c = h.check(run, json!({"src": src, "dest": "other"}));
        assert!(c.skipped && !Path::new(&p(d.path(), "other")).exists(), "{c:?}");
    }

    #[test]
    fn missing_sources_directories_and_bad_args() {
        let d = tmp();
        let h = Harness::new(vec![d.path().to_path_buf()]);
        let missing = p(d.path(), "nope");
        let out = p(d.path(), "out");
        let gone = "the remote file does not exist, not transferring, ignored";
        let r = h.run(run, json!({"src": missing, "dest": out}));
        assert!(r.failed && r.msg.as_deref() == Some(gone), "{r:?}");
        let r = h.run(run, json!({"src": missing, "dest": out, "fail_on_missing": false}));
        assert!(
            !r.failed && r.msg.as_deref() == Some(gone) && s(&r, "file") == missing,
            "{r:?}"
        );
        let dir = d.path().display().to_string();
        let r = h.run(run, json!({"src": dir, "dest": out}));
        assert_eq!(
            r.msg.as_deref(),
            Some("remote file is a directory, fetch cannot work on directories")
        );
        let _ = std::fs::write(p(d.path(), "f"), "1");
        let _ = std::fs::create_dir(&out);
        let r = h.run(run, json!({"src": p(d.path(), "f"), "dest": out, "flat": true}));
        assert!(r.failed && r.msg.unwrap_or_default().starts_with("dest is an existing directory"));
        let r = h.run(run, json!({"src": p(d.path(), "f")}));
        assert_eq!(r.msg.as_deref(), Some("src and dest are required"));
        assert_eq!(normpath("/a/b/../c//./d/"), Path::new("/a/c/d"));
    }

    #[test]
    fn host_dest_stays_under_the_host_directory() {
        let ok = [
            ("/b", "h1", "/etc/motd", "/b/h1/etc/motd"),
            ("/b", "h1", "/var/log/../x", "/b/h1/var/x"),
            ("/b", "node.example", "rel/f", "/b/node.example/rel/f"),
        ];
        for (base, host, src, want) in ok {
            assert_eq!(
                host_dest(base, host, src).ok(),
                Some(Path::new(want).to_path_buf()),
                "{host} {src}"
            );
        }
        let bad = [
            ("/b", "h1", "/../../etc/cron.d/x"),
            ("/b", "h1", "../../../etc/x"),
            ("/b", "h1", "/a/../.."),
            ("/b", "../../etc", "/x"),
            ("/b", "a/../../etc", "/x"),
            ("/b", "..", "/x"),
            ("/b", "a/b", "/x"),
            ("/b", "", "/x"),
        ];
        for (base, host, src) in bad {
            let e = host_dest(base, host, src).err().unwrap_or_default();
            assert!(e.starts_with("Detected directory traversal"), "{host} {src}: {e}");
        }
    }
}
