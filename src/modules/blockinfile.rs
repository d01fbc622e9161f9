//! `blockinfile`: a block of lines between two marker lines kept in a file (replaced where
//! the markers are, else inserted after/before a matching line, at BOF or EOF), or removed.
//! The edit is done on the controller on the file's bytes; the write back is shared with
//! `replace` ([`super::text_edit`]).

use super::args::Args;
use super::context::Diff;
use super::file_attrs::Wanted;
use super::remote_file::{Kind, expand_user};
use super::text_edit::{fix_attrs, load, save};
use super::{ModuleCtx, Outcome, py_re};
use crate::connection::quote::join;
use crate::connection::{self, BoxFuture};

const KNOWN: &[&str] = &[
    "path",
    "dest",
    "destfile",
    "name",
    "state",
    "marker",
    "block",
    "content",
    "insertafter",
    "insertbefore",
    "create",
    "backup",
    "validate",
    "marker_begin",
    "marker_end",
    "append_newline",
    "prepend_newline",
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

/// Where a block without markers in the file goes.
#[derive(Debug)]
enum Place {
    Bof,
    Eof,
    After(String),
    Before(String),
}

struct Task {
    path: String,
    present: bool,
    marker: String,
    marker_begin: String,
    marker_end: String,
    block: String,
    place: Place,
    create: bool,
    backup: bool,
    validate: Option<String>,
    append_newline: bool,
    prepend_newline: bool,
    want: Wanted,
}

fn parse(ctx: &ModuleCtx<'_>) -> Result<Task, String> {
    let a = Args::new("blockinfile", ctx.args);
    a.only(KNOWN)?;
    let mut path = None;
    for k in ["path", "dest", "destfile", "name"] {
        if path.is_none() {
            path = a.str(k)?;
        }
    }
    let path = path.ok_or("missing required arguments: path")?;
    let present = match a.str("state")?.as_deref() {
        None | Some("present") => true,
        Some("absent") => false,
        Some(o) => return Err(format!("value of state must be one of: absent, present, got: {o}")),
    };
    let (after, before) = (a.str("insertafter")?, a.str("insertbefore")?);
    let place = match (after, before) {
        (Some(_), Some(_)) => return Err("parameters are mutually exclusive: insertbefore|insertafter".into()),
        (Some(x), None) if x == "EOF" => Place::Eof,
        (Some(x), None) => Place::After(x),
        (None, Some(x)) if x == "BOF" => Place::Bof,
        (None, Some(x)) => Place::Before(x),
        (None, None) => Place::Eof,
    };
    let block = match a.str("block")? {
        Some(b) => Some(b),
        None => a.str("content")?,
    };
    Ok(Task {
        path,
        present,
        marker: a
            .str("marker")?
            .unwrap_or_else(|| "# {mark} ANSIBLE MANAGED BLOCK".into()),
        marker_begin: a.str("marker_begin")?.unwrap_or_else(|| "BEGIN".into()),
        marker_end: a.str("marker_end")?.unwrap_or_else(|| "END".into()),
        block: block.unwrap_or_default(),
        place,
        create: a.bool("create", false)?,
        backup: a.bool("backup", false)?,
        validate: a.str("validate")?,
        append_newline: a.bool("append_newline", false)?,
        prepend_newline: a.bool("prepend_newline", false)?,
        want: Wanted::from_args(&a)?,
    })
}

/// Python's `bytes.splitlines(keepends=True)`: `\n`, `\r\n` and `\r` end a line.
fn split_lines(data: &[u8]) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < data.len() {
        let end = match data.get(i) {
            Some(b'\n') => i + 1,
            Some(b'\r') if data.get(i + 1) == Some(&b'\n') => i + 2,
            Some(b'\r') => i + 1,
            _ => {
                i += 1;
                continue;
            }
        };
        lines.push(data.get(start..end).unwrap_or_default().to_vec());
        start = end;
        i = end;
    }
    if start < data.len() {
        lines.push(data.get(start..).unwrap_or_default().to_vec());
    }
    lines
}

fn strip_eol(l: &[u8]) -> &[u8] {
    let l = l.strip_suffix(b"\n").unwrap_or(l);
    l.strip_suffix(b"\r").unwrap_or(l)
}

/// The file's new bytes from its old ones (`None`: no file yet).
fn edit(t: &Task, original: Option<&[u8]>) -> Result<Vec<u8>, String> {
    let original = original.unwrap_or_default();
    let mut lines = split_lines(original);
    let marker0 = format!("{}\n", t.marker.replace("{mark}", &t.marker_begin)).into_bytes();
    let marker1 = format!("{}\n", t.marker.replace("{mark}", &t.marker_end)).into_bytes();
    let mut blocklines = Vec::new();
    if t.present && !t.block.is_empty() {
        let mut block = t.block.clone().into_bytes();
        if !block.ends_with(b"\n") {
            block.push(b'\n');
        }
        blocklines.push(marker0.clone());
        blocklines.extend(split_lines(&block));
        blocklines.push(marker1.clone());
    }
    let (mut n0, mut n1) = (None, None);
    for (i, line) in lines.iter().enumerate() {
        if *line == marker0 {
            n0 = Some(i);
        }
        if *line == marker1 {
            n1 = Some(i);
        }
    }
    let mut n0 = match (n0, n1) {
        (Some(a), Some(b)) => {
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            lines.drain(lo..=hi);
            lo
        }
        _ => match &t.place {
            Place::Bof => 0,
            Place::Eof => lines.len(),
            Place::After(p) | Place::Before(p) => {
                let after = matches!(t.place, Place::After(_));
                let mut found = None;
                if py_re::has_inline_multiline(p) {
                    let re = py_re::compile_bytes(p)?;
                    if let Some(m) = re.find(original) {
                        let upto = if after { m.end() } else { m.start() };
                        found = Some(
                            original
                                .get(..upto)
                                .unwrap_or_default()
                                .iter()
                                .filter(|b| **b == b'\n')
                                .count(),
                        );
                    }
                } else {
                    let re = py_re::compile_bytes(p)?;
                    for (i, line) in lines.iter().enumerate() {
                        if re.is_match(strip_eol(line)) {
                            found = Some(i);
                        }
                    }
                }
                match found {
                    None => lines.len(),
                    Some(n) if after => n + 1,
                    Some(n) => n,
                }
            }
        },
    };
    if n0 > 0
        && let Some(prev) = lines.get_mut(n0 - 1)
        && !prev.ends_with(b"\n")
    {
        prev.push(b'\n');
    }
    if t.prepend_newline && t.present && n0 != 0 && lines.get(n0 - 1).map(Vec::as_slice) != Some(b"\n") {
        lines.insert(n0, b"\n".to_vec());
        n0 += 1;
    }
    let count = blocklines.len();
    let n0 = n0.min(lines.len());
    lines.splice(n0..n0, blocklines);
    if t.append_newline && t.present {
        let after = n0 + count;
        if after < lines.len() && lines.get(after).map(Vec::as_slice) != Some(b"\n") {
            lines.insert(after, b"\n".to_vec());
        }
    }
    Ok(lines.concat())
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
        let current = match load(ctx, &t.path).await? {
            Err(e) => return Ok(Outcome::fail(e)),
            Ok(Some((st, _))) if st.kind == Kind::Dir => {
                return Ok(Outcome::fail(format!("Path {} is a directory !", t.path)).with("rc", 256i64));
            }
            Ok(c) => c,
        };
        if current.is_none() {
            if !t.create {
                return Ok(Outcome::fail(format!("Path {} does not exist !", t.path)).with("rc", 257i64));
            }
            if let Some((dir, _)) = t.path.rsplit_once('/')
                && !dir.is_empty()
                && !ctx.check
            {
                let line = match join(&["mkdir", "-p", "--", dir]) {
                    Ok(l) => l,
                    Err(e) => return Ok(Outcome::fail(e.to_string())),
                };
                let r = ctx.exec(line).await?;
                if r.rc != 0 {
                    return Ok(Outcome::fail(format!(
                        "Error creating {dir} Error: {}",
                        r.stderr_lossy().trim()
                    )));
                }
            }
            if !t.present {
                return Ok(Outcome::ok().msg(format!("File {} not present", t.path)));
            }
        }
        let original = current.as_ref().map(|(_, b)| b.as_slice());
        let result = match edit(&t, original) {
            Ok(r) => r,
            Err(e) => return Ok(Outcome::fail(e)),
        };
        let mut out = Outcome::ok();
        let msg = match original {
            Some(o) if o == result.as_slice() => "",
            None => "File created",
            Some(_) if !t.present || t.block.is_empty() => "Block removed",
            Some(_) => "Block inserted",
        };
        out.changed = !msg.is_empty();
        out.msg = Some(msg.to_string());
        if ctx.diff && out.changed {
            out.diff.push(Diff {
                before_header: format!("{} (content)", t.path),
                after_header: format!("{} (content)", t.path),
                before: String::from_utf8_lossy(original.unwrap_or_default()).into_owned(),
                after: String::from_utf8_lossy(&result).into_owned(),
            });
        }
        let st = current.map(|(st, _)| st);
        if out.changed && !ctx.check {
            match save(ctx, &t.path, st.as_ref(), result, t.backup, t.validate.as_deref()).await? {
                Err(failed) => return Ok(failed),
                Ok(Some(b)) => out = out.with("backup_file", b),
                Ok(None) => {}
            }
        }
        if ctx.check && st.is_none() {
            return Ok(out);
        }
        if let Err(e) = fix_attrs(ctx, &t.path, st, &t.want, &mut out).await? {
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

    /// The same steps run with ansible-core 2.19.14 on a file `line1\nline2\nline3` (no final
    /// newline): changed, message and the whole file after each step.
    #[test]
    fn edits_match_ansible_step_by_step() {
        let d = tmp();
        let h = Harness::new(vec![]);
        let f = p(d.path(), "f");
        let _ = std::fs::write(&f, "line1\nline2\nline3");
        let steps = [
            (
                json!({"block": "a=1\nb=2"}),
                true,
                "Block inserted",
                "line1\nline2\nline3\n# BEGIN ANSIBLE MANAGED BLOCK\na=1\nb=2\n# END ANSIBLE MANAGED BLOCK\n",
            ),
            (
                json!({"block": "a=1\nb=2"}),
                false,
                "",
                "line1\nline2\nline3\n# BEGIN ANSIBLE MANAGED BLOCK\na=1\nb=2\n# END ANSIBLE MANAGED BLOCK\n",
            ),
            (
                json!({"block": "a=1\nb=3"}),
                true,
                "Block inserted",
                "line1\nline2\nline3\n# BEGIN ANSIBLE MANAGED BLOCK\na=1\nb=3\n# END ANSIBLE MANAGED BLOCK\n",
            ),
            (
                json!({"block": "top", "marker": "<!-- {mark} top -->", "insertbefore": "BOF"}),
                true,
                "Block inserted",
                "<!-- BEGIN top -->\ntop\n<!-- END top -->\nline1\nline2\nline3\n# BEGIN ANSIBLE MANAGED BLOCK\na=1\nb=3\n# END ANSIBLE MANAGED BLOCK\n",
            ),
            (
                json!({"block": "mid", "marker": "# {mark} mid", "insertafter": "^line1"}),
                true,
                "Block inserted",
                "<!-- BEGIN top -->\ntop\n<!-- END top -->\nline1\n# BEGIN mid\nmid\n# END mid\nline2\nline3\n# BEGIN ANSIBLE MANAGED BLOCK\na=1\nb=3\n# END ANSIBLE MANAGED BLOCK\n",
            ),
            (
                json!({"block": "pre", "marker": "# {mark} pre", "insertbefore": "^line2", "prepend_newline": true, "append_newline": true}),
                true,
                "Block inserted",
                "<!-- BEGIN top -->\ntop\n<!-- END top -->\nline1\n# BEGIN mid\nmid\n# END mid\n\n# BEGIN pre\npre\n# END pre\n\nline2\nline3\n# BEGIN ANSIBLE MANAGED BLOCK\na=1\nb=3\n# END ANSIBLE MANAGED BLOCK\n",
            ),
            (
                json!({"block": "ml", "marker": "# {mark} ml", "insertafter": "(?m)^line2$"}),
                true,
                "Block inserted",
                "<!-- BEGIN top -->\ntop\n<!-- END top -->\nline1\n# BEGIN mid\nmid\n# END mid\n\n# BEGIN pre\npre\n# END pre\n\nline2\n# BEGIN ml\nml\n# END ml\nline3\n# BEGIN ANSIBLE MANAGED BLOCK\na=1\nb=3\n# END ANSIBLE MANAGED BLOCK\n",
            ),
            (
                json!({"block": "x", "marker": "# {mark} nomatch", "insertafter": "^zzz"}),
                true,
                "Block inserted",
                "<!-- BEGIN top -->\ntop\n<!-- END top -->\nline1\n# BEGIN mid\nmid\n# END mid\n\n# BEGIN pre\npre\n# END pre\n\nline2\n# BEGIN ml\nml\n# END ml\nline3\n# BEGIN ANSIBLE MANAGED BLOCK\na=1\nb=3\n# END ANSIBLE MANAGED BLOCK\n# BEGIN nomatch\nx\n# END nomatch\n",
            ),
            (
                json!({"marker": "# {mark} mid", "state": "absent"}),
                true,
                "Block removed",
                "<!-- BEGIN top -->\ntop\n<!-- END top -->\nline1\n\n# BEGIN pre\npre\n# END pre\n\nline2\n# BEGIN ml\nml\n# END ml\nline3\n# BEGIN ANSIBLE MANAGED BLOCK\na=1\nb=3\n# END ANSIBLE MANAGED BLOCK\n# BEGIN nomatch\nx\n# END nomatch\n",
            ),
            (
                json!({"block": "", "marker": "# {mark} nomatch"}),
                true,
                "Block removed",
                "<!-- BEGIN top -->\ntop\n<!-- END top -->\nline1\n\n# BEGIN pre\npre\n# END pre\n\nline2\n# BEGIN ml\nml\n# END ml\nline3\n# BEGIN ANSIBLE MANAGED BLOCK\na=1\nb=3\n# END ANSIBLE MANAGED BLOCK\n",
            ),
            (
                json!({"block": "custom", "marker_begin": "START", "marker_end": "STOP"}),
                true,
                "Block inserted",
                "<!-- BEGIN top -->\ntop\n<!-- END top -->\nline1\n\n# BEGIN pre\npre\n# END pre\n\nline2\n# BEGIN ml\nml\n# END ml\nline3\n# BEGIN ANSIBLE MANAGED BLOCK\na=1\nb=3\n# END ANSIBLE MANAGED BLOCK\n# START ANSIBLE MANAGED BLOCK\ncustom\n# STOP ANSIBLE MANAGED BLOCK\n",
            ),
            (
                json!({"block": "a=1\nb=3", "mode": "0600"}),
                true,
                "ownership, perms or SE linux context changed",
                "<!-- BEGIN top -->\ntop\n<!-- END top -->\nline1\n\n# BEGIN pre\npre\n# END pre\n\nline2\n# BEGIN ml\nml\n# END ml\nline3\n# BEGIN ANSIBLE MANAGED BLOCK\na=1\nb=3\n# END ANSIBLE MANAGED BLOCK\n# START ANSIBLE MANAGED BLOCK\ncustom\n# STOP ANSIBLE MANAGED BLOCK\n",
            ),
            (
                json!({"block": "a=1\nb=3", "mode": "0640"}),
                true,
                "ownership, perms or SE linux context changed",
                "<!-- BEGIN top -->\ntop\n<!-- END top -->\nline1\n\n# BEGIN pre\npre\n# END pre\n\nline2\n# BEGIN ml\nml\n# END ml\nline3\n# BEGIN ANSIBLE MANAGED BLOCK\na=1\nb=3\n# END ANSIBLE MANAGED BLOCK\n# START ANSIBLE MANAGED BLOCK\ncustom\n# STOP ANSIBLE MANAGED BLOCK\n",
            ),
        ];
        for (mut args, changed, msg, content) in steps {
            if let Some(m) = args.as_object_mut() {
                m.insert("path".into(), json!(f));
            }
            let r = h.run(run, args.clone());
            assert_eq!(
                (r.failed, r.changed, r.msg.as_deref().unwrap_or_default()),
                (false, changed, msg),
                "{args}"
            );
            assert_eq!(read(&f), content, "{args}");
        }
        assert_eq!(mode_of(Path::new(&f)), 0o640);
    }

    #[test]
    fn create_check_diff_backup_and_failures() {
        let d = tmp();
        let h = Harness::new(vec![]);
        let new = p(d.path(), &format!("{HOSTILE}/sub/new"));
        let c = h.check(run, json!({"path": new, "block": "x", "create": true}));
        assert!(
            c.changed && c.msg.as_deref() == Some("File created") && !Path::new(&new).exists(),
            "{c:?}"
        );
        let diff = c.diff.first().cloned().unwrap_or_default();
        assert_eq!(
            diff.after,
            "# BEGIN ANSIBLE MANAGED BLOCK\nx\n# END ANSIBLE MANAGED BLOCK\n"
        );
        let r = h.run(run, json!({"path": new, "block": "x", "create": true}));
        assert!(r.changed && r.msg.as_deref() == Some("File created"), "{r:?}");
        assert_eq!(mode_of(Path::new(&new)), 0o644);
        let again = h.run(run, json!({"path": new, "block": "x", "create": true}));
        assert!(!again.changed, "{again:?}");
        let c = h.check(run, json!({"path": new, "block": "y"}));
        assert!(c.changed && read(&new).contains("\nx\n"), "{c:?}");
        let r = h.run(run, json!({"path": new, "content": "y", "backup": true}));
        let b = s(&r, "backup_file");
        assert!(read(&b).contains("\nx\n") && read(&new).contains("\ny\n"), "{r:?}");
        let r = h.run(
            run,
            json!({"path": new, "block": "z", "validate": "grep -q nothing %s"}),
        );
        assert!(
            r.failed && r.msg.as_deref() == Some("failed to validate: rc:1 error:"),
            "{r:?}"
        );
        assert!(read(&new).contains("\ny\n"));
        let missing = p(d.path(), "missing");
        let dir = d.path().display().to_string();
        let table = [
            (
                json!({"path": missing, "block": "x"}),
                format!("Path {missing} does not exist !"),
            ),
            (
                json!({"path": missing, "state": "absent"}),
                format!("Path {missing} does not exist !"),
            ),
            (
                json!({"path": dir, "block": "x"}),
                format!("Path {dir} is a directory !"),
            ),
            (json!({"block": "x"}), "missing required arguments: path".to_string()),
            (
                json!({"path": new, "insertafter": "a", "insertbefore": "b"}),
                "parameters are mutually exclusive: insertbefore|insertafter".to_string(),
            ),
        ];
        for (args, msg) in table {
            let r = h.run(run, args.clone());
            assert!(r.failed && r.msg.as_deref() == Some(msg.as_str()), "{args}: {r:?}");
        }
        let r = h.run(run, json!({"path": missing, "state": "absent", "create": true}));
        assert!(
            !r.failed && !r.changed && r.msg == Some(format!("File {missing} not present")),
            "{r:?}"
        );
    }
}
