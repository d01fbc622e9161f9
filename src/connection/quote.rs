//! The one shell quoting function. Every argument placed into a shell line sent to a host goes
//! through [`quote`]: POSIX single quotes, with `'` written as `'"'"'`. Single quotes turn off
//! every expansion (`$`, backticks, `\`, globbing, newlines), so the result is one literal word.

use std::fmt;

/// A string that no shell word can carry: C strings end at NUL, so `sh` would silently cut it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteError {
    /// Byte offset of the first NUL.
    pub position: usize,
}

impl fmt::Display for QuoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "argument contains a NUL byte at offset {}; a shell cannot pass it",
            self.position
        )
    }
}

impl std::error::Error for QuoteError {}

/// Quote `s` as one word for a POSIX shell. Plain words (letters, digits and `_@%+=:,./-`) are
/// left as they are so command lines stay readable in logs.
pub fn quote(s: &str) -> Result<String, QuoteError> {
    if let Some(position) = s.bytes().position(|b| b == 0) {
        return Err(QuoteError { position });
    }
    if !s.is_empty() && s.bytes().all(is_plain) {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\"'\"'");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    Ok(out)
}

/// Quote every argument and join them with spaces: a command line that runs `args` exactly.
pub fn join<S: AsRef<str>>(args: &[S]) -> Result<String, QuoteError> {
    let mut words = Vec::with_capacity(args.len());
    for a in args {
        words.push(quote(a.as_ref())?);
    }
    Ok(words.join(" "))
}

fn is_plain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"_@%+=:,./-".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    const HOSTILE: &[&str] = &[
        "",
        "plain",
        "two words",
        "it's",
        "''",
        "'\"'\"'",
        "\"double\"",
        "$(id)",
        "`id`",
        "${HOME}",
        "$HOME",
        "a\nb\n",
        "\n",
        "tab\there",
        "back\\slash\\",
        "semi; rm -rf /tmp/nothing-here",
        "a && b || c | d > e < f",
        "*",
        "?",
        "[a-z]",
        "~",
        "~root",
        "-n",
        "--",
        "#comment",
        "!bang",
        "héllo wörld ✓ 日本語 🚀",
        "\u{7f}\u{1b}[31mred",
        "end'",
        "'start",
        "%s %d",
    ];

    /// Run `printf '%s' QUOTED` through a real `sh -c` and compare bytes.
    fn through_sh(word: &str) -> Vec<u8> {
        let q = quote(word).unwrap_or_else(|e| panic!("quote({word:?}) failed: {e}"));
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("printf '%s' {q}"))
            .output()
            .unwrap_or_else(|e| panic!("sh: {e}"));
        assert!(
            out.status.success(),
            "sh failed for {word:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    #[test]
    fn hostile_strings_survive_a_real_shell() {
        for word in HOSTILE {
            assert_eq!(
                through_sh(word),
                word.as_bytes(),
                "quoted {word:?} as {:?}",
                quote(word)
            );
        }
    }

    #[test]
    fn join_keeps_word_boundaries() {
        let q = join(HOSTILE).unwrap_or_default();
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("for a in {q}; do printf '%s\\0' \"$a\"; done"))
            .output()
            .unwrap_or_else(|e| panic!("sh: {e}"));
        let got: Vec<&[u8]> = out.stdout.split(|b| *b == 0).collect();
        let want: Vec<&[u8]> = HOSTILE.iter().map(|s| s.as_bytes()).chain([&b""[..]]).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn nul_is_an_error_not_a_truncation() {
        assert_eq!(quote("ab\0cd"), Err(QuoteError { position: 2 }));
        assert!(join(&["ok", "\0"]).is_err());
    }

    #[test]
    fn plain_words_stay_readable() {
        let table = [
            ("abc", "abc"),
            ("/etc/hosts", "/etc/hosts"),
            ("", "''"),
            ("a b", "'a b'"),
            ("it's", "'it'\"'\"'s'"),
        ];
        for (input, want) in table {
            assert_eq!(quote(input).ok().as_deref(), Some(want));
        }
    }
}
