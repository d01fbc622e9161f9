//! Events printed as ansible-playbook prints them: banners padded with stars, one line per host
//! result in colour, `=> {json}` where Ansible shows a result, and the PLAY RECAP.

use super::events::{Event, HostResult, Obligation, Sink, Stats, Status};
use super::pyjson;
use crate::value::{Map, Value};
use console::Style;
use std::io::Write;

/// Prints to stdout (results) and stderr (warnings, aborts). Colour follows `console`'s rules:
/// off when not a terminal or with `NO_COLOR`.
pub struct Human {
    /// `-v` and above: print every result, not only failures and debug output.
    pub verbosity: u8,
    out: Box<dyn Write + Send>,
}

impl Human {
    pub fn stdout(verbosity: u8) -> Human {
        Human {
            verbosity,
            out: Box::new(std::io::stdout()),
        }
    }

    pub fn to_writer(verbosity: u8, out: Box<dyn Write + Send>) -> Human {
        Human { verbosity, out }
    }

    fn line(&mut self, text: &str) {
        let _ = writeln!(self.out, "{text}");
    }
}

/// `TITLE ****` to 80 columns, after an empty line.
pub fn banner(title: &str) -> String {
    let stars = 79usize.saturating_sub(title.chars().count()).max(3);
    format!("\n{title} {}", "*".repeat(stars))
}

fn color(status: Status) -> Style {
    let s = Style::new().for_stdout();
    match status {
        Status::Ok => s.green(),
        Status::Changed => s.yellow(),
        Status::Failed | Status::Unreachable => s.red(),
        Status::Skipped => s.cyan(),
    }
}

/// The result as shown: internal keys gone, and `failed` (which the banner already says).
fn shown(result: &Map, keep_changed: bool) -> Value {
    Value::Map(
        result
            .iter()
            .filter(|(k, _)| !k.starts_with("_ansible") && !k.starts_with("_play") && *k != "failed" && *k != "diff")
            .filter(|(k, _)| keep_changed || *k != "changed")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

fn host_label(r: &HostResult) -> String {
    match &r.delegated {
        Some(d) if d != &r.host => format!("[{} -> {}]", r.host, d),
        _ => format!("[{}]", r.host),
    }
}

/// `--diff` output for a result, as a unified diff per file (what Ansible prints above the
/// host's line).
pub fn diff_text(result: &Map) -> String {
    let Some(Value::List(diffs)) = result.get("diff") else {
        return String::new();
    };
    let mut out = String::new();
    for d in diffs {
        let Value::Map(d) = d else { continue };
        let text = |k: &str| {
            d.get(k)
                .map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
                .unwrap_or_default()
        };
        let (before, after) = (text("before"), text("after"));
        if before == after {
            continue;
        }
        let (bh, ah) = (text("before_header"), text("after_header"));
        let before_label = if bh.is_empty() {
            "before".to_string()
        } else {
            format!("before: {bh}")
        };
        let after_label = if ah.is_empty() {
            "after".to_string()
        } else {
            format!("after: {ah}")
        };
        let diff = similar::TextDiff::from_lines(&before, &after);
        out.push_str(
            &diff
                .unified_diff()
                .context_radius(3)
                .header(&before_label, &after_label)
                .to_string(),
        );
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

impl Human {
    fn result(&mut self, r: &HostResult) {
        let diff = diff_text(&r.result);
        if !diff.is_empty() {
            let _ = write!(self.out, "{diff}");
        }
        let c = color(r.status);
        let who = host_label(r);
        let item = r.item.as_ref().map(|i| format!(" => (item={i})")).unwrap_or_default();
        let text = match r.status {
            Status::Ok | Status::Changed => {
                if r.loop_summary {
                    return;
                }
                let mut t = format!("{}: {who}{item}", r.status.word());
                if r.show_result || self.verbosity > 0 {
                    let mut shown = shown(&r.result, !r.show_result);
                    if r.item.is_some()
                        && let Value::Map(m) = &mut shown
                    {
                        for k in ["item", "ansible_loop_var", "ansible_index_var"] {
                            m.shift_remove(k);
                        }
                    }
                    t.push_str(" => ");
                    t.push_str(&pyjson::indented(&shown));
                }
                t
            }
            Status::Skipped => {
                if r.loop_summary {
                    return;
                }
                // ansible-playbook leaves a space after a skipped item.
                if r.item.is_some() {
                    format!("skipping: {who}{item} ")
                } else {
                    format!("skipping: {who}")
                }
            }
            Status::Failed => match &r.item {
                Some(i) => format!(
                    "failed: {who} (item={i}) => {}",
                    pyjson::compact(&shown(&r.result, true))
                ),
                None => format!("fatal: {who}: FAILED! => {}", pyjson::compact(&shown(&r.result, true))),
            },
            Status::Unreachable => format!(
                "fatal: {who}: UNREACHABLE! => {}",
                pyjson::compact(&shown(&r.result, true))
            ),
        };
        self.line(&c.apply_to(text).to_string());
        if r.ignored && r.status == Status::Failed {
            self.line(&Style::new().for_stdout().cyan().apply_to("...ignoring").to_string());
        }
    }

    fn recap(&mut self, hosts: &[(String, Stats)]) {
        self.line(&banner("PLAY RECAP"));
        for (host, s) in hosts {
            let pair = |lead: &str, n: u32, style: Style| {
                let text = format!("{lead}={n:<4}");
                if n > 0 { style.apply_to(text).to_string() } else { text }
            };
            let out = Style::new().for_stdout();
            let host_style = if s.failed > 0 || s.unreachable > 0 {
                out.clone().red()
            } else if s.changed > 0 {
                out.clone().yellow()
            } else {
                out.clone().green()
            };
            let line = format!(
                "{} : {} {} {} {} {} {} {}",
                host_style.apply_to(format!("{host:<26}")),
                pair("ok", s.ok, out.clone().green()),
                pair("changed", s.changed, out.clone().yellow()),
                pair("unreachable", s.unreachable, out.clone().red()),
                pair("failed", s.failed, out.clone().red()),
                pair("skipped", s.skipped, out.clone().cyan()),
                pair("rescued", s.rescued, out.clone().magenta()),
                pair("ignored", s.ignored, out.clone().magenta()),
            );
            self.line(&line);
        }
        self.line("");
    }
}

/// One obligation as `play runs` and the end of a run print it.
pub fn undo_line(o: &Obligation) -> String {
    match &o.host {
        Some(h) => format!("still to undo: [{h}] {}", o.description),
        None => format!("still to undo: {}", o.description),
    }
}

impl Human {
    /// What the run leaves to undo, after the recap; nothing when it leaves nothing.
    fn undo(&mut self, outstanding: &[Obligation], status: i32) {
        if outstanding.is_empty() {
            return;
        }
        let n = outstanding.len();
        let (title, after) = if status == 0 {
            (
                "LEFT BEHIND BY THIS RUN",
                format!(
                    "the run finished, but no task cleared {}; undo by hand what was not meant to outlive it",
                    if n == 1 { "this" } else { "these" }
                ),
            )
        } else {
            (
                "STILL TO UNDO",
                format!(
                    "the run stopped with {n} thing{} still to undo: resume it to finish, or undo by hand",
                    if n == 1 { "" } else { "s" }
                ),
            )
        };
        self.line(&banner(title));
        let style = Style::new().for_stdout().yellow();
        for o in outstanding {
            self.line(&style.apply_to(undo_line(o)).to_string());
        }
        self.line(&after);
        self.line("");
    }
}

impl Sink for Human {
    fn emit(&mut self, event: &Event) {
        match event {
            Event::PlaybookStart { .. } => {}
            Event::PlayStart { name, .. } => self.line(&banner(&format!("PLAY [{name}]"))),
            Event::BatchStart {
                number, total, hosts, ..
            } => {
                if *total > 1 {
                    self.line(&format!("batch {number} of {total}: {}", hosts.join(", ")));
                }
            }
            Event::BatchEnd { .. } | Event::VarsChanged { .. } | Event::StatsChanged(_) => {}
            Event::Undo { outstanding, status } => self.undo(outstanding, *status),
            Event::Interrupted => {
                let _ = self.out.flush();
                eprintln!(
                    "{} interrupted: running tasks finish, nothing new starts (press Ctrl-C again to stop at once)",
                    Style::new().for_stderr().yellow().apply_to("[STOPPING]:")
                );
            }
            Event::TaskStart { name, handler } => {
                let kind = if *handler { "RUNNING HANDLER" } else { "TASK" };
                self.line(&banner(&format!("{kind} [{name}]")));
            }
            Event::Result(r) => self.result(r),
            Event::Included { what, hosts, item } => {
                let mut t = format!("included: {what} for {}", hosts.join(", "));
                if let Some(i) = item {
                    t.push_str(&format!(" => (item={i})"));
                }
                self.line(&t);
            }
            Event::Retry {
                host,
                task,
                retries_left,
                ..
            } => {
                let text = format!("FAILED - RETRYING: [{host}]: {task} ({retries_left} retries left).");
                self.line(&Style::new().for_stdout().red().apply_to(text).to_string());
            }
            Event::Progress { host, message } => {
                self.line(
                    &Style::new()
                        .for_stdout()
                        .dim()
                        .apply_to(format!("  [{host}] {message}"))
                        .to_string(),
                );
            }
            Event::Gate {
                batch,
                host,
                check,
                passed,
                message,
            } => {
                let (word, style) = if *passed {
                    ("passed", Style::new().for_stdout().green())
                } else {
                    ("FAILED", Style::new().for_stdout().red())
                };
                let mut t = format!("gate after batch {batch}: [{host}] {check}: {word}");
                if !message.is_empty() {
                    t.push_str(&format!(" ({message})"));
                }
                self.line(&style.apply_to(t).to_string());
            }
            Event::Warning(w) => {
                eprintln!("{} {w}", Style::new().for_stderr().magenta().apply_to("[WARNING]:"));
            }
            Event::NoMoreHosts => self.line(&banner("NO MORE HOSTS LEFT")),
            Event::Aborted { reason } => {
                let _ = self.out.flush();
                eprintln!("{} {reason}", Style::new().for_stderr().red().bold().apply_to("ERROR!"));
            }
            Event::Recap(hosts) => self.recap(hosts),
            Event::RetryFile { path } => self.line(&format!("\tto retry, use: --limit @{path}\n")),
        }
        let _ = self.out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer the test can read back.
    #[derive(Clone, Default)]
    struct Buf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn undo_obligations_are_printed_with_wording_by_outcome() {
        let o = |host: Option<&str>, d: &str| Obligation {
            host: host.map(String::from),
            name: d.into(),
            description: d.into(),
        };
        let cases: Vec<(Vec<Obligation>, i32, Vec<&str>)> = vec![
            (
                vec![o(None, "node w3 cordoned"), o(Some("w1"), "lock held")],
                2,
                vec![
                    "STILL TO UNDO",
                    "still to undo: node w3 cordoned",
                    "still to undo: [w1] lock held",
                    "2 things",
                ],
            ),
            (
                vec![o(None, "x")],
                130,
                vec!["STILL TO UNDO", "still to undo: x", "1 thing still"],
            ),
            (
                vec![o(None, "x")],
                0,
                vec!["LEFT BEHIND BY THIS RUN", "still to undo: x"],
            ),
            (vec![], 2, vec![]),
        ];
        for (outstanding, status, want) in cases {
            let buf = Buf::default();
            let mut h = Human::to_writer(0, Box::new(buf.clone()));
            h.emit(&Event::Undo {
                outstanding: outstanding.clone(),
                status,
            });
            let text = String::from_utf8_lossy(&buf.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned();
            for w in &want {
                assert!(text.contains(w), "{status}: {w} in {text}");
            }
            if want.is_empty() {
                assert!(text.is_empty(), "{text}");
            }
        }
    }

    #[test]
    fn banners_fill_eighty_columns() {
        let b = banner("PLAY [all]");
        assert_eq!(b.trim_start_matches('\n').chars().count(), 80, "{b}");
        assert!(banner(&"x".repeat(100)).ends_with(" ***"));
    }
}
