//! More playbooks run through the binary against real sshd hosts on 127.0.0.1: bad keys,
//! retry files, JSON events, become with sudo passwords, check/diff mode, handlers, failure
//! rules across batches, delegation, run_once, until/retries and undefined variables.

#[path = "support/become_users.rs"]
mod become_users;
#[path = "support/sshd_hosts.rs"]
mod sshd_hosts;
mod support;

use become_users::{NOPW_USER, PW, PW_USER, sh};
use sshd_hosts::SshHosts;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use support::{Outcome, play, write_tree};

/// A project dir holding `hosts.yml` (the given inventory text), `site.yml` and any extra files.
fn project(inventory: &str, playbook: &str, extra: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut files = vec![("hosts.yml", inventory), ("site.yml", playbook)];
    files.extend_from_slice(extra);
    write_tree(dir.path(), &files);
    dir
}

fn run(dir: &Path, more: &[&str]) -> Outcome {
    let mut args = vec!["site.yml", "-i", "hosts.yml"];
    args.extend_from_slice(more);
    play(dir, &args)
}

/// Add `line` (e.g. `ansible_user: x`) to `host`'s entry under `all.hosts`.
fn host_var(inventory: &str, host: &str, line: &str) -> String {
    let entry = format!("\n    {host}:\n");
    assert!(inventory.contains(&entry), "{host} in\n{inventory}");
    inventory.replacen(&entry, &format!("{entry}      {line}\n"), 1)
}

fn recap_line<'a>(stdout: &'a str, host: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.starts_with(host) && l.contains(" : ok="))
        .unwrap_or_else(|| panic!("no recap line for {host} in:\n{stdout}"))
}

fn both(o: &Outcome) -> String {
    format!("--- stdout\n{}\n--- stderr\n{}", o.stdout, o.stderr)
}

/// Templates in playbooks written with `format!` need `{{{{`; this keeps them readable.
fn jinja(s: &str) -> String {
    s.replace("[[", "{{").replace("]]", "}}")
}

// ---------------------------------------------------------------- 1. a key not authorized

#[test]
fn a_key_the_host_does_not_accept_makes_only_that_host_unreachable() {
    let hosts = SshHosts::start(&["n1", "n2"]);
    let stranger = hosts.dir.path().join("stranger");
    let keygen = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&stranger)
        .output()
        .expect("ssh-keygen");
    assert!(keygen.status.success());
    let inv = host_var(
        &hosts.inventory(&[]),
        "n2",
        &format!("ansible_ssh_private_key_file: {}", stranger.display()),
    );
    let mark = tempfile::tempdir().expect("tempdir");
    let book = jinja(&format!(
        "- hosts: nodes\n  gather_facts: false\n  tasks:\n    - command: touch {}/[[ inventory_hostname ]]\n",
        mark.path().display()
    ));
    let dir = project(&inv, &book, &[]);
    let out = run(dir.path(), &[]);
    assert_eq!(out.code, 4, "{}", both(&out));
    let fatal = out
        .stdout
        .lines()
        .find(|l| l.contains("fatal: [n2]: UNREACHABLE!"))
        .unwrap_or_else(|| panic!("{}", both(&out)));
    // Ansible: "root@127.0.0.1: Permission denied (publickey)".
    assert!(fatal.contains("root"), "the user is named: {fatal}");
    let lower = fatal.to_lowercase();
    assert!(
        lower.contains("permission denied") || lower.contains("auth"),
        "the auth failure is named: {fatal}"
    );
    assert!(mark.path().join("n1").exists(), "the other host still ran");
    assert!(!mark.path().join("n2").exists());
    assert!(recap_line(&out.stdout, "n2").contains("unreachable=1"));
    assert!(recap_line(&out.stdout, "n1").contains("changed=1"));
}

// ---------------------------------------------------------------- 2. retry files

#[test]
fn failed_hosts_are_written_to_a_retry_file_that_limit_at_reads_back() {
    let hosts = SshHosts::start(&["n1", "n2", "n3"]);
    let mark = tempfile::tempdir().expect("tempdir");
    // `heal` lets the second run pass so only the limit decides who runs.
    let book = jinja(&format!(
        r#"
- hosts: nodes
  gather_facts: false
  tasks:
    - fail: msg=broken
      when: inventory_hostname in ['n1', 'n3'] and not (heal | default(false) | bool)
    - shell: echo x >> {m}/[[ inventory_hostname ]]
"#,
        m = mark.path().display()
    ));
    // Ansible writes retry files only when enabled; this makes the test hold for both.
    let cfg = "[defaults]\nretry_files_enabled = True\n";
    let dir = project(&hosts.inventory(&[]), &book, &[("ansible.cfg", cfg)]);
    let first = run(dir.path(), &[]);
    assert_eq!(first.code, 2, "{}", both(&first));
    let retry = std::fs::read_to_string(dir.path().join("site.retry"))
        .unwrap_or_else(|e| panic!("site.retry: {e}\n{}", both(&first)));
    let mut listed: Vec<&str> = retry.lines().filter(|l| !l.is_empty()).collect();
    listed.sort_unstable();
    assert_eq!(listed, ["n1", "n3"], "{retry:?}");

    for h in ["n1", "n2", "n3"] {
        let _ = std::fs::remove_file(mark.path().join(h));
    }
    let second = run(dir.path(), &["--limit", "@site.retry", "-e", "heal=true"]);
    assert_eq!(second.code, 0, "{}", both(&second));
    assert!(mark.path().join("n1").exists() && mark.path().join("n3").exists());
    assert!(!mark.path().join("n2").exists(), "n2 was not in the retry file");
    assert!(!second.stdout.contains("n2 "), "{}", second.stdout);
}

// ---------------------------------------------------------------- 3. --output json

#[test]
fn json_output_is_one_parseable_event_per_line() {
    let hosts = SshHosts::start(&["n1", "n2"]);
    let book = r#"
- name: the play
  hosts: nodes
  gather_facts: false
  tasks:
    - name: always changes
      command: 'true'
    - name: fails on n2
      command: /bin/false
      when: inventory_hostname == 'n2'
"#;
    let dir = project(&hosts.inventory(&[]), book, &[]);
    let out = run(dir.path(), &["--output", "json"]);
    assert_eq!(out.code, 2, "{}", both(&out));
    let events: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}\n{}", out.stdout)))
        .collect();
    let kind = |e: &serde_json::Value| e["event"].as_str().unwrap_or_default().to_string();
    for k in ["play_start", "task_start", "result", "recap"] {
        assert!(events.iter().any(|e| kind(e) == k), "no {k} event in\n{}", out.stdout);
    }
    let play = events.iter().find(|e| kind(e) == "play_start").expect("play_start");
    assert_eq!(play["name"], "the play");
    let results: Vec<&serde_json::Value> = events.iter().filter(|e| kind(e) == "result").collect();
    let find = |host: &str, status: &str| results.iter().any(|r| r["host"] == host && r["status"] == status);
    assert!(find("n1", "changed") && find("n2", "changed"), "{}", out.stdout);
    assert!(find("n2", "failed"), "{}", out.stdout);
    assert!(find("n1", "skipping"), "{}", out.stdout);
    assert!(!find("n1", "failed"), "{}", out.stdout);
    let failed = results
        .iter()
        .find(|r| r["host"] == "n2" && r["status"] == "failed")
        .expect("n2 failed");
    assert_eq!(failed["result"]["rc"], 1, "the module's fields ride along: {failed}");
    let recap = events.iter().rev().find(|e| kind(e) == "recap").expect("recap");
    assert_eq!(recap["hosts"]["n2"]["failed"], 1, "{recap}");
    assert_eq!(recap["hosts"]["n1"]["changed"], 1, "{recap}");
    assert_eq!(recap["hosts"]["n1"]["skipped"], 1, "{recap}");
}

// ---------------------------------------------------------------- 4. become with sudo

fn uid(user: &str) -> String {
    let (ok, text) = sh(Command::new("id").arg("-u").arg(user), "");
    assert!(ok, "id -u {user}: {text}");
    text.trim().to_string()
}

/// One host that logs in as `play-become` with the lab key (sshd reads authorized_keys as
/// that user, so the lab dir must be readable by it).
fn become_host() -> SshHosts {
    use std::os::unix::fs::PermissionsExt;
    become_users::ensure();
    let hosts = SshHosts::start(&["n1"]);
    let _ = std::fs::set_permissions(hosts.dir.path(), std::fs::Permissions::from_mode(0o755));
    let auth = hosts.dir.path().join("authorized_keys");
    let _ = std::fs::set_permissions(auth, std::fs::Permissions::from_mode(0o644));
    hosts
}

fn yaml_single(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

const BECOME_BOOK: &str = r#"
- hosts: nodes
  gather_facts: false
  tasks:
    - command: id -u
      register: plain
    - command: id -u
      become: true
      register: root
    - command: id -u
      become: true
      become_user: play-nopasswd
      register: other
    - debug: msg="uids {{ plain.stdout }} {{ root.stdout }} {{ other.stdout }}"
"#;

#[test]
fn become_with_a_sudo_password_from_inventory_or_extra_vars() {
    let hosts = become_host();
    let base = host_var(&hosts.inventory(&[]), "n1", &format!("ansible_user: {PW_USER}"));
    let want = format!("uids {} 0 {}", uid(PW_USER), uid(NOPW_USER));

    let inv = host_var(&base, "n1", &format!("ansible_become_password: {}", yaml_single(PW)));
    let dir = project(&inv, BECOME_BOOK, &[]);
    let out = run(dir.path(), &[]);
    assert_eq!(out.code, 0, "{}", both(&out));
    assert!(out.stdout.contains(&want), "want {want:?}\n{}", out.stdout);
    assert!(!both(&out).contains(PW), "the password never shows");

    // Given on the command line (JSON so the hostile characters survive).
    let dir = project(&base, BECOME_BOOK, &[]);
    let ev = serde_json::json!({ "ansible_become_password": PW }).to_string();
    let out = run(dir.path(), &["-e", &ev]);
    assert_eq!(out.code, 0, "{}", both(&out));
    assert!(out.stdout.contains(&want), "want {want:?}\n{}", out.stdout);
    assert!(!both(&out).contains(PW), "the password never shows");
    assert!(!Path::new("/tmp/pwned").exists(), "the password was run as shell");
}

#[test]
fn become_with_a_wrong_sudo_password_fails_the_host_quickly_without_echoing_it() {
    let hosts = become_host();
    let wrong = "wrong-Pa55-word";
    let inv = host_var(&hosts.inventory(&[]), "n1", &format!("ansible_user: {PW_USER}"));
    let inv = host_var(&inv, "n1", &format!("ansible_become_password: {wrong}"));
    let book = "- hosts: nodes\n  gather_facts: false\n  tasks:\n    - command: id -u\n      become: true\n";
    let dir = project(&inv, book, &[]);
    let start = Instant::now();
    let out = run(dir.path(), &[]);
    let took = start.elapsed();
    assert_eq!(out.code, 2, "a become failure fails the host\n{}", both(&out));
    assert!(took < Duration::from_secs(15), "took {took:?}\n{}", both(&out));
    let fatal = out
        .stdout
        .lines()
        .find(|l| l.contains("fatal: [n1]"))
        .unwrap_or_else(|| panic!("{}", both(&out)));
    assert!(fatal.to_lowercase().contains("password"), "{fatal}");
    assert!(!both(&out).contains(wrong), "the password never shows\n{}", both(&out));
}

// ---------------------------------------------------------------- 5. check and diff mode

fn check_book(root: &Path) -> String {
    jinja(&format!(
        r#"
- hosts: nodes
  gather_facts: false
  tasks:
    - copy: content="brand new line\n" dest={r}/copied
    - file: path={r}/dir state=directory
    - file: path={r}/touched state=touch
    - lineinfile: path={r}/lines line="added by lineinfile" create=yes
"#,
        r = root.display()
    ))
}

#[test]
fn check_mode_reports_changes_and_writes_nothing() {
    let hosts = SshHosts::start(&["n1"]);
    let root = tempfile::tempdir().expect("tempdir");
    let dir = project(&hosts.inventory(&[]), &check_book(root.path()), &[]);
    let out = run(dir.path(), &["-C"]);
    assert_eq!(out.code, 0, "{}", both(&out));
    assert!(recap_line(&out.stdout, "n1").contains("changed=4"), "{}", out.stdout);
    let left: Vec<_> = std::fs::read_dir(root.path()).expect("read_dir").collect();
    assert!(left.is_empty(), "check mode wrote {left:?}");
}

#[test]
fn diff_mode_prints_the_new_content_in_the_human_output() {
    let hosts = SshHosts::start(&["n1"]);
    let root = tempfile::tempdir().expect("tempdir");
    let dir = project(&hosts.inventory(&[]), &check_book(root.path()), &[]);
    let out = run(dir.path(), &["-C", "--diff"]);
    assert_eq!(out.code, 0, "{}", both(&out));
    assert!(out.stdout.contains("+brand new line"), "copy's diff\n{}", out.stdout);
    assert!(
        out.stdout.contains("+added by lineinfile"),
        "lineinfile's diff\n{}",
        out.stdout
    );
    assert!(std::fs::read_dir(root.path()).expect("read_dir").next().is_none());
}

// ---------------------------------------------------------------- 6. handlers

#[test]
fn handlers_run_once_per_notify_set_listen_to_topics_and_flush_mid_play() {
    let hosts = SshHosts::start(&["n1"]);
    let log = tempfile::tempdir().expect("tempdir");
    let l = log.path().display();
    let book = format!(
        r#"
- hosts: nodes
  gather_facts: false
  tasks:
    - command: 'true'
      notify: restart
    - command: 'true'
      notify: [restart, web changed]
    - meta: flush_handlers
    - name: the handlers already ran
      shell: test "$(cat {l}/restart)" = once && test -f {l}/a && test -f {l}/b
      changed_when: false
    - command: 'true'
      notify: late
    - shell: test ! -e {l}/late
      changed_when: false
  handlers:
    - name: restart
      shell: echo once >> {l}/restart
    - name: a
      shell: touch {l}/a
      listen: web changed
    - name: b
      shell: touch {l}/b
      listen: web changed
    - name: late
      shell: touch {l}/late
"#
    );
    let dir = project(&hosts.inventory(&[]), &book, &[]);
    let out = run(dir.path(), &[]);
    assert_eq!(out.code, 0, "{}", both(&out));
    let restart = std::fs::read_to_string(log.path().join("restart")).expect("restart ran");
    assert_eq!(restart, "once\n", "notified twice, ran once");
    assert!(
        log.path().join("late").exists(),
        "the end-of-play flush ran the late handler"
    );
    assert_eq!(
        out.stdout.matches("RUNNING HANDLER [restart]").count(),
        1,
        "{}",
        out.stdout
    );
}

fn failing_host_book(log: &Path) -> String {
    jinja(&format!(
        r#"
- hosts: nodes
  gather_facts: false
  tasks:
    - command: 'true'
      notify: mark
    - fail: msg=boom
      when: inventory_hostname == 'n1'
  handlers:
    - name: mark
      shell: touch {l}/[[ inventory_hostname ]]
"#,
        l = log.display()
    ))
}

#[test]
fn a_failed_host_runs_its_handlers_only_with_force_handlers() {
    let hosts = SshHosts::start(&["n1", "n2"]);
    let log = tempfile::tempdir().expect("tempdir");
    let dir = project(&hosts.inventory(&[]), &failing_host_book(log.path()), &[]);
    let out = run(dir.path(), &[]);
    assert_eq!(out.code, 2, "{}", both(&out));
    assert!(log.path().join("n2").exists(), "the healthy host ran its handler");
    assert!(!log.path().join("n1").exists(), "the failed host did not");

    let log = tempfile::tempdir().expect("tempdir");
    let dir = project(&hosts.inventory(&[]), &failing_host_book(log.path()), &[]);
    let out = run(dir.path(), &["--force-handlers"]);
    assert_eq!(out.code, 2, "{}", both(&out));
    assert!(
        log.path().join("n1").exists(),
        "--force-handlers runs them on the failed host"
    );
    assert!(log.path().join("n2").exists());
}

// ---------------------------------------------------------------- 7. failure rules

#[test]
fn max_fail_percentage_zero_stops_before_the_next_batch() {
    let hosts = SshHosts::start(&["n1", "n2", "n3", "n4"]);
    let mark = tempfile::tempdir().expect("tempdir");
    let book = jinja(&format!(
        r#"
- hosts: nodes
  serial: 2
  max_fail_percentage: 0
  gather_facts: false
  tasks:
    - command: test [[ inventory_hostname ]] != n1
    - shell: touch {m}/[[ inventory_hostname ]]
"#,
        m = mark.path().display()
    ));
    let dir = project(&hosts.inventory(&[]), &book, &[]);
    let out = run(dir.path(), &[]);
    assert_eq!(out.code, 2, "{}", both(&out));
    for h in ["n1", "n2", "n3", "n4"] {
        assert!(
            !mark.path().join(h).exists(),
            "{h} went on after the batch failed\n{}",
            out.stdout
        );
    }
    assert!(!out.stdout.contains("[n3]"), "batch 2 never started\n{}", out.stdout);
}

#[test]
fn any_errors_fatal_stops_every_host_of_the_batch() {
    let hosts = SshHosts::start(&["n1", "n2", "n3"]);
    let mark = tempfile::tempdir().expect("tempdir");
    let book = jinja(&format!(
        r#"
- hosts: nodes
  any_errors_fatal: true
  gather_facts: false
  tasks:
    - command: test [[ inventory_hostname ]] != n2
    - shell: touch {m}/[[ inventory_hostname ]]
"#,
        m = mark.path().display()
    ));
    let dir = project(&hosts.inventory(&[]), &book, &[]);
    let out = run(dir.path(), &[]);
    assert_eq!(out.code, 2, "{}", both(&out));
    for h in ["n1", "n2", "n3"] {
        assert!(
            !mark.path().join(h).exists(),
            "{h} went on after a fatal error\n{}",
            out.stdout
        );
    }
}

// ---------------------------------------------------------------- 8. delegate_to, run_once

/// The sshd port a command ran behind: the last field of `$SSH_CONNECTION`.
fn port_in(file: &Path) -> u16 {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    text.split_whitespace()
        .last()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {text:?}"))
}

#[test]
fn delegate_to_runs_on_the_other_host_with_this_hosts_variables() {
    let hosts = SshHosts::start(&["n1", "n2"]);
    let out_dir = tempfile::tempdir().expect("tempdir");
    let book = jinja(&format!(
        r#"
- hosts: n1
  gather_facts: false
  tasks:
    - shell: echo $SSH_CONNECTION > {o}/[[ inventory_hostname ]]-here
    - shell: echo $SSH_CONNECTION > {o}/[[ inventory_hostname ]]-delegated
      delegate_to: n2
"#,
        o = out_dir.path().display()
    ));
    let dir = project(&hosts.inventory(&[]), &book, &[]);
    let out = run(dir.path(), &[]);
    assert_eq!(out.code, 0, "{}", both(&out));
    assert_eq!(port_in(&out_dir.path().join("n1-here")), hosts.hosts[0].port);
    // Named after n1 (its variables) but run behind n2's sshd.
    assert_eq!(port_in(&out_dir.path().join("n1-delegated")), hosts.hosts[1].port);
    assert!(out.stdout.contains("[n1 -> n2]"), "{}", out.stdout);
}

#[test]
fn run_once_runs_on_one_host_and_every_host_sees_its_result() {
    let hosts = SshHosts::start(&["n1", "n2", "n3"]);
    let out_dir = tempfile::tempdir().expect("tempdir");
    let book = jinja(&format!(
        r#"
- hosts: nodes
  gather_facts: false
  tasks:
    - shell: echo $SSH_CONNECTION >> {o}/once; echo from-[[ inventory_hostname ]]
      run_once: true
      register: once
    - copy: content="[[ once.stdout ]]" dest={o}/seen-[[ inventory_hostname ]]
"#,
        o = out_dir.path().display()
    ));
    let dir = project(&hosts.inventory(&[]), &book, &[]);
    let out = run(dir.path(), &[]);
    assert_eq!(out.code, 0, "{}", both(&out));
    let once = std::fs::read_to_string(out_dir.path().join("once")).expect("ran");
    assert_eq!(once.lines().count(), 1, "ran once: {once:?}");
    for h in ["n1", "n2", "n3"] {
        let seen = std::fs::read_to_string(out_dir.path().join(format!("seen-{h}")))
            .unwrap_or_else(|e| panic!("{h}: {e}\n{}", both(&out)));
        assert_eq!(seen, "from-n1", "{h} sees the first host's result");
    }
}

// ---------------------------------------------------------------- 9. until / retries

#[test]
fn until_retries_until_the_third_attempt_succeeds() {
    let hosts = SshHosts::start(&["n1"]);
    let work = tempfile::tempdir().expect("tempdir");
    let c = work.path().join("counter");
    let book = jinja(&format!(
        r#"
- hosts: nodes
  gather_facts: false
  tasks:
    - name: third time lucky
      shell: n=$(cat {c} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {c}; test $n -ge 3
      register: r
      until: r.rc == 0
      retries: 5
      delay: 0
    - assert:
        that: r.attempts == 3
    - debug: msg="attempts=[[ r.attempts ]]"
"#,
        c = c.display()
    ));
    let dir = project(&hosts.inventory(&[]), &book, &[]);
    let out = run(dir.path(), &[]);
    assert_eq!(out.code, 0, "{}", both(&out));
    assert_eq!(out.stdout.matches("FAILED - RETRYING").count(), 2, "{}", out.stdout);
    assert!(out.stdout.contains("attempts=3"), "{}", out.stdout);
    assert_eq!(std::fs::read_to_string(&c).expect("counter"), "3\n");
}

// ---------------------------------------------------------------- 10. undefined variable

#[test]
fn an_undefined_variable_fails_the_host_naming_it_and_the_task_location() {
    let hosts = SshHosts::start(&["n1", "n2"]);
    let book = "- hosts: nodes\n  gather_facts: false\n  tasks:\n    - debug: msg=start\n    - copy: content=\"{{ no_such_var }}\" dest=/tmp/never-written\n      when: inventory_hostname == 'n1'\n    - debug: msg=after\n";
    let dir = project(&hosts.inventory(&[]), book, &[]);
    let out = run(dir.path(), &[]);
    assert_eq!(out.code, 2, "{}", both(&out));
    let text = both(&out);
    assert!(!text.contains("panicked"), "{text}");
    let fatal = out
        .stdout
        .lines()
        .skip_while(|l| !l.contains("fatal: [n1]"))
        .take(6)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(fatal.contains("no_such_var"), "the variable is named\n{text}");
    assert!(fatal.contains("site.yml:5:"), "the task's file:line is named\n{text}");
    assert!(recap_line(&out.stdout, "n2").contains("failed=0"), "{text}");
    assert!(recap_line(&out.stdout, "n1").contains("failed=1"), "{text}");
}
