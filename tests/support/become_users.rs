//! The local users the become tests log in as, and their sudoers rules: created once per test
//! process, idempotently, so the library's and the binary's test programs can share them.
//! Standalone (std only); needs root and sudo, and fails loudly without them.

#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// Must give a password to sudo.
pub const PW_USER: &str = "play-become";
/// Hostile on purpose: quotes, command substitution, backslash, shell operators.
pub const PW: &str = "Be'c\"ome $(touch /tmp/pwned) `id` \\ ;|&pw";
/// sudo without a password (NOPASSWD); also the target of su tests.
pub const NOPW_USER: &str = "play-nopasswd";
pub const NOPW_PW: &str = "su-target 'pw' $HOME";
const SUDOERS: &str = "/etc/sudoers.d/play-become-tests";

/// Run `cmd` with `stdin`; whether it succeeded, and its stdout and stderr together.
pub fn sh(cmd: &mut Command, stdin: &str) -> (bool, String) {
    let child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = child.unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    if let Some(mut i) = child.stdin.take() {
        use std::io::Write;
        let _ = i.write_all(stdin.as_bytes());
    }
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Create the users and the sudoers rules, once per test process.
pub fn ensure() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(create);
}

fn create() {
    assert!(
        Path::new("/usr/bin/sudo").exists(),
        "sudo is missing: install it (apt-get install -y sudo) to run the become tests"
    );
    let (root, _) = sh(Command::new("sh").args(["-c", "test \"$(id -u)\" = 0"]), "");
    assert!(root, "the become tests create users and must run as root");
    for (user, pw) in [(PW_USER, PW), (NOPW_USER, NOPW_PW)] {
        if !sh(Command::new("id").arg("-u").arg(user), "").0 {
            let (ok, text) = sh(Command::new("useradd").args(["-m", "-s", "/bin/sh", user]), "");
            // A parallel test process may have just created it.
            assert!(ok || text.contains("already exists"), "useradd {user}: {text}");
        }
        // Through stdin, never argv; also unlocks the account for sshd. Another test program
        // may hold the passwd lock for a moment, hence the retries.
        let mut last = String::new();
        let set = (0..5).any(|_| {
            let (ok, text) = sh(&mut Command::new("chpasswd"), &format!("{user}:{pw}\n"));
            last = text;
            if !ok {
                std::thread::sleep(Duration::from_millis(300));
            }
            ok
        });
        assert!(set, "chpasswd {user}: {last}");
    }
    let rules = format!(
        "Defaults:{PW_USER} !lecture, timestamp_timeout=0\n{PW_USER} ALL=(ALL:ALL) ALL\n\
         {NOPW_USER} ALL=(ALL:ALL) NOPASSWD: ALL\n"
    );
    let tmp = format!("{SUDOERS}.tmp{}", std::process::id());
    let _ = std::fs::create_dir_all("/etc/sudoers.d");
    std::fs::write(&tmp, rules).unwrap_or_else(|e| panic!("{tmp}: {e}"));
    let _ = std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o440));
    let (ok, text) = sh(Command::new("visudo").args(["-c", "-f", &tmp]), "");
    assert!(ok, "visudo rejected the test sudoers file: {text}");
    std::fs::rename(&tmp, SUDOERS).unwrap_or_else(|e| panic!("{SUDOERS}: {e}"));
    let main = std::fs::read_to_string("/etc/sudoers").unwrap_or_default();
    assert!(
        main.contains("includedir /etc/sudoers.d"),
        "/etc/sudoers does not include /etc/sudoers.d"
    );
}
