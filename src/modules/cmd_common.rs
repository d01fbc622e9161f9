//! What `command`, `shell`, `script` and `raw` share: the `chdir`/`creates`/`removes` guard
//! checked on the host, timing in Ansible's formats, and the `rc`/`stdout`/`stderr` fields.

use super::Outcome;
use super::context::ModuleCtx;
use crate::connection::{self, ExecOutput, ExecRequest, quote};
use crate::value::{Map, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The guard arguments every command-like module takes.
#[derive(Debug, Default, Clone)]
pub struct Guard {
    pub chdir: Option<String>,
    pub creates: Option<String>,
    pub removes: Option<String>,
}

/// What the guard decided before running anything.
pub enum Decision {
    Run,
    /// Not run: the outcome to return as it is.
    Done(Outcome),
}

impl Guard {
    /// Checks `chdir`, then `creates`/`removes` (globs, relative to `chdir`) in one round
    /// trip, and the check-mode rule: only a guard that says "would run" reports changed;
    /// without `creates`/`removes` check mode skips.
    pub async fn decide(&self, ctx: &ModuleCtx<'_>) -> connection::Result<Decision> {
        self.decide_for(ctx, ctx.check).await
    }

    /// [`Guard::decide`] with check mode given by the caller (`script` handles it itself).
    pub async fn decide_for(&self, ctx: &ModuleCtx<'_>, check: bool) -> connection::Result<Decision> {
        let mut base = empty_result();
        if self.chdir.is_none() && self.creates.is_none() && self.removes.is_none() {
            return Ok(if check {
                Decision::Done(would_run(base, true))
            } else {
                Decision::Run
            });
        }
        let mut script = String::new();
        if let Some(dir) = &self.chdir {
            match quote::quote(dir) {
                Ok(q) => script.push_str(&format!("cd {q} 2>/dev/null || {{ echo nochdir; exit 0; }}\n")),
                Err(e) => return Ok(Decision::Done(Outcome::fail(e.to_string()))),
            }
        }
        for (tag, pattern) in [("creates", &self.creates), ("removes", &self.removes)] {
            if let Some(p) = pattern {
                match glob_words(p) {
                    Ok(g) => script.push_str(&format!(
                        "for f in {g}; do if [ -e \"$f\" ] || [ -L \"$f\" ]; then echo {tag}; break; fi; done\n"
                    )),
                    Err(e) => return Ok(Decision::Done(Outcome::fail(e.to_string()))),
                }
            }
        }
        let out = ctx.conn.exec(&ExecRequest::new(script)).await?;
        let text = out.stdout_lossy();
        let found = |tag: &str| text.lines().any(|l| l.trim() == tag);
        if found("nochdir") {
            let dir = self.chdir.clone().unwrap_or_default();
            return Ok(Decision::Done(Outcome::fail(format!(
                "Unable to change directory before execution: [Errno 2] No such file or directory: '{dir}'"
            ))));
        }
        let verb = if check { "Would" } else { "Did" };
        if let Some(c) = &self.creates
            && found("creates")
        {
            base.insert("rc".into(), Value::Int(0));
            base.insert("stdout".into(), Value::str(format!("skipped, since {c} exists")));
            return Ok(Decision::Done(finish_skip(
                base,
                format!("{verb} not run command since '{c}' exists"),
            )));
        }
        if let Some(r) = &self.removes
            && !found("removes")
        {
            base.insert("rc".into(), Value::Int(0));
            base.insert(
                "stdout".into(),
                Value::str(format!("skipped, since {r} does not exist")),
            );
            return Ok(Decision::Done(finish_skip(
                base,
                format!("{verb} not run command since '{r}' does not exist"),
            )));
        }
        let guarded = self.creates.is_some() || self.removes.is_some();
        Ok(if check {
            Decision::Done(would_run(base, !guarded))
        } else {
            Decision::Run
        })
    }

    /// `cd <dir> && ` when `chdir` is set.
    pub fn cd_prefix(&self) -> Result<String, quote::QuoteError> {
        Ok(match &self.chdir {
            Some(d) => format!("cd {} && ", quote::quote(d)?),
            None => String::new(),
        })
    }
}

fn finish_skip(mut data: Map, msg: String) -> Outcome {
    add_lines(&mut data);
    Outcome {
        changed: false,
        data,
        msg: Some(msg),
        ..Outcome::default()
    }
}

/// Check mode reached the point of running: Ansible says it would have run; with no guard it
/// marks the task skipped (not changed), with a guard it reports changed.
fn would_run(mut data: Map, skip: bool) -> Outcome {
    data.insert("rc".into(), Value::Int(0));
    add_lines(&mut data);
    Outcome {
        changed: !skip,
        skipped: skip,
        data,
        msg: Some("Command would have run if not in check mode".into()),
        ..Outcome::default()
    }
}

/// The fields a command result always has, before anything ran.
pub fn empty_result() -> Map {
    let mut m = Map::new();
    for k in ["rc", "cmd", "start", "end", "delta"] {
        m.insert(k.into(), Value::Null);
    }
    m.insert("stdout".into(), Value::str(""));
    m.insert("stderr".into(), Value::str(""));
    m
}

/// `stdout_lines`/`stderr_lines` from `stdout`/`stderr`, as Ansible adds them.
pub fn add_lines(m: &mut Map) {
    for (k, lines) in [("stdout", "stdout_lines"), ("stderr", "stderr_lines")] {
        if let Some(text) = m.get(k).and_then(Value::as_str) {
            let l: Vec<Value> = split_lines(text).into_iter().map(Value::Str).collect();
            m.insert(lines.into(), Value::List(l));
        }
    }
}

/// Python's `str.splitlines()` for the common line ends.
pub fn split_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        match rest.find(['\n', '\r']) {
            Some(i) => {
                out.push(rest[..i].to_string());
                let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = &rest[i + skip..];
            }
            None => {
                out.push(rest.to_string());
                break;
            }
        }
    }
    out
}

/// A glob pattern as shell words: literal parts quoted, `*`, `?` and `[...]` left to the shell,
/// so only globbing happens, never expansion or command substitution.
pub fn glob_words(pattern: &str) -> Result<String, quote::QuoteError> {
    let mut out = String::new();
    let mut literal = String::new();
    for c in pattern.chars() {
        if matches!(c, '*' | '?' | '[' | ']') {
            if !literal.is_empty() {
                out.push_str(&quote::quote(&literal)?);
                literal.clear();
            }
            out.push(c);
        } else {
            literal.push(c);
        }
    }
    if !literal.is_empty() {
        out.push_str(&quote::quote(&literal)?);
    }
    if out.is_empty() {
        out.push_str("''");
    }
    Ok(out)
}

/// Runs `line` and fills the result: `rc`, `stdout`, `stderr` (trailing newlines stripped when
/// `strip`), the lines, `start`/`end`/`delta`, `changed`, and the failure for rc != 0.
pub async fn run_line(
    ctx: &ModuleCtx<'_>,
    line: String,
    stdin: Option<Vec<u8>>,
    cmd: Value,
    strip: bool,
) -> connection::Result<Outcome> {
    let mut req = ExecRequest::new(line);
    req.stdin = stdin;
    let start = SystemTime::now();
    let out = ctx.conn.exec(&req).await?;
    let end = SystemTime::now();
    Ok(outcome_from(&out, cmd, strip, start, end))
}

pub fn outcome_from(out: &ExecOutput, cmd: Value, strip: bool, start: SystemTime, end: SystemTime) -> Outcome {
    let mut data = empty_result();
    let fix = |s: String| {
        if strip {
            s.trim_end_matches(['\r', '\n']).to_string()
        } else {
            s
        }
    };
    data.insert("cmd".into(), cmd);
    data.insert("rc".into(), Value::Int(out.rc.into()));
    data.insert("stdout".into(), Value::Str(fix(out.stdout_lossy())));
    data.insert("stderr".into(), Value::Str(fix(out.stderr_lossy())));
    data.insert("start".into(), Value::Str(timestamp(start)));
    data.insert("end".into(), Value::Str(timestamp(end)));
    data.insert(
        "delta".into(),
        Value::Str(delta(end.duration_since(start).unwrap_or_default())),
    );
    add_lines(&mut data);
    let mut o = Outcome {
        changed: true,
        data,
        msg: Some(String::new()),
        ..Outcome::default()
    };
    if out.rc != 0 {
        o.failed = true;
        o.msg = Some("non-zero return code".into());
    }
    o
}

/// `YYYY-MM-DD HH:MM:SS.ffffff` (UTC), the format of Python's `str(datetime)`.
pub fn timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (y, mo, da) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{da:02} {:02}:{:02}:{:02}.{:06}",
        s / 3600,
        s / 60 % 60,
        s % 60,
        d.subsec_micros()
    )
}

/// `H:MM:SS.ffffff`, the format of Python's `str(timedelta)`.
pub fn delta(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}:{:02}.{:06}", s / 3600, s / 60 % 60, s % 60, d.subsec_micros())
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The common command arguments read once.
pub fn read_guard(a: &super::args::Args<'_>) -> Result<Guard, String> {
    Ok(Guard {
        chdir: a.str("chdir")?,
        creates: a.str("creates")?,
        removes: a.str("removes")?,
    })
}

/// The `stdin` bytes with Ansible's `stdin_add_newline`.
pub fn stdin_bytes(a: &super::args::Args<'_>) -> Result<Option<Vec<u8>>, String> {
    let add = a.bool("stdin_add_newline", true)?;
    Ok(a.str("stdin")?.map(|mut s| {
        if add {
            s.push('\n');
        }
        s.into_bytes()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_match_python() {
        let t = UNIX_EPOCH + Duration::from_micros(1_700_000_000_123_456);
        assert_eq!(timestamp(t), "2023-11-14 22:13:20.123456");
        assert_eq!(delta(Duration::from_micros(3_723_000_042)), "1:02:03.000042");
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn lines_and_globs() {
        assert_eq!(split_lines("a\r\nb\n\nc"), vec!["a", "b", "", "c"]);
        assert!(split_lines("").is_empty());
        assert_eq!(glob_words("/tmp/a b*.txt").ok(), Some("'/tmp/a b'*.txt".to_string()));
        assert_eq!(glob_words("$(id)?").ok(), Some("'$(id)'?".to_string()));
    }
}
