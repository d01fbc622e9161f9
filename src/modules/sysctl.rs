//! `ansible.posix.sysctl`: one `key=value` entry in a sysctl file and, with `sysctl_set` or
//! `reload`, the live kernel value. The file is rewritten as Ansible does when it changes: every
//! entry normalised to `key=value`, later duplicates dropped, comments kept.

use super::Outcome;
use super::args::Args;
use super::context::{Diff, ModuleCtx};
use super::sys_common::{self as sc, both, choice, read_text, try_arg, write_text};
use crate::connection::{self, BoxFuture};

const KNOWN: &[&str] = &[
    "name",
    "key",
    "value",
    "val",
    "state",
    "reload",
    "sysctl_set",
    "ignoreerrors",
    "sysctl_file",
];

struct Want {
    name: String,
    value: String,
    present: bool,
    reload: bool,
    set: bool,
    ignore: bool,
    file: String,
}

fn read(a: &Args<'_>) -> Result<Want, String> {
    a.only(KNOWN)?;
    let name = match a.str("name")?.or(a.str("key")?) {
        Some(n) => n.trim().to_string(),
        None => return Err("missing required arguments: name".into()),
    };
    if name.is_empty() {
        return Err("name cannot be blank".into());
    }
    let present = choice(a, "state", Some("present"), &["present", "absent"])?.as_deref() == Some("present");
    let raw = a.get("value").or(a.get("val"));
    let value = match raw {
        None if present => return Err("state is present but all of the following are missing: value".into()),
        None => String::new(),
        Some(v) => normalise(v),
    };
    if present && value.is_empty() {
        return Err("value cannot be blank".into());
    }
    Ok(Want {
        name,
        value,
        present,
        reload: a.bool("reload", true)?,
        set: a.bool("sysctl_set", false)?,
        ignore: a.bool("ignoreerrors", false)?,
        file: a.str("sysctl_file")?.unwrap_or_else(|| "/etc/sysctl.conf".into()),
    })
}

/// Booleans become `1`/`0`, text is trimmed.
fn normalise(v: &crate::value::Value) -> String {
    use crate::value::Value;
    match v {
        Value::Bool(b) => if *b { "1" } else { "0" }.into(),
        other => {
            let s = other.as_str().map(str::to_string).unwrap_or_else(|| other.to_string());
            match s.to_lowercase().as_str() {
                "yes" | "on" | "true" | "y" | "t" => "1".into(),
                "no" | "off" | "false" | "n" | "f" => "0".into(),
                _ => s.trim().to_string(),
            }
        }
    }
}

fn is_entry(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with('#') && !t.starts_with(';') && t.contains('=')
}

fn split(line: &str) -> (String, String) {
    let (k, v) = line.trim().split_once('=').unwrap_or((line, ""));
    (k.trim().to_string(), v.trim().to_string())
}

/// The file's value for `name` (the last one wins, as `sysctl -p` applies them in order) and
/// the rewritten text.
fn edit(text: &str, w: &Want) -> (Option<String>, String) {
    let mut current = None;
    let mut seen: Vec<String> = Vec::new();
    let mut out = String::new();
    for line in text.lines() {
        if !is_entry(line) {
            out.push_str(line.trim());
            out.push('\n');
            continue;
        }
        let (k, v) = split(line);
        if k == w.name {
            current = Some(v.clone());
        }
        if seen.contains(&k) {
            continue;
        }
        if k == w.name {
            if w.present {
                out.push_str(&format!("{k}={}\n", w.value));
            }
        } else {
            out.push_str(&format!("{k}={v}\n"));
        }
        seen.push(k);
    }
    if w.present && !seen.contains(&w.name) {
        out.push_str(&format!("{}={}\n", w.name, w.value));
    }
    (current, out)
}

fn same_words(a: &str, b: &str) -> bool {
    a.split_whitespace().eq(b.split_whitespace())
}

fn setting_failed(err: &str) -> bool {
    err.lines().any(|l| {
        l.starts_with("sysctl: setting key \"")
            && (l.ends_with(": Invalid argument") || l.ends_with(": Read-only file system"))
    })
}

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let w = try_arg!(read(&Args::new("sysctl", ctx.args)));
        let live = match try_arg!(sc::run(ctx, &["sysctl", "-e", "-n", w.name.as_str()]).await?) {
            o if o.rc == 0 => Some(o.stdout_lossy().trim_end_matches('\n').to_string()),
            _ => None,
        };
        let text = try_arg!(read_text(ctx, &w.file).await?).unwrap_or_default();
        let (in_file, new_text) = edit(&text, &w);
        let write = match (&in_file, w.present) {
            (None, true) => true,
            (None, false) => false,
            (Some(v), false) => !v.is_empty(),
            (Some(v), true) => *v != w.value,
        };
        let live_differs = live.as_deref().is_none_or(|l| !same_words(l, &w.value));
        let mut changed = write || (w.present && w.reload && live_differs && in_file.is_some());
        let mut set_live = false;
        if w.set && w.present && live_differs {
            changed = true;
            set_live = live.is_some();
        }
        let mut o = Outcome::changed(changed);
        if ctx.diff && write {
            o.diff.push(Diff {
                before_header: w.file.clone(),
                after_header: w.file.clone(),
                before: text.clone(),
                after: new_text.clone(),
            });
        }
        if ctx.check {
            return Ok(o);
        }
        if set_live {
            let v = if w.value.split_whitespace().count() > 1 {
                format!("\"{}\"", w.value)
            } else {
                w.value.clone()
            };
            let kv = format!("{}={v}", w.name);
            let mut argv = vec!["sysctl"];
            if w.ignore {
                argv.push("-e");
            }
            argv.extend(["-w", kv.as_str()]);
            let out = try_arg!(sc::run(ctx, &argv).await?);
            if out.rc != 0 || setting_failed(&out.stderr_lossy()) {
                return Ok(Outcome::fail(format!("setting {} failed: {}", w.name, both(&out))));
            }
        }
        if write {
            write_text(ctx, &w.file, &new_text).await?;
        }
        if changed && w.reload {
            let mut argv = vec!["sysctl"];
            if w.ignore {
                argv.push("-e");
            }
            argv.extend(["-p", w.file.as_str()]);
            let out = try_arg!(sc::run(ctx, &argv).await?);
            if out.rc != 0 || setting_failed(&out.stderr_lossy()) {
                return Ok(Outcome::fail(format!("Failed to reload sysctl: {}", both(&out))));
            }
        }
        Ok(o)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn want(name: &str, value: &str, present: bool) -> Want {
        Want {
            name: name.into(),
            value: value.into(),
            present,
            reload: true,
            set: false,
            ignore: false,
            file: String::new(),
        }
    }

    #[test]
    fn file_edits_as_ansible() {
        let text = "# c\nvm.swappiness = 10\nnet.x=1\n\nvm.swappiness=20\n";
        let cases = [
            (
                want("vm.swappiness", "30", true),
                Some("20"),
                "# c\nvm.swappiness=30\nnet.x=1\n\n",
            ),
            (want("vm.swappiness", "", false), Some("20"), "# c\nnet.x=1\n\n"),
            (
                want("a.b", "1 2", true),
                None,
                "# c\nvm.swappiness=10\nnet.x=1\n\na.b=1 2\n",
            ),
        ];
        for (w, cur, after) in cases {
            let (c, t) = edit(text, &w);
            assert_eq!((c.as_deref(), t.as_str()), (cur, after));
        }
        assert!(same_words("1\t 2", "1 2") && !same_words("1 2", "12"));
        assert!(setting_failed("sysctl: setting key \"a.b\": Invalid argument\n"));
    }

    /// Through a real sshd in its own UTS namespace: `kernel.domainname` is a real writable key
    /// there that no other process sees.
    #[test]
    fn real_key_and_file_over_ssh() {
        use crate::modules::sys_lab::SysLab;
        use crate::modules::test_support::args;
        use crate::value::Value;
        let lab = SysLab::new(&[]);
        let file = lab.lab.dir.path().join("sysctl.conf");
        std::fs::write(&file, "# kept\nvm.swappiness = 10\n").unwrap_or_else(|e| panic!("{e}"));
        let f = Value::str(file.display().to_string());
        let a = args(&[
            ("name", Value::str("kernel.domainname")),
            ("value", Value::str("play-test")),
            ("sysctl_file", f.clone()),
            ("sysctl_set", Value::Bool(true)),
        ]);
        let o = lab.run_diff(super::run, &a, true, true);
        assert!(o.changed && !o.failed && o.diff.len() == 1, "{o:?}");
        assert_eq!(lab.sh("sysctl -n kernel.domainname").1.trim(), "(none)");
        let o = lab.run(super::run, &a, false);
        assert!(o.changed && !o.failed, "{o:?}");
        assert_eq!(lab.sh("sysctl -n kernel.domainname").1.trim(), "play-test");
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        assert_eq!(text, "# kept\nvm.swappiness=10\nkernel.domainname=play-test\n");
        let o = lab.run(super::run, &a, false);
        assert!(!o.changed && !o.failed, "{o:?}");
        // The live value drifted: reload puts the file's value back.
        lab.sh("sysctl -w kernel.domainname=drift");
        let o = lab.run(
            super::run,
            &args(&[
                ("name", Value::str("kernel.domainname")),
                ("value", Value::str("play-test")),
                ("sysctl_file", f.clone()),
            ]),
            false,
        );
        assert!(o.changed && !o.failed, "{o:?}");
        assert_eq!(lab.sh("sysctl -n kernel.domainname").1.trim(), "play-test");
        let absent = args(&[
            ("name", Value::str("kernel.domainname")),
            ("state", Value::str("absent")),
            ("sysctl_file", f.clone()),
            ("reload", Value::Bool(false)),
        ]);
        assert!(lab.run(super::run, &absent, false).changed);
        assert!(!lab.run(super::run, &absent, false).changed);
        assert_eq!(
            std::fs::read_to_string(&file).unwrap_or_default(),
            "# kept\nvm.swappiness=10\n"
        );
        let bad = [
            (
                args(&[("name", Value::str("a.b"))]),
                "state is present but all of the following are missing: value",
            ),
            (
                args(&[
                    ("name", Value::str("a.b")),
                    ("value", Value::str("1")),
                    ("bogus", Value::Int(1)),
                ]),
                "Unsupported parameters",
            ),
            (
                args(&[
                    ("name", Value::str("no.such.key")),
                    ("value", Value::str("1")),
                    ("sysctl_file", f.clone()),
                ]),
                "Failed to reload sysctl",
            ),
        ];
        for (a, msg) in bad {
            let o = lab.run(super::run, &a, false);
            assert!(o.failed && o.msg.clone().unwrap_or_default().contains(msg), "{o:?}");
        }
    }
}
