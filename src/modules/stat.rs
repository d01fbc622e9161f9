//! `stat`: what a path on the host is, under Ansible's `stat.*` names.

use super::args::Args;
use super::remote_file::{Kind, Probe, RemoteStat, expand_user, mode_string, stat, stat_then};
use super::{ModuleCtx, Outcome};
use crate::connection::quote::quote;
use crate::connection::{self, BoxFuture};
use crate::value::{Map, Value};

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let args = Args::new("stat", ctx.args);
        let parsed = (|| -> Result<(String, Probe, String, bool), String> {
            args.only(&[
                "path",
                "follow",
                "get_checksum",
                "checksum_algorithm",
                "get_mime",
                "get_attributes",
                "get_md5",
                "checksum",
                "checksum_algo",
                "mime",
                "mime_type",
                "mime-type",
                "attr",
                "attributes",
            ])?;
            let path = args.required_str("path")?;
            let algo = match (
                args.str("checksum_algorithm")?,
                args.str("checksum_algo")?,
                args.str("checksum")?,
            ) {
                (Some(a), _, _) | (None, Some(a), _) | (None, None, Some(a)) => a,
                _ => "sha1".into(),
            };
            if !["md5", "sha1", "sha224", "sha256", "sha384", "sha512"].contains(&algo.as_str()) {
                return Err(format!(
                    "value of checksum_algorithm must be one of: md5, sha1, sha224, sha256, sha384, sha512, got: {algo}"
                ));
            }
            let probe = Probe {
                follow: args.bool("follow", false)?,
                checksum: args.bool("get_checksum", true)? && algo == "sha1",
            };
            let extra = if args.bool("get_checksum", true)? && algo != "sha1" {
                algo
            } else {
                String::new()
            };
            let get_mime = match (args.get("get_mime"), args.get("mime"), args.get("mime_type")) {
                (Some(_), _, _) => args.bool("get_mime", true)?,
                (None, Some(_), _) => args.bool("mime", true)?,
                (None, None, Some(_)) => args.bool("mime_type", true)?,
                _ => args.bool("mime-type", true)?,
            };
            Ok((path, probe, extra, get_mime))
        })();
        let (path, probe, other_algo, get_mime) = match parsed {
            Ok(p) => p,
            Err(e) => return Ok(Outcome::fail(e)),
        };
        let path = match expand_user(ctx, &path).await? {
            Ok(p) => p,
            Err(e) => return Ok(Outcome::fail(e)),
        };
        // `file -i -b` for mimetype and charset, where the host has `file` (as Ansible).
        let mime_tail = "if command -v file >/dev/null 2>&1; then file -i -b -- \"$p\"; fi";
        let found = if get_mime {
            stat_then(ctx, &path, probe, mime_tail).await?
        } else {
            stat(ctx, &path, probe).await?.map(|s| s.map(|s| (s, Vec::new())))
        };
        let (st, mime) = match found {
            Ok(Some((s, m))) => (Some(s), String::from_utf8_lossy(&m).trim().to_string()),
            Ok(None) => (None, String::new()),
            Err(e) => return Ok(Outcome::fail(e)),
        };
        let mut m = Map::new();
        match st {
            None => {
                m.insert("exists".into(), Value::Bool(false));
            }
            Some(st) => {
                fill(&mut m, &path, &st);
                if let Some((mimetype, charset)) = mime.split_once(';') {
                    let charset = charset.trim().trim_start_matches("charset=");
                    m.insert("mimetype".into(), Value::str(mimetype.trim()));
                    m.insert("charset".into(), Value::str(charset));
                }
                if !other_algo.is_empty()
                    && st.kind == Kind::File
                    && st.readable
                    && let Some(sum) = other_checksum(ctx, &path, &other_algo).await?
                {
                    m.insert("checksum".into(), Value::str(sum));
                }
            }
        }
        Ok(Outcome::ok().with("stat", Value::Map(m)))
    })
}

/// `sha256sum` and friends for the algorithms the probe does not compute.
async fn other_checksum(ctx: &ModuleCtx<'_>, path: &str, algo: &str) -> connection::Result<Option<String>> {
    let Ok(q) = quote(path) else { return Ok(None) };
    let out = ctx.exec(format!("{algo}sum < {q}")).await?;
    Ok((out.rc == 0)
        .then(|| out.stdout_lossy().split_whitespace().next().map(str::to_string))
        .flatten())
}

fn fill(m: &mut Map, path: &str, st: &RemoteStat) {
    let b = |v: bool| Value::Bool(v);
    let mode = st.mode;
    let fields: Vec<(&str, Value)> = vec![
        ("exists", b(true)),
        ("path", Value::str(path)),
        ("mode", Value::str(mode_string(mode))),
        ("isdir", b(st.kind == Kind::Dir)),
        ("isreg", b(st.kind == Kind::File)),
        ("islnk", b(st.kind == Kind::Link)),
        ("isblk", b(st.kind == Kind::Block)),
        ("ischr", b(st.kind == Kind::Char)),
        ("isfifo", b(st.kind == Kind::Fifo)),
        ("issock", b(st.kind == Kind::Socket)),
        ("uid", Value::Int(st.uid as i64)),
        ("gid", Value::Int(st.gid as i64)),
        ("pw_name", Value::str(&st.owner)),
        ("gr_name", Value::str(&st.group)),
        ("size", Value::Int(st.size as i64)),
        ("mtime", Value::Float(st.mtime)),
        ("atime", Value::Float(st.atime)),
        ("ctime", Value::Float(st.ctime)),
        ("inode", Value::Int(st.inode as i64)),
        ("dev", Value::Int(st.dev as i64)),
        ("nlink", Value::Int(st.nlink as i64)),
        ("blocks", Value::Int(st.blocks as i64)),
        ("block_size", Value::Int(st.block_size as i64)),
        ("device_type", Value::Int(0)),
        ("rusr", b(mode & 0o400 != 0)),
        ("wusr", b(mode & 0o200 != 0)),
        ("xusr", b(mode & 0o100 != 0)),
        ("rgrp", b(mode & 0o040 != 0)),
        ("wgrp", b(mode & 0o020 != 0)),
        ("xgrp", b(mode & 0o010 != 0)),
        ("roth", b(mode & 0o004 != 0)),
        ("woth", b(mode & 0o002 != 0)),
        ("xoth", b(mode & 0o001 != 0)),
        ("isuid", b(mode & 0o4000 != 0)),
        ("isgid", b(mode & 0o2000 != 0)),
        ("readable", b(st.readable)),
        ("writeable", b(st.writeable)),
        ("executable", b(st.executable)),
    ];
    for (k, v) in fields {
        m.insert(k.to_string(), v);
    }
    if let Some(sum) = &st.checksum {
        m.insert("checksum".into(), Value::str(sum));
    }
    if let (Kind::Link, Some(src), Some(target)) = (st.kind, &st.link_source, &st.link_target) {
        m.insert("lnk_source".into(), Value::str(src));
        m.insert("lnk_target".into(), Value::str(target));
    }
}

#[cfg(test)]
mod tests {
    use super::run;
    use crate::modules::file_tests::{HOSTILE, Harness, p, tmp};
    use crate::value::Value;
    use serde_json::json;

    fn stat_of(o: &crate::modules::Outcome) -> serde_json::Value {
        o.data
            .get("stat")
            .map(|v| serde_json::to_value(v).unwrap_or_default())
            .unwrap_or_default()
    }

    #[test]
    fn tilde_is_the_home_directory_on_the_host() {
        let h = Harness::new(vec![]);
        let home = std::env::var("HOME").unwrap_or_default();
        let st = stat_of(&h.run(run, json!({"path": "~", "get_checksum": false})));
        assert_eq!((st["path"].clone(), st["isdir"].clone()), (json!(home), json!(true)));
        let st = stat_of(&h.run(run, json!({"path": "~root/"})));
        assert_eq!(st["path"], json!("/root/"));
        let st = stat_of(&h.run(run, json!({"path": "~no_such_user_zz/x"})));
        assert_eq!(st, json!({"exists": false}));
    }

    #[test]
    fn reports_files_dirs_links_and_absence() {
        let d = tmp();
        let h = Harness::new(vec![]);
        let f = p(d.path(), "f");
        let _ = std::fs::write(&f, "hello\n");
        let l = p(d.path(), "l");
        let _ = std::os::unix::fs::symlink(&f, &l);
        let r = h.run(run, json!({"path": f}));
        assert!(!r.changed && !r.failed);
        let st = stat_of(&r);
        for (k, v) in [
            ("exists", json!(true)),
            ("isreg", json!(true)),
            ("isdir", json!(false)),
            ("islnk", json!(false)),
            ("size", json!(6)),
            ("checksum", json!("f572d396fae9206628714fb2ce00f72e94f2258f")),
            ("path", json!(f)),
        ] {
            assert_eq!(st[k], v, "{k}");
        }
        assert!(st["mtime"].as_f64().unwrap_or(0.0) > 1.0e9 && st["mode"].as_str().is_some_and(|m| m.len() == 4));
        assert!(st["pw_name"].is_string() && st["gr_name"].is_string() && st["uid"].is_number());
        if std::process::Command::new("file").arg("--version").output().is_ok() {
            assert_eq!(
                (st["mimetype"].clone(), st["charset"].clone()),
                (json!("text/plain"), json!("us-ascii"))
            );
        }
        let st = stat_of(&h.run(run, json!({"path": l})));
        assert_eq!(
            (st["islnk"].clone(), st["mode"].clone(), st["lnk_target"].clone()),
            (json!(true), json!("0777"), json!(f))
        );
        let st = stat_of(&h.run(run, json!({"path": l, "follow": true})));
        assert_eq!((st["isreg"].clone(), st["islnk"].clone()), (json!(true), json!(false)));
        assert!(st.get("lnk_target").is_none());
        let st = stat_of(&h.run(
            run,
            json!({"path": d.path().display().to_string(), "get_checksum": false}),
        ));
        assert_eq!((st["isdir"].clone(), st.get("checksum").cloned()), (json!(true), None));
        let st = stat_of(&h.run(run, json!({"path": p(d.path(), "nope")})));
        assert_eq!(st, json!({"exists": false}));
        let st = stat_of(&h.run(run, json!({"path": f, "checksum_algorithm": "sha256"})));
        assert_eq!(
            st["checksum"],
            json!("5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03")
        );
        let hostile = p(d.path(), HOSTILE);
        let _ = std::fs::write(&hostile, "");
        let r = h.run(run, json!({"path": hostile}));
        assert_eq!(
            r.data
                .get("stat")
                .and_then(|s| s.as_map())
                .and_then(|m| m.get("exists")),
            Some(&Value::Bool(true))
        );
    }
}
