//! `replace`: every match of a Python regular expression in a file replaced (`re.subn` with
//! `re.MULTILINE`), optionally only between `after` and `before`. The file is read from the
//! host, edited on the controller and written back only when it changed.

use super::args::Args;
use super::context::Diff;
use super::file_attrs::Wanted;
use super::remote_file::{Kind, expand_user};
use super::text_edit::{fix_attrs, load, save};
use super::{ModuleCtx, Outcome, py_re};
use crate::connection::{self, BoxFuture};

const KNOWN: &[&str] = &[
    "path",
    "dest",
    "destfile",
    "name",
    "regexp",
    "replace",
    "after",
    "before",
    "backup",
    "validate",
    "encoding",
    "mode",
    "owner",
    "group",
    "seuser",
    "serole",
    "setype",
    "selevel",
    "unsafe_writes",
    "attributes",
];

struct Task {
    path: String,
    regexp: String,
    replace: String,
    after: Option<String>,
    before: Option<String>,
    backup: bool,
    validate: Option<String>,
    want: Wanted,
}

fn parse(ctx: &ModuleCtx<'_>) -> Result<Task, String> {
    let a = Args::new("replace", ctx.args);
    a.only(KNOWN)?;
    let mut path = None;
    for k in ["path", "dest", "destfile", "name"] {
        if path.is_none() {
            path = a.str(k)?;
        }
    }
    let mut missing = Vec::new();
    if path.is_none() {
        missing.push("path");
    }
    let regexp = a.str("regexp")?;
    if regexp.is_none() {
        missing.push("regexp");
    }
    if !missing.is_empty() {
        return Err(format!("missing required arguments: {}", missing.join(", ")));
    }
    if let Some(enc) = a.str("encoding")?
        && !matches!(enc.to_ascii_lowercase().replace('_', "-").as_str(), "utf-8" | "utf8")
    {
        return Err(format!("encoding {enc} is not supported (only utf-8)"));
    }
    Ok(Task {
        path: path.unwrap_or_default(),
        regexp: regexp.unwrap_or_default(),
        replace: a.str("replace")?.unwrap_or_default(),
        // Empty strings count as not given, as Ansible tests them for truth.
        after: a.str("after")?.filter(|s| !s.is_empty()),
        before: a.str("before")?.filter(|s| !s.is_empty()),
        backup: a.bool("backup", false)?,
        validate: a.str("validate")?,
        want: Wanted::from_args(&a)?,
    })
}

/// The edited text and the number of replacements, or the message for a section that is not
/// there (`Ok(Err(msg))`, not a failure).
fn edit(t: &Task, contents: &str) -> Result<Result<(String, usize), String>, String> {
    let section_pattern = match (&t.after, &t.before) {
        (Some(a), Some(b)) => Some(format!("{a}(?P<subsection>.*?){b}")),
        (Some(a), None) => Some(format!("{a}(?P<subsection>.*)")),
        (None, Some(b)) => Some(format!("(?P<subsection>.*){b}")),
        (None, None) => None,
    };
    let (start, end) = match &section_pattern {
        None => (0, contents.len()),
        Some(p) => {
            let re = py_re::compile(p, false, true)?;
            match re.captures(contents).and_then(|c| c.name("subsection")) {
                Some(m) => (m.start(), m.end()),
                None => {
                    return Ok(Err(format!(
                        "Pattern for before/after params did not match the given file: {p}"
                    )));
                }
            }
        }
    };
    let section = contents.get(start..end).unwrap_or_default();
    let re = py_re::compile(&t.regexp, true, false)?;
    let (new, n) =
        py_re::subn(&re, &t.replace, section).map_err(|e| format!("Unable to process replace due to error: {e}"))?;
    if n == 0 || new == section {
        return Ok(Ok((contents.to_string(), 0)));
    }
    let whole = format!(
        "{}{new}{}",
        contents.get(..start).unwrap_or_default(),
        contents.get(end..).unwrap_or_default()
    );
    Ok(Ok((whole, n)))
}

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let mut t = match parse(ctx) {
            Ok(t) => t,
            Err(e) => return Ok(Outcome::fail(e)),
        };
        t.path = match expand_user(ctx, &t.path).await? {
            Ok(p) => p,
            Err(e) => return Ok(Outcome::fail(e)),
        };
        let (st, bytes) = match load(ctx, &t.path).await? {
            Err(e) => return Ok(Outcome::fail(e)),
            Ok(None) => {
                return Ok(Outcome::fail(format!("Path {} does not exist !", t.path)).with("rc", 257i64));
            }
            Ok(Some((st, _))) if st.kind == Kind::Dir => {
                return Ok(Outcome::fail(format!("Path {} is a directory !", t.path)).with("rc", 256i64));
            }
            Ok(Some(found)) => found,
        };
        let Ok(contents) = String::from_utf8(bytes) else {
            return Ok(Outcome::fail(format!(
                "Unable to read the contents of '{}' as utf-8.",
                t.path
            )));
        };
        let (after, n) = match edit(&t, &contents) {
            Err(e) => return Ok(Outcome::fail(e)),
            Ok(Err(msg)) => return Ok(Outcome::ok().msg(msg).with("rc", 0i64)),
            Ok(Ok(r)) => r,
        };
        let mut out = Outcome::ok().with("rc", 0i64);
        if n > 0 {
            out.changed = true;
            out.msg = Some(format!("{n} replacements made"));
            if ctx.diff {
                out.diff.push(Diff {
                    before_header: t.path.clone(),
                    after_header: t.path.clone(),
                    before: contents.clone(),
                    after: after.clone(),
                });
            }
            if !ctx.check {
                match save(
                    ctx,
                    &t.path,
                    Some(&st),
                    after.into_bytes(),
                    t.backup,
                    t.validate.as_deref(),
                )
                .await?
                {
                    Err(failed) => return Ok(failed),
                    Ok(Some(b)) => out = out.with("backup_file", b),
                    Ok(None) => {}
                }
            }
        } else {
            out.msg = Some(String::new());
        }
        if let Err(e) = fix_attrs(ctx, &t.path, Some(st), &t.want, &mut out).await? {
            return Ok(Outcome::fail(e));
        }
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::run;
    use crate::modules::file_tests::{HOSTILE, Harness, mode_of, p, read, s, tmp};
    use serde_json::json;
    use std::path::Path;

    /// Steps compared with ansible-core 2.19.14 on the same file: message, changed, bytes.
    #[test]
    fn replacements_match_ansible_step_by_step() {
        let d = tmp();
        let h = Harness::new(vec![]);
        let f = p(d.path(), "hosts");
        let _ = std::fs::write(&f, "127.0.0.1 old.host  # a\n[web]\nold.host\n[db]\nold.host\n");
        let steps = [
            (
                json!({"path": f, "regexp": "^old\\.host$", "replace": "new.host"}),
                true,
                "2 replacements made",
                "127.0.0.1 old.host  # a\n[web]\nnew.host\n[db]\nnew.host\n",
            ),
            (
                json!({"path": f, "regexp": "^old\\.host$", "replace": "new.host"}),
                false,
                "",
                "127.0.0.1 old.host  # a\n[web]\nnew.host\n[db]\nnew.host\n",
            ),
            (
                json!({"path": f, "regexp": "^(new)\\.(?P<h>host)$", "replace": "\\g<h>-\\1", "after": "\\[web\\]", "before": "\\[db\\]"}),
                true,
                "1 replacements made",
                "127.0.0.1 old.host  # a\n[web]\nhost-new\n[db]\nnew.host\n",
            ),
            (
                json!({"path": f, "regexp": "x", "after": "nomatch"}),
                false,
                "Pattern for before/after params did not match the given file: nomatch(?P<subsection>.*)",
                "127.0.0.1 old.host  # a\n[web]\nhost-new\n[db]\nnew.host\n",
            ),
            (
                json!({"path": f, "regexp": "\\s+#.*$"}),
                true,
                "1 replacements made",
                "127.0.0.1 old.host\n[web]\nhost-new\n[db]\nnew.host\n",
            ),
            (
                json!({"path": f, "regexp": "^(\\S+) old", "replace": "\\1 o", "before": "\\[web\\]", "mode": "0600"}),
                true,
                "1 replacements made and ownership, perms or SE linux context changed",
                "127.0.0.1 o.host\n[web]\nhost-new\n[db]\nnew.host\n",
            ),
            (
                json!({"path": f, "regexp": "zzz", "mode": "0640"}),
                true,
                "ownership, perms or SE linux context changed",
                "127.0.0.1 o.host\n[web]\nhost-new\n[db]\nnew.host\n",
            ),
        ];
        for (args, changed, msg, content) in steps {
            let r = h.run(run, args.clone());
            assert_eq!(
                (r.failed, r.changed, r.msg.as_deref().unwrap_or_default()),
                (false, changed, msg),
                "{args}"
            );
            assert_eq!(read(&f), content, "{args}");
            assert_eq!(s(&r, "rc"), "0");
        }
        assert_eq!(mode_of(Path::new(&f)), 0o640);
    }

    #[test]
    fn check_diff_backup_validate_and_failures() {
        let d = tmp();
        let h = Harness::new(vec![]);
        let f = p(d.path(), HOSTILE);
        let _ = std::fs::write(&f, "a=1\n");
        let c = h.check(run, json!({"path": f, "regexp": "1", "replace": "2"}));
        assert!(c.changed && read(&f) == "a=1\n", "{c:?}");
        let diff = c.diff.first().cloned().unwrap_or_default();
        assert_eq!((diff.before.as_str(), diff.after.as_str()), ("a=1\n", "a=2\n"));
        assert_eq!(diff.before_header, f);
        let r = h.run(run, json!({"path": f, "regexp": "1", "replace": "2", "backup": true}));
        let b = s(&r, "backup_file");
        assert!(r.changed && read(&b) == "a=1\n" && read(&f) == "a=2\n", "{r:?}");
        let r = h.run(
            run,
            json!({"path": f, "regexp": "2", "replace": "3", "validate": "grep -q 9 %s"}),
        );
        assert!(
            r.failed && r.msg.as_deref() == Some("failed to validate: rc:1 error:"),
            "{r:?}"
        );
        assert_eq!(read(&f), "a=2\n");
        let target = p(d.path(), "target");
        let _ = std::fs::write(&target, "a=2\n");
        let link = p(d.path(), "link");
        let _ = std::os::unix::fs::symlink(&target, &link);
        let r = h.run(run, json!({"path": link, "regexp": "2", "replace": "4"}));
        assert!(
            r.changed && Path::new(&link).is_symlink() && read(&target) == "a=4\n",
            "{r:?}"
        );
        let dir = d.path().display().to_string();
        let missing = p(d.path(), "nope");
        let table = [
            (
                json!({"path": missing, "regexp": "x"}),
                format!("Path {missing} does not exist !"),
            ),
            (
                json!({"path": dir, "regexp": "x"}),
                format!("Path {dir} is a directory !"),
            ),
            (json!({"path": f}), "missing required arguments: regexp".to_string()),
            (json!({}), "missing required arguments: path, regexp".to_string()),
            (
                json!({"path": f, "regexp": "(a)", "replace": "\\2"}),
                "Unable to process replace due to error: invalid group reference 2 at position 1".to_string(),
            ),
        ];
        for (args, msg) in table {
            let r = h.run(run, args.clone());
            assert!(r.failed && r.msg.as_deref() == Some(msg.as_str()), "{args}: {r:?}");
        }
    }
}
