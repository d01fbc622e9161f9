//! `command`: runs a program with its arguments, no shell between the user's words and the
//! program. Every word is quoted; only `$VAR`/`${VAR}` and a leading `~` are expanded on the
//! host (Ansible's `expand_argument_vars`), an unset variable staying as written.

use super::Outcome;
use super::args::Args;
use super::cmd_common::{Decision, read_guard, run_line, stdin_bytes};
use super::context::ModuleCtx;
use crate::connection::{self, BoxFuture, quote};
use crate::value::Value;

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let a = Args::new("command", ctx.args);
        let prepared = match prepare(&a) {
            Ok(p) => p,
            Err(msg) => return Ok(Outcome::fail(msg)),
        };
        let (argv, guard, stdin, strip, expand) = prepared;
        match guard.decide(ctx).await? {
            Decision::Done(o) => return Ok(o.with("cmd", words_value(&argv))),
            Decision::Run => {}
        }
        let line = match build_line(&argv, expand)
            .and_then(|l| Ok(format!("{}{}{l}", guard.cd_prefix()?, found_check(&argv, expand)?)))
        {
            Ok(l) => l,
            Err(e) => return Ok(Outcome::fail(e.to_string())),
        };
        let o = run_line(ctx, line, stdin, words_value(&argv), strip).await?;
        let missing = o.data.get("rc") == Some(&Value::Int(127))
            && o.data.get("stderr").and_then(Value::as_str) == Some(NOT_FOUND);
        Ok(if missing { not_found(&argv) } else { o })
    })
}

type Prepared = (Vec<String>, super::cmd_common::Guard, Option<Vec<u8>>, bool, bool);

fn prepare(a: &Args<'_>) -> Result<Prepared, String> {
    a.only(&[
        "cmd",
        "argv",
        "chdir",
        "creates",
        "removes",
        "stdin",
        "stdin_add_newline",
        "strip_empty_ends",
        "expand_argument_vars",
        "executable",
    ])?;
    let raw = a.str("_raw_params")?.or(a.str("cmd")?);
    let argv = match a.get("argv") {
        None => None,
        Some(Value::List(items)) => Some(
            items
                .iter()
                .map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
                .collect(),
        ),
        Some(_) => return Err("argument 'argv' of command must be a list".into()),
    };
    let words = match (raw, argv) {
        (Some(_), Some(_)) => return Err("only command or argv can be given, not both".into()),
        (Some(text), None) => shell_words::split(&text).map_err(|e| format!("failed to parse command: {e}"))?,
        (None, Some(list)) => list,
        (None, None) => Vec::new(),
    };
    if words.iter().all(|w| w.trim().is_empty()) {
        return Err("no command given".into());
    }
    Ok((
        words,
        read_guard(a)?,
        stdin_bytes(a)?,
        a.bool("strip_empty_ends", true)?,
        a.bool("expand_argument_vars", true)?,
    ))
}

/// What the host prints (to stderr, with rc 127) when the program does not exist.
const NOT_FOUND: &str = "@@play: no such command@@";

/// A test that the program exists, so a missing one is reported as Ansible reports it rather
/// than as the shell's "not found" with rc 127.
fn found_check(argv: &[String], expand: bool) -> Result<String, quote::QuoteError> {
    match argv.first() {
        Some(p) if !p.starts_with('-') => {
            let word = if expand { expand_word(p)? } else { quote::quote(p)? };
            Ok(format!(
                "{{ command -v {word} >/dev/null 2>&1 || {{ printf '%s' '{NOT_FOUND}' >&2; exit 127; }}; }} && "
            ))
        }
        _ => Ok(String::new()),
    }
}

/// Ansible's result for a program that could not be started.
fn not_found(argv: &[String]) -> Outcome {
    let mut o = Outcome::fail("Error executing command.");
    o.data.insert("cmd".into(), Value::Str(argv.join(" ")));
    o.data.insert("rc".into(), Value::Int(2));
    o.data.insert("stdout".into(), Value::str(""));
    o.data.insert("stderr".into(), Value::str(""));
    super::cmd_common::add_lines(&mut o.data);
    o
}

/// `["echo", "hi"]` as the result's `cmd`.
pub fn words_value(words: &[String]) -> Value {
    Value::List(words.iter().cloned().map(Value::Str).collect())
}

/// The shell line running `argv` exactly (with the host's variable expansion when `expand`).
pub fn build_line(argv: &[String], expand: bool) -> Result<String, quote::QuoteError> {
    let mut out = Vec::with_capacity(argv.len());
    for w in argv {
        out.push(if expand { expand_word(w)? } else { quote::quote(w)? });
    }
    Ok(out.join(" "))
}

/// One word with `~`, `$NAME` and `${NAME}` left for the host shell to expand (inside double
/// quotes, so no splitting or globbing) and everything else quoted. An unset variable expands
/// to its own text, as Python's `os.path.expandvars` leaves it.
pub fn expand_word(word: &str) -> Result<String, quote::QuoteError> {
    let mut out = String::new();
    let mut literal = String::new();
    let mut rest = word;
    if let Some(after) = rest.strip_prefix('~') {
        let end = after.find('/').unwrap_or(after.len());
        let user = &after[..end];
        if user.is_empty() {
            out.push_str("\"$HOME\"");
            rest = &after[end..];
        } else if user
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
            && user.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
        {
            out.push('~');
            out.push_str(user);
            rest = &after[end..];
        }
    }
    let flush = |out: &mut String, literal: &mut String| -> Result<(), quote::QuoteError> {
        if !literal.is_empty() {
            out.push_str(&quote::quote(literal)?);
            literal.clear();
        }
        Ok(())
    };
    while let Some(i) = rest.find('$') {
        literal.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, braced, used) = if let Some(inner) = after.strip_prefix('{') {
            match inner.find('}') {
                Some(j) => (&inner[..j], true, j + 2),
                None => ("", false, 0),
            }
        } else {
            let n = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..n], false, n)
        };
        if is_name(name) {
            flush(&mut out, &mut literal)?;
            if braced {
                out.push_str(&format!("\"${{{name}-\\${{{name}\\}}}}\""));
            } else {
                out.push_str(&format!("\"${{{name}-\\${name}}}\""));
            }
            rest = &after[used..];
        } else {
            literal.push('$');
            rest = after;
        }
    }
    literal.push_str(rest);
    flush(&mut out, &mut literal)?;
    if out.is_empty() {
        out.push_str("''");
    }
    Ok(out)
}

fn is_name(s: &str) -> bool {
    let mut b = s.bytes();
    b.next().is_some_and(|c| c.is_ascii_alphabetic() || c == b'_') && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::test_support::{Fixture, args, raw};

    #[test]
    fn words_expand_only_variables() {
        let cases = [
            ("plain", "plain"),
            ("a b", "'a b'"),
            ("$(touch /tmp/x)", "'$(touch /tmp/x)'"),
            ("$HOME/x", "\"${HOME-\\$HOME}\"/x"),
            ("~/x", "\"$HOME\"/x"),
            ("${A}b", "\"${A-\\${A\\}}\"b"),
            ("$1", "'$1'"),
            ("", "''"),
        ];
        for (w, want) in cases {
            assert_eq!(expand_word(w).ok().as_deref(), Some(want), "{w}");
        }
    }

    #[test]
    fn runs_words_as_written() {
        let fx = Fixture::new();
        let marker = fx.dir.path().join("pwned");
        let hostile = format!("$(touch {})", marker.display());
        let cases: Vec<(crate::value::Map, i32, &str, bool)> = vec![
            (raw("echo hello   world"), 0, "hello world", false),
            (raw(&format!("echo '{hostile}'")), 0, hostile.as_str(), false),
            (raw(&format!("echo \"{hostile}; \" `id`")), 0, "", false),
            (
                args(&[(
                    "argv",
                    Value::List(vec![
                        Value::str("printf"),
                        Value::str("%s|"),
                        Value::str("a b"),
                        Value::str(";ls"),
                    ]),
                )]),
                0,
                "a b|;ls|",
                false,
            ),
            (raw("sh -c 'exit 3'"), 3, "", true),
            (
                raw("echo $NOPE_UNSET_VAR ${NOPE_UNSET_VAR}"),
                0,
                "$NOPE_UNSET_VAR ${NOPE_UNSET_VAR}",
                false,
            ),
            (
                args(&[("cmd", Value::str("cat")), ("stdin", Value::str("in"))]),
                0,
                "in",
                false,
            ),
        ];
        for (a, rc, stdout, failed) in cases {
            let o = fx.run(super::run, &a, false);
            let r = o.to_result();
            assert_eq!(r.get("rc"), Some(&Value::Int(rc.into())), "{a:?} {r:?}");
            if !stdout.is_empty() {
                assert_eq!(r.get("stdout").and_then(Value::as_str), Some(stdout), "{a:?}");
            }
            assert_eq!(o.failed, failed, "{a:?}");
            assert!(o.changed);
            if failed {
                assert_eq!(o.msg.as_deref(), Some("non-zero return code"));
            }
            for k in ["cmd", "start", "end", "delta", "stdout_lines", "stderr_lines", "stderr"] {
                assert!(r.contains_key(k), "{k} missing");
            }
        }
        assert!(!marker.exists(), "a hostile word ran");
    }

    #[test]
    fn guards_and_check_mode() {
        let fx = Fixture::new();
        let there = fx.dir.path().join("there.txt");
        let _ = std::fs::write(&there, "x");
        let d = fx.dir.path().display().to_string();
        let out = fx.dir.path().join("out");
        let touch = format!("touch {}", out.display());
        type Case<'a> = (Vec<(&'a str, Value)>, bool, bool, bool, &'a str);
        let cases: Vec<Case> = vec![
            // args, check, changed, skipped, msg
            (
                vec![("creates", Value::str(format!("{d}/*.txt")))],
                false,
                false,
                false,
                "Did not run command since",
            ),
            (
                vec![("removes", Value::str(format!("{d}/nope")))],
                false,
                false,
                false,
                "does not exist",
            ),
            (
                vec![("creates", Value::str("there.txt")), ("chdir", Value::str(d.clone()))],
                true,
                false,
                false,
                "Would not run",
            ),
            (vec![], true, false, true, "Command would have run if not in check mode"),
            (
                vec![("removes", Value::str(there.display().to_string()))],
                true,
                true,
                false,
                "Command would have run",
            ),
        ];
        for (extra, check, changed, skipped, msg) in cases {
            let mut a = raw(&touch);
            for (k, v) in extra {
                a.insert(k.into(), v);
            }
            let o = fx.run(super::run, &a, check);
            assert_eq!(
                (o.changed, o.skipped, o.failed),
                (changed, skipped, false),
                "{a:?} {o:?}"
            );
            assert!(o.msg.as_deref().unwrap_or_default().contains(msg), "{o:?}");
            assert!(!out.exists(), "{a:?} ran");
        }
        let mut a = raw("pwd");
        a.insert("chdir".into(), Value::str(d.clone()));
        let o = fx.run(super::run, &a, false);
        assert_eq!(o.data.get("stdout").and_then(Value::as_str), Some(d.as_str()));
        a.insert("chdir".into(), Value::str(format!("{d}/missing")));
        let o = fx.run(super::run, &a, false);
        assert!(o.failed && o.msg.unwrap_or_default().contains("Unable to change directory"));
        for missing in ["nosuchcmd_x arg", "/nonexistent/bin"] {
            let o = fx.run(super::run, &raw(missing), false);
            assert!(o.failed && !o.changed, "{o:?}");
            assert_eq!(o.msg.as_deref(), Some("Error executing command."));
            assert_eq!(o.data.get("rc"), Some(&Value::Int(2)));
            assert_eq!(o.data.get("cmd").and_then(Value::as_str), Some(missing));
        }
        let o = fx.run(super::run, &raw("  "), false);
        assert_eq!(o.msg.as_deref(), Some("no command given"));
    }
}
