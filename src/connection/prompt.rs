//! Answering a privilege-escalation prompt while a command runs. The command first prints a
//! random success marker; until it does, its output is held back and searched for the
//! password prompt (answered once) or for the marker (then the request's own stdin is sent).
//! Both exec loops (SSH and local) drive a [`Watcher`].

use super::options::Secret;
use std::time::Duration;

/// What an exec loop needs to get through `sudo`/`su` before the real command starts.
#[derive(Debug, Clone)]
pub struct BecomePrompt {
    /// Text the escalation tool prints when it wants the password (random for sudo).
    pub prompt: String,
    /// Printed by the wrapped command once it runs as the target user.
    pub marker: String,
    /// Sent once, followed by a newline, on standard input. Never placed in a command line.
    pub password: Option<Secret>,
    /// The tool reads the password from a terminal (su): ask for a PTY.
    pub pty: bool,
    /// How long to wait for the marker before giving up.
    pub timeout: Duration,
    /// `sudo to root`, for messages.
    pub what: String,
}

/// The next thing an exec loop must do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Keep reading.
    Wait,
    /// Write these bytes (the password and a newline) to the command's stdin.
    Answer(Vec<u8>),
    /// The marker arrived: send the request's stdin and EOF from now on.
    Ready,
    /// Kill the command and fail with this reason.
    Fail(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    Out,
    Err,
}

/// Messages the escalation tools print when the password was wrong or missing.
const WRONG: &[&str] = &[
    "Sorry, try again",
    "incorrect password",
    "Authentication failure",
    "authentication failure",
];
const MISSING: &[&str] = &["a password is required", "a terminal is required", "no tty present"];

pub(crate) struct Watcher<'a> {
    p: &'a BecomePrompt,
    answered: bool,
    ready: bool,
    held_out: Vec<u8>,
    held_err: Vec<u8>,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

fn contains_any(text: &str, words: &[&str]) -> bool {
    words.iter().any(|w| text.contains(w))
}

impl<'a> Watcher<'a> {
    pub(crate) fn new(p: &'a BecomePrompt) -> Watcher<'a> {
        Watcher {
            p,
            answered: false,
            ready: false,
            held_out: Vec::new(),
            held_err: Vec::new(),
        }
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.ready
    }

    /// Take `data` read from `stream`; passes it to `out`/`err` once the marker was seen.
    pub(crate) fn feed(&mut self, stream: Stream, data: &[u8], out: &mut Vec<u8>, err: &mut Vec<u8>) -> Step {
        if self.ready {
            match stream {
                Stream::Out => out.extend_from_slice(data),
                Stream::Err => err.extend_from_slice(data),
            }
            return Step::Wait;
        }
        match stream {
            Stream::Out => self.held_out.extend_from_slice(data),
            Stream::Err => self.held_err.extend_from_slice(data),
        }
        if let Some(at) = find(&self.held_out, self.p.marker.as_bytes()) {
            let mut rest = at + self.p.marker.len();
            for eol in [&b"\r\n"[..], b"\n"] {
                if self.held_out.get(rest..).is_some_and(|t| t.starts_with(eol)) {
                    rest += eol.len();
                    break;
                }
            }
            out.extend_from_slice(self.held_out.get(rest..).unwrap_or_default());
            // What came before the marker is the tool's chatter (prompt, lecture): dropped,
            // unless it is more than whitespace on stderr.
            let before = self.strip_prompts(&self.held_err.clone());
            if !String::from_utf8_lossy(&before).trim().is_empty() {
                err.extend_from_slice(&before);
            }
            self.held_out.clear();
            self.held_err.clear();
            self.ready = true;
            return Step::Ready;
        }
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&self.held_out),
            String::from_utf8_lossy(&self.held_err)
        );
        if self.answered && contains_any(&text, WRONG) {
            return Step::Fail(self.wrong());
        }
        let prompt = self.p.prompt.as_bytes();
        let seen = find(&self.held_out, prompt).is_some() || find(&self.held_err, prompt).is_some();
        if !seen {
            return Step::Wait;
        }
        if self.answered {
            return Step::Fail(self.wrong());
        }
        let Some(pw) = &self.p.password else {
            return Step::Fail(self.missing());
        };
        self.held_out = self.strip_prompts(&self.held_out);
        self.held_err = self.strip_prompts(&self.held_err);
        self.answered = true;
        let mut answer = pw.expose().as_bytes().to_vec();
        answer.push(b'\n');
        Step::Answer(answer)
    }

    /// The command ended before the marker: why escalation failed.
    pub(crate) fn failure(&self, rc: i32) -> String {
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&self.strip_prompts(&self.held_out)),
            String::from_utf8_lossy(&self.strip_prompts(&self.held_err))
        );
        if contains_any(&text, MISSING) && self.p.password.is_none() {
            return self.missing();
        }
        if contains_any(&text, WRONG) {
            return if self.answered || self.p.password.is_some() {
                self.wrong()
            } else {
                self.missing()
            };
        }
        let text = text.trim();
        if text.is_empty() {
            format!("{} exited with status {rc} before the command started", self.p.what)
        } else {
            format!(
                "{} exited with status {rc} before the command started: {text}",
                self.p.what
            )
        }
    }

    pub(crate) fn timed_out(&self) -> String {
        format!(
            "{} did not start the command within {}s (no password prompt or success marker seen)",
            self.p.what,
            self.p.timeout.as_secs()
        )
    }

    fn wrong(&self) -> String {
        format!("{}: incorrect password", self.p.what)
    }

    fn missing(&self) -> String {
        format!("{}: a password is required but none was given", self.p.what)
    }

    fn strip_prompts(&self, data: &[u8]) -> Vec<u8> {
        let prompt = self.p.prompt.as_bytes();
        let mut out = Vec::with_capacity(data.len());
        let mut rest = data;
        while let Some(at) = find(rest, prompt) {
            out.extend_from_slice(rest.get(..at).unwrap_or_default());
            rest = rest.get(at + prompt.len()..).unwrap_or_default();
        }
        out.extend_from_slice(rest);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt(password: Option<&str>) -> BecomePrompt {
        BecomePrompt {
            prompt: "[p-123] password:".into(),
            marker: "BECOME-SUCCESS-abc".into(),
            password: password.map(Secret::new),
            pty: false,
            timeout: Duration::from_secs(5),
            what: "sudo to root".into(),
        }
    }

    #[test]
    fn answers_once_then_passes_output_after_the_marker() {
        let p = prompt(Some("pw'$(x)"));
        let mut w = Watcher::new(&p);
        let (mut out, mut err) = (Vec::new(), Vec::new());
        // Prompt split across reads.
        assert_eq!(w.feed(Stream::Err, b"[p-123] pass", &mut out, &mut err), Step::Wait);
        assert_eq!(
            w.feed(Stream::Err, b"word:", &mut out, &mut err),
            Step::Answer(b"pw'$(x)\n".to_vec())
        );
        assert_eq!(w.feed(Stream::Out, b"BECOME-SUCC", &mut out, &mut err), Step::Wait);
        assert_eq!(
            w.feed(Stream::Out, b"ESS-abc\nhello\n", &mut out, &mut err),
            Step::Ready
        );
        assert_eq!(w.feed(Stream::Out, b"more", &mut out, &mut err), Step::Wait);
        assert_eq!((out.as_slice(), err.as_slice()), (&b"hello\nmore"[..], &b""[..]));
    }

    #[test]
    fn second_prompt_or_sorry_is_a_wrong_password() {
        for second in [&b"Sorry, try again.\n"[..], b"[p-123] password:"] {
            let p = prompt(Some("bad"));
            let mut w = Watcher::new(&p);
            let (mut out, mut err) = (Vec::new(), Vec::new());
            assert!(matches!(
                w.feed(Stream::Err, b"[p-123] password:", &mut out, &mut err),
                Step::Answer(_)
            ));
            match w.feed(Stream::Err, second, &mut out, &mut err) {
                Step::Fail(m) => assert!(m.contains("incorrect password"), "{m}"),
                s => panic!("{s:?}"),
            }
        }
    }

    #[test]
    fn no_password_fails_at_the_prompt_or_on_sudo_n_message() {
        let p = prompt(None);
        let mut w = Watcher::new(&p);
        let (mut out, mut err) = (Vec::new(), Vec::new());
        match w.feed(Stream::Err, b"[p-123] password:", &mut out, &mut err) {
            Step::Fail(m) => assert!(m.contains("password is required"), "{m}"),
            s => panic!("{s:?}"),
        }
        let mut w = Watcher::new(&p);
        assert_eq!(
            w.feed(Stream::Err, b"sudo: a password is required\n", &mut out, &mut err),
            Step::Wait
        );
        assert!(w.failure(1).contains("password is required"));
    }
}
