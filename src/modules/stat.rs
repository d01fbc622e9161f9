//! `stat`: what a path on the host is, under Ansible's `stat.*` names.

use super::args::Args;
use super::remote_file::{Kind, Probe, RemoteStat, mode_string, stat};
use super::{ModuleCtx, Outcome};
use crate::connection::quote::quote;
use crate::connection::{self, BoxFuture};
use crate::value::{Map, Value};

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let args = Args::new("stat", ctx.args);
        let parsed = (|| -> Result<(String, Probe, String), String> {
            args.only(&[
                "path",
                "follow",
                "get_checksum",
                "checksum_algorithm",
                "get_mime",
                "get_attributes",
                "get_md5",
            ])?;
            let path = args.required_str("path")?;
            let algo = args.str("checksum_algorithm")?.unwrap_or_else(|| "sha1".into());
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
            Ok((path, probe, extra))
        })();
        let (path, probe, other_algo) = match parsed {
            Ok(p) => p,
            Err(e) => return Ok(Outcome::fail(e)),
        };
        let st = match stat(ctx, &path, probe).await? {
            Ok(s) => s,
            Err(e) => return Ok(Outcome::fail(e)),
        };
        let mut m = Map::new();
        match st {
            None => {
                m.insert("exists".into(), Value::Bool(false));
            }
            Some(st) => {
                fill(&mut m, &path, &st);
                if !other_algo.is_empty() && st.kind == Kind::File && st.readable {
                    if let Some(sum) = other_checksum(ctx, &path, &other_algo).await? {
                        m.insert("checksum".into(), Value::str(sum));
                    }
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
    if let (Some(src), Some(target)) = (&st.link_source, &st.link_target) {
        m.insert("lnk_source".into(), Value::str(src));
        m.insert("lnk_target".into(), Value::str(target));
    }
}
