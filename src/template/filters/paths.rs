//! Path and shell filters: `basename`, `dirname`, `expanduser`, `realpath`, `splitext`,
//! `path_join`, `quote`, `comment`.

use super::{fail, mj, text};
use crate::value::Value;
use minijinja::value::{Kwargs, Value as MjValue};
use minijinja::{Environment, Error as MjError};

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("basename", basename);
    env.add_filter("dirname", dirname);
    env.add_filter("expanduser", expanduser);
    env.add_filter("realpath", realpath);
    env.add_filter("splitext", splitext);
    env.add_filter("path_join", path_join);
    env.add_filter("quote", quote);
    env.add_filter("comment", comment);
}

/// Python's `os.path.basename`: everything after the last '/'.
fn basename(value: MjValue) -> Result<String, MjError> {
    let s = text(&value)?;
    Ok(s.rsplit('/').next().unwrap_or_default().to_string())
}

/// Python's `os.path.dirname`: everything before the last '/' (trailing slashes kept off).
fn dirname(value: MjValue) -> Result<String, MjError> {
    let s = text(&value)?;
    Ok(match s.rfind('/') {
        Some(0) => "/".to_string(),
        Some(i) => {
            let head = s.get(..i).unwrap_or_default();
            let trimmed = head.trim_end_matches('/');
            if trimmed.is_empty() {
                "/".to_string()
            } else {
                trimmed.to_string()
            }
        }
        None => String::new(),
    })
}

fn expanduser(value: MjValue) -> Result<String, MjError> {
    let s = text(&value)?;
    let home = std::env::var("HOME").unwrap_or_default();
    Ok(if s == "~" {
        home
    } else if let Some(rest) = s.strip_prefix("~/") {
        format!("{home}/{rest}")
    } else {
        s
    })
}

fn realpath(value: MjValue) -> Result<String, MjError> {
    let s = text(&value)?;
    Ok(std::fs::canonicalize(&s)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or(s))
}

fn splitext(value: MjValue) -> Result<MjValue, MjError> {
    let s = text(&value)?;
    let base_start = s.rfind('/').map(|i| i + 1).unwrap_or(0);
    let base = s.get(base_start..).unwrap_or_default();
    let dot = base
        .trim_start_matches('.')
        .rfind('.')
        .map(|i| i + (base.len() - base.trim_start_matches('.').len()));
    Ok(match dot {
        Some(i) => {
            let cut = base_start + i;
            mj(&Value::List(vec![
                Value::Str(s.get(..cut).unwrap_or_default().into()),
                Value::Str(s.get(cut..).unwrap_or_default().into()),
            ]))
        }
        None => mj(&Value::List(vec![Value::Str(s), Value::Str(String::new())])),
    })
}

fn path_join(value: MjValue) -> Result<String, MjError> {
    let parts: Vec<String> = if value.as_str().is_some() {
        vec![text(&value)?]
    } else {
        value.try_iter()?.map(|v| text(&v)).collect::<Result<_, _>>()?
    };
    let mut p = std::path::PathBuf::new();
    for part in parts {
        p.push(part);
    }
    Ok(p.to_string_lossy().into_owned())
}

/// Python's `shlex.quote`: safe strings as they are, everything else in single quotes.
pub(crate) fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c)) {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\"'\"'"))
}

fn quote(value: MjValue) -> Result<String, MjError> {
    Ok(shell_quote(&text(&value)?))
}

fn comment(value: MjValue, style: Option<String>, kwargs: Kwargs) -> Result<String, MjError> {
    let s = text(&value)?;
    let decoration: Option<String> = kwargs.get("decoration")?;
    let _: Option<MjValue> = kwargs.get("newline")?;
    kwargs.assert_all_used()?;
    let (begin, prefix, end) = match style.as_deref().unwrap_or("plain") {
        "plain" => (None, "# ", None),
        "c" => (None, "// ", None),
        "cblock" => (Some("/*"), " * ", Some(" */")),
        "erlang" => (None, "% ", None),
        "xml" => (Some("<!--"), " - ", Some("-->")),
        other => return Err(fail("comment", format!("unknown style '{other}'"))),
    };
    let prefix = decoration.unwrap_or_else(|| prefix.to_string());
    let bare = prefix.trim_end();
    let mut out = Vec::new();
    out.extend(begin.map(str::to_string));
    out.push(bare.to_string());
    for line in s.lines() {
        out.push(if line.is_empty() {
            bare.to_string()
        } else {
            format!("{prefix}{line}")
        });
    }
    out.push(bare.to_string());
    out.extend(end.map(str::to_string));
    Ok(out.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::check;
    use super::shell_quote;

    #[test]
    fn quote_hostile_strings() {
        let cases = [
            ("abc", "abc"),
            ("", "''"),
            ("a b", "'a b'"),
            ("it's", "'it'\"'\"'s'"),
            ("$(rm -rf /)", "'$(rm -rf /)'"),
            ("a;b", "'a;b'"),
        ];
        for (input, want) in cases {
            assert_eq!(shell_quote(input), want);
        }
    }

    #[test]
    fn path_filters() {
        check(
            "{}",
            &[
                ("{{ '/etc/kubernetes/admin.conf' | basename }}", "admin.conf"),
                ("{{ '/etc/kubernetes/admin.conf' | dirname }}", "/etc/kubernetes"),
                ("{{ 'admin.conf' | dirname }}", ""),
                ("{{ '/a/b.tar.gz' | splitext | last }}", ".gz"),
                ("{{ ('.bashrc' | splitext)[0] }}", ".bashrc"),
                ("{{ ['/etc', 'k8s', 'x.yml'] | path_join }}", "/etc/k8s/x.yml"),
                ("{{ 'a b' | quote }}", "'a b'"),
                ("{{ 'hi' | comment }}", "#\n# hi\n#"),
            ],
        );
    }
}
