//! Host key checking through the binary against real sshd hosts: unknown keys are refused before
//! authentication and never recorded unless asked, changed and revoked keys are hard failures,
//! hashed and `[host]:port` entries match as OpenSSH matches them (checked against `ssh` itself
//! on the same file), accept-new records each key once under parallel first contacts, and a
//! bastion's key is checked like any other.

#[path = "support/netlab.rs"]
mod netlab;
#[path = "support/sshd_hosts.rs"]
mod sshd_hosts;
mod support;

use sshd_hosts::{SshHost, SshHosts};
use std::path::Path;
use std::process::Command;
use support::{Outcome, play, write_tree};

const BOOK: &str = "
- hosts: nodes
  gather_facts: false
  tasks:
    - command: echo reached {{ inventory_hostname }}
      changed_when: false
";

/// `type base64` of a public key file's first line.
fn key_of(text: &str) -> String {
    let mut parts = text.split_whitespace();
    format!(
        "{} {}",
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default()
    )
}

fn host_key(h: &SshHost) -> String {
    key_of(&std::fs::read_to_string(h.host_key.with_extension("pub")).expect("host key"))
}

/// A key no server here has.
fn stranger_key() -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("k");
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&path)
        .status()
        .expect("ssh-keygen");
    assert!(made.success());
    key_of(&std::fs::read_to_string(path.with_extension("pub")).expect("pub"))
}

/// Run the book on `hosts` with `args` as ansible_ssh_common_args and `cfg` as ansible.cfg.
fn run(hosts: &SshHosts, args: &str, cfg: &str, extra: &[&str]) -> Outcome {
    let inv = hosts.inventory(&[]);
    let cut = inv.find("    ansible_ssh_common_args").expect("common args line");
    let rest = &inv[cut..];
    let end = rest.find('\n').map(|i| cut + i + 1).unwrap_or(inv.len());
    let inv = format!("{}    ansible_ssh_common_args: '{args}'\n{}", &inv[..cut], &inv[end..]);
    let dir = tempfile::tempdir().expect("tempdir");
    write_tree(
        dir.path(),
        &[("hosts.yml", &inv), ("site.yml", BOOK), ("ansible.cfg", cfg)],
    );
    let mut all = vec!["site.yml", "-i", "hosts.yml"];
    all.extend_from_slice(extra);
    play(dir.path(), &all)
}

fn kh_args(kh: &Path) -> String {
    format!("-o UserKnownHostsFile={}", kh.display())
}

/// Whether OpenSSH's client, with no terminal to ask, connects to `h` using `kh` only.
fn openssh_accepts(hosts: &SshHosts, h: &SshHost, kh: &Path) -> bool {
    let out = Command::new("ssh")
        .args([
            "-F",
            "/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "GlobalKnownHostsFile=/dev/null",
        ])
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", kh.display()))
        .arg("-i")
        .arg(&hosts.key)
        .args(["-p", &h.port.to_string(), "root@127.0.0.1", "true"])
        .output()
        .expect("ssh runs (apt-get install openssh-client)");
    out.status.success()
}

fn text(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

fn both(o: &Outcome) -> String {
    format!("exit {}\n{}\n{}", o.code, o.stdout, o.stderr)
}

#[test]
fn an_unknown_key_is_refused_before_authentication_and_never_recorded() {
    let hosts = SshHosts::start_with(&["a"], "LogLevel DEBUG1\n");
    let h = &hosts.hosts[0];
    std::fs::write(&hosts.known_hosts, "").expect("empty known_hosts");
    let out = run(&hosts, &kh_args(&hosts.known_hosts), "", &[]);
    assert_eq!(out.code, 4, "{}", both(&out));
    assert!(out.stdout.contains("UNREACHABLE!"), "{}", both(&out));
    assert!(
        out.stdout.contains("is not known") && out.stdout.contains(&hosts.known_hosts.display().to_string()),
        "names the file it looked in: {}",
        both(&out)
    );
    assert_eq!(text(&hosts.known_hosts), "", "strict checking never records a key");
    let log = h.log();
    assert!(
        !log.contains("userauth-request") && !log.contains("Accepted") && !log.contains("Failed"),
        "the server saw an authentication attempt:\n{log}"
    );
    assert!(
        log.contains("Connection from 127.0.0.1"),
        "the server was contacted:\n{log}"
    );
    assert!(!openssh_accepts(&hosts, h, &hosts.known_hosts), "ssh refuses too");

    // Control: with the key known the same log shows the authentication the check looks for.
    std::fs::write(&hosts.known_hosts, format!("[127.0.0.1]:{} {}\n", h.port, host_key(h))).expect("known_hosts");
    let out = run(&hosts, &kh_args(&hosts.known_hosts), "", &[]);
    assert_eq!(out.code, 0, "{}", both(&out));
    let log = h.log();
    assert!(
        log.contains("userauth-request") && log.contains("Accepted publickey"),
        "{log}"
    );
}

#[test]
fn checking_off_records_nothing_and_accept_new_records_the_key_once() {
    let hosts = SshHosts::start(&["a", "b"]);
    let kh = &hosts.known_hosts;
    let off = [
        ("[defaults]\nhost_key_checking = False\n", kh_args(kh), "ansible.cfg"),
        ("", format!("{} -o StrictHostKeyChecking=no", kh_args(kh)), "ssh args"),
    ];
    for (cfg, args, how) in off {
        std::fs::write(kh, "").expect("empty known_hosts");
        let out = run(&hosts, &args, cfg, &[]);
        assert_eq!(out.code, 0, "{how}: {}", both(&out));
        assert_eq!(text(kh), "", "{how}: checking off records nothing");
    }
    std::fs::write(kh, "").expect("empty known_hosts");
    let args = format!("{} -o StrictHostKeyChecking=accept-new", kh_args(kh));
    for round in 0..2 {
        let out = run(&hosts, &args, "", &[]);
        assert_eq!(out.code, 0, "round {round}: {}", both(&out));
        let now = text(kh);
        let mut lines: Vec<&str> = now.lines().collect();
        lines.sort();
        let mut want: Vec<String> = hosts
            .hosts
            .iter()
            .map(|h| format!("[127.0.0.1]:{} {}", h.port, host_key(h)))
            .collect();
        want.sort();
        assert_eq!(lines, want, "round {round}: one line per host");
    }
    for h in &hosts.hosts {
        assert!(openssh_accepts(&hosts, h, kh), "ssh reads what was recorded");
    }
}

#[test]
fn a_changed_key_fails_hard_naming_the_file_and_line() {
    let hosts = SshHosts::start(&["a", "b"]);
    let (a, b) = (&hosts.hosts[0], &hosts.hosts[1]);
    let kh = &hosts.known_hosts;
    let file = format!(
        "# fleet keys\n[127.0.0.1]:{} {}\n[127.0.0.1]:{} {}\n",
        b.port,
        host_key(b),
        a.port,
        stranger_key()
    );
    for strict in ["yes", "accept-new"] {
        std::fs::write(kh, &file).expect("known_hosts");
        let args = format!("{} -o StrictHostKeyChecking={strict}", kh_args(kh));
        let out = run(&hosts, &args, "", &[]);
        assert_eq!(out.code, 4, "{strict}: {}", both(&out));
        assert!(
            out.stdout.contains("HOST KEY CHANGED") && out.stdout.contains(&format!("{}:3", kh.display())),
            "{strict}: names file and line: {}",
            both(&out)
        );
        assert!(out.stdout.contains("ok=1"), "{strict}: b still runs: {}", out.stdout);
        assert_eq!(text(kh), file, "{strict}: the file is left alone");
    }
    assert!(!openssh_accepts(&hosts, a, kh), "ssh refuses a changed key too");
    assert!(openssh_accepts(&hosts, b, kh));
}

#[test]
fn known_hosts_entries_match_as_openssh_matches_them() {
    let hosts = SshHosts::start(&["a"]);
    let h = &hosts.hosts[0];
    let key = host_key(h);
    let port = h.port;
    let other = stranger_key();
    let kh = &hosts.known_hosts;
    // (what, file contents, accepted?)
    let cases: Vec<(&str, String, bool)> = vec![
        ("bracketed host and port", format!("[127.0.0.1]:{port} {key}\n"), true),
        // ssh looks again without the port when `[host]:port` has no entry at all.
        (
            "bare address, found without the port",
            format!("127.0.0.1 {key}\n"),
            true,
        ),
        ("bare address with another key", format!("127.0.0.1 {other}\n"), false),
        (
            "port entry changed, bare entry right",
            format!("[127.0.0.1]:{port} {other}\n127.0.0.1 {key}\n"),
            false,
        ),
        ("another port", format!("[127.0.0.1]:{} {key}\n", port - 1), false),
        (
            "wildcard in a bracketed name",
            format!("[127.0.0.?]:{port} {key}\n"),
            true,
        ),
        (
            "a list with the name negated",
            format!("[127.0.0.*]:{port},![127.0.0.1]:{port} {key}\n"),
            false,
        ),
        (
            "revoked beside a plain entry",
            format!("@revoked [127.0.0.1]:{port} {key}\n[127.0.0.1]:{port} {key}\n"),
            false,
        ),
        (
            "revoked for every name",
            format!("@revoked * {key}\n[127.0.0.1]:{port} {key}\n"),
            false,
        ),
        (
            "a comment and a junk line first",
            format!("# c\njunk line\n[127.0.0.1]:{port} {key}\n"),
            true,
        ),
    ];
    for (what, file, want) in &cases {
        std::fs::write(kh, file).expect("known_hosts");
        let out = run(&hosts, &kh_args(kh), "", &[]);
        assert_eq!(out.code == 0, *want, "{what}: {}", both(&out));
        assert_eq!(openssh_accepts(&hosts, h, kh), *want, "{what}: ssh agrees");
        if file.contains("@revoked") {
            assert!(out.stdout.contains("@revoked at"), "{what}: {}", out.stdout);
        }
    }
    // The same entries hashed by ssh-keygen -H (HMAC-SHA1 of the name as ssh looks it up).
    for (what, file, want) in cases
        .iter()
        .filter(|c| !c.1.contains('*') && !c.1.contains('?') && !c.1.contains("junk"))
    {
        std::fs::write(kh, file).expect("known_hosts");
        let hashed = Command::new("ssh-keygen")
            .arg("-H")
            .arg("-f")
            .arg(kh)
            .output()
            .expect("ssh-keygen -H");
        assert!(hashed.status.success(), "{}", String::from_utf8_lossy(&hashed.stderr));
        let now = text(kh);
        assert!(
            now.contains("|1|")
                && now
                    .lines()
                    .filter(|l| !l.starts_with('@') && l.contains("ssh-"))
                    .all(|l| l.starts_with("|1|")),
            "{what}: hashed: {now}"
        );
        let out = run(&hosts, &kh_args(kh), "", &[]);
        assert_eq!(out.code == 0, *want, "{what} (hashed): {}", both(&out));
        assert_eq!(openssh_accepts(&hosts, h, kh), *want, "{what} (hashed): ssh agrees");
    }
}

#[test]
fn fifty_parallel_first_contacts_with_accept_new_write_each_key_exactly_once() {
    let names: Vec<String> = (0..50).map(|i| format!("n{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let hosts = SshHosts::start(&refs);
    let kh = &hosts.known_hosts;
    std::fs::write(kh, "").expect("empty known_hosts");
    let args = format!("{} -o StrictHostKeyChecking=accept-new", kh_args(kh));
    let out = run(&hosts, &args, "", &["-f", "50"]);
    assert_eq!(out.code, 0, "{}", both(&out));
    let file = text(kh);
    assert!(file.ends_with('\n'), "no torn last line");
    let mut lines: Vec<&str> = file.lines().collect();
    assert_eq!(lines.len(), 50, "{file}");
    lines.sort();
    let mut want: Vec<String> = hosts
        .hosts
        .iter()
        .map(|h| format!("[127.0.0.1]:{} {}", h.port, host_key(h)))
        .collect();
    want.sort();
    assert_eq!(lines, want, "each key exactly once, whole lines");
    for h in hosts.hosts.iter().step_by(10) {
        assert!(openssh_accepts(&hosts, h, kh), "ssh reads the file");
    }
}

// --- through a bastion -------------------------------------------------------------------

const BEHIND: &str = "
- hosts: behind
  gather_facts: false
  tasks:
    - command: echo reached
      changed_when: false
";

fn run_behind(lab: &netlab::NetLab, extra_args: &str) -> Outcome {
    let ini = lab.inventory_ini("behind");
    let cut = ini.find("ansible_ssh_common_args").expect("common args line");
    let inv = format!(
        "{}ansible_ssh_common_args='{} {extra_args}'\n",
        &ini[..cut],
        lab.common_args()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    write_tree(dir.path(), &[("hosts.ini", &inv), ("site.yml", BEHIND)]);
    play(dir.path(), &["site.yml", "-i", "hosts.ini"])
}

fn lab_logins(lab: &netlab::NetLab) -> usize {
    lab.bastions.iter().chain(&lab.private).map(|s| s.logins()).sum()
}

#[test]
fn through_a_bastion_the_jump_hosts_key_is_checked_too() {
    let lab = netlab::NetLab::start(1, 1);
    let (b, p) = (&lab.bastions[0], &lab.private[0]);
    let kh = &lab.known_hosts;

    // accept-new records both keys on first contact, once.
    for round in 0..2 {
        let out = run_behind(&lab, "-o StrictHostKeyChecking=accept-new");
        assert_eq!(out.code, 0, "round {round}: {}", both(&out));
        let mut lines: Vec<String> = text(kh).lines().map(str::to_string).collect();
        lines.sort();
        let mut want = vec![key_line(b), key_line(p)];
        want.sort();
        assert_eq!(lines, want, "round {round}");
    }

    // The bastion's recorded key differs: refused before any login anywhere, naming the line.
    let host_field = b
        .known_hosts_line()
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    let before = lab_logins(&lab);
    std::fs::write(
        kh,
        format!("{}\n{host_field} {}\n", p.known_hosts_line(), stranger_key()),
    )
    .expect("known_hosts");
    let out = run_behind(&lab, "-o StrictHostKeyChecking=accept-new");
    assert_eq!(out.code, 4, "{}", both(&out));
    assert!(
        out.stdout.contains("HOST KEY CHANGED")
            && out.stdout.contains(&format!("{}:2", kh.display()))
            && out.stdout.contains("bastion"),
        "{}",
        both(&out)
    );
    assert_eq!(lab_logins(&lab), before, "no login on the bastion or the target");

    // The bastion's key is revoked.
    std::fs::write(
        kh,
        format!(
            "{}\n{}\n@revoked {}\n",
            p.known_hosts_line(),
            b.known_hosts_line(),
            b.known_hosts_line()
        ),
    )
    .expect("known_hosts");
    let out = run_behind(&lab, "");
    assert_eq!(out.code, 4, "{}", both(&out));
    assert!(out.stdout.contains("@revoked at"), "{}", both(&out));
    assert_eq!(lab_logins(&lab), before, "no login on the bastion or the target");
}

fn key_line(s: &netlab::NsSshd) -> String {
    s.known_hosts_line()
}
