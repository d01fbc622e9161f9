//! Secrets never leak: `no_log` hides values in every output path (human, `-vvvv`, JSON
//! events, diffs, check mode, loops, failures, handlers, `set_stats`, the journal, `play runs`,
//! the retry file); become and vault passwords reach no output and no process's argument
//! list; tampered or wrongly unlocked vault data is an integrity error before anything runs.
//! Everything runs through the binary against real sshd hosts on 127.0.0.1.

#[path = "support/become_users.rs"]
mod become_users;
#[path = "support/sshd_hosts.rs"]
mod sshd_hosts;
mod support;

use become_users::{PW, PW_USER};
use sshd_hosts::SshHosts;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use support::{Outcome, write_tree};

/// A plain secret the playbook hides with `no_log`.
const PLAIN: &str = "sec-NOLOG-m2x8";
/// The plaintext of `VAULTED_VARS` (password `VAULT_PW`), written by ansible-vault 2.19.
const VAULTED: &str = "sec-VAULTED-k4j9";
const VAULT_PW: &str = "sec-vault-pw-Q7";
const VAULTED_VARS: &str = "sec_vaulted: !vault |
          $ANSIBLE_VAULT;1.1;AES256
          37666430353231666361623765303466343638646430323265326362633764613062386136646433
          3639626266353731366663393262646163373838316161350a313632373537313132396539663737
          63366130353231306336366663666135343935376636393466316239633033366133343739373966
          6632663661326561640a343432623930643335303637643036663963356235326632383466653832
          36313033626237303933653536636266616132346364303363343432336564373438
";
/// A whole file `sec_whole: sec-WHOLE-p5r1`, encrypted with `VAULT_PW` by ansible-vault.
const WHOLE: &str = "sec-WHOLE-p5r1";
const WHOLE_FILE: &str = "$ANSIBLE_VAULT;1.1;AES256
63303533373537383365356636623835343761323666316463373033616561313361386331316233
3933366133363032623165333665636434396563373233350a353237323037633139663836633464
32666637316238366163353963376539373463663439383033353764316337386162616166656265
3533396264326539310a633339363134383836373932646638356661383436646261633732386663
31363839626366616130623531373035356631323666646562306533333830396262
";
const CENSORED: &str = "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

/// Run the binary in `dir` with a clean environment, optional standard input.
fn play_in(dir: &Path, args: &[&str], stdin: Option<&str>) -> Outcome {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_play"));
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", "/nonexistent-home")
        .env("NO_COLOR", "1")
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the play binary runs");
    if let (Some(text), Some(mut i)) = (stdin, child.stdin.take()) {
        let _ = i.write_all(text.as_bytes());
    }
    let out = child.wait_with_output().expect("the play binary ends");
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn both(o: &Outcome) -> String {
    format!("--- stdout\n{}\n--- stderr\n{}", o.stdout, o.stderr)
}

/// Templates in playbooks written with `format!` need `{{{{`; this keeps them readable.
fn jinja(s: &str) -> String {
    s.replace("[[", "{{").replace("]]", "}}")
}

/// Every file under `dir` (recursively) except the inputs named in `skip`.
fn files_under(dir: &Path, skip: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if !(d == dir && skip.iter().any(|s| p.file_name().is_some_and(|n| n == *s))) {
                out.push(p);
            }
        }
    }
    out
}

/// Fail naming where a secret showed up.
fn assert_hidden(what: &str, text: &str, secrets: &[&str]) {
    for s in secrets {
        if let Some(at) = text.find(s) {
            let from = text[..at].rfind('\n').map_or(0, |i| i + 1);
            let to = text[at..].find('\n').map_or(text.len(), |i| at + i);
            panic!("{s:?} leaked in {what}: {:?}\n--- all of it:\n{text}", &text[from..to]);
        }
    }
}

// ------------------------------------------------------------------ no_log everywhere

const INPUTS: &[&str] = &["hosts.yml", "site.yml", "secret_vars.yml", "ansible.cfg", "vault.pw"];

/// Every way a task can show a value, each under `no_log`, with the plain secret and the
/// vaulted one (alone and inside larger strings). n2 fails at the end, so the run writes a
/// retry file and the resume hint, and `--force-handlers` runs the handler for both.
fn no_log_book(out: &Path) -> String {
    jinja(&format!(
        r#"
- hosts: nodes
  gather_facts: false
  vars_files: [secret_vars.yml]
  handlers:
    - name: secret handler
      shell: echo "[[ sec_plain ]] [[ sec_vaulted ]]" > {o}/handler-[[ inventory_hostname ]]; echo "[[ sec_plain ]]"
      no_log: true
  tasks:
    - name: plain command
      command: echo [[ sec_plain ]] user:[[ sec_vaulted ]]
      register: reg
      changed_when: true
      notify: secret handler
      no_log: true
    - name: loop over secrets
      command: echo [[ item ]]
      loop: ["[[ sec_plain ]]", "user:[[ sec_vaulted ]]", "[[ sec_vaulted ]]"]
      register: looped
      no_log: true
    - name: a file with a diff
      copy:
        content: "[[ sec_plain ]] user:[[ sec_vaulted ]]\n"
        dest: "{o}/file-[[ inventory_hostname ]]"
      no_log: true
    - name: stats
      set_stats:
        data:
          creds: "[[ sec_plain ]]"
          undo: "[[ {{'sec ' ~ inventory_hostname: 'revoke ' ~ sec_plain ~ ' ' ~ sec_vaulted}} ]]"
      no_log: true
    - name: an ignored failure
      shell: echo [[ sec_plain ]] user:[[ sec_vaulted ]]; echo [[ sec_plain ]] >&2; exit 3
      no_log: true
      ignore_errors: true
    - name: a failing loop
      shell: echo [[ item ]]; exit 3
      loop: ["[[ sec_plain ]]", "[[ sec_vaulted ]]"]
      no_log: true
      ignore_errors: true
    - name: failed_when
      command: echo [[ sec_plain ]]
      failed_when: true
      no_log: true
      ignore_errors: true
    - name: assert
      assert:
        that: sec_plain == 'x'
        fail_msg: "bad [[ sec_plain ]] [[ sec_vaulted ]]"
      no_log: true
      ignore_errors: true
    - name: an undefined variable next to secrets
      debug:
        msg: "[[ sec_plain ]] [[ sec_vaulted ]] [[ not_defined_anywhere ]]"
      no_log: true
      ignore_errors: true
    - name: until retries
      shell: echo [[ sec_plain ]]; exit 1
      register: tries
      until: tries.rc == 0
      retries: 1
      delay: 0
      no_log: true
      ignore_errors: true
    - name: debug of a registered secret
      debug: var=reg
      no_log: true
    - name: debug message
      debug:
        msg: "[[ sec_plain ]] user:[[ sec_vaulted ]]"
      no_log: true
    - name: set_fact
      set_fact:
        derived: "[[ sec_plain ]]-[[ sec_vaulted ]]"
      no_log: true
    - name: the last one fails on n2
      fail:
        msg: "[[ sec_plain ]] [[ sec_vaulted ]]"
      when: inventory_hostname == 'n2'
      no_log: true
"#,
        o = out.display()
    ))
}

#[test]
fn no_log_hides_secrets_in_every_output_path_and_file_the_engine_writes() {
    let hosts = SshHosts::start(&["n1", "n2"]);
    let out = tempfile::tempdir().expect("tempdir");
    let vars = format!("sec_plain: {PLAIN}\n{VAULTED_VARS}");
    let cfg = "[defaults]\nretry_files_enabled = True\n";
    let dir = tempfile::tempdir().expect("tempdir");
    let book = no_log_book(out.path());
    write_tree(
        dir.path(),
        &[
            ("hosts.yml", &hosts.inventory(&[])),
            ("site.yml", &book),
            ("secret_vars.yml", &vars),
            ("ansible.cfg", cfg),
            ("vault.pw", VAULT_PW),
        ],
    );
    let secrets = [PLAIN, VAULTED];
    let base = ["site.yml", "-i", "hosts.yml", "--vault-password-file", "vault.pw"];
    let runs: &[(&str, &[&str], i32)] = &[
        ("human -vvvv --diff", &["-vvvv", "--diff", "--force-handlers"], 2),
        ("--output json", &["--output", "json", "--diff", "--force-handlers"], 2),
        ("--check --diff", &["--check", "--diff", "-v", "--force-handlers"], 2),
        ("--start-at-task", &["--start-at-task", "loop over secrets", "-vvv"], 2),
    ];
    for (what, more, code) in runs {
        let mut args = base.to_vec();
        args.extend_from_slice(more);
        let o = play_in(dir.path(), &args, None);
        assert_eq!(o.code, *code, "{what}\n{}", both(&o));
        assert_hidden(what, &both(&o), &secrets);
        // The values were really there: the tasks ran and hid them.
        assert!(
            o.stdout.contains(CENSORED) || o.stdout.contains("VALUE_SPECIFIED_IN_NO_LOG"),
            "{what}\n{}",
            both(&o)
        );
    }
    // The hidden values were used: the file and the handler's output on the hosts hold them.
    for h in ["n1", "n2"] {
        let file = std::fs::read_to_string(out.path().join(format!("file-{h}"))).unwrap_or_default();
        assert_eq!(file, format!("{PLAIN} user:{VAULTED}\n"), "file-{h}");
        let handler = std::fs::read_to_string(out.path().join(format!("handler-{h}"))).unwrap_or_default();
        assert_eq!(handler.trim(), format!("{PLAIN} {VAULTED}"), "handler-{h}");
    }
    for args in [&["runs", "site.yml"][..], &["runs", "site.yml", "latest"][..]] {
        let o = play_in(dir.path(), args, None);
        assert_eq!(o.code, 0, "play {args:?}\n{}", both(&o));
        assert_hidden(&format!("play {args:?}"), &both(&o), &secrets);
    }
    let written = files_under(dir.path(), INPUTS);
    assert!(
        written.iter().any(|p| p.ends_with("site.retry"))
            && written.iter().any(|p| p.extension().is_some_and(|e| e == "jsonl")),
        "the runs wrote a retry file and journals: {written:?}"
    );
    for f in written {
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap_or_default()).into_owned();
        assert_hidden(&f.display().to_string(), &text, &secrets);
    }
}

#[test]
fn a_registered_no_log_result_keeps_its_value_for_later_tasks_as_in_ansible() {
    // Ansible: `no_log` hides what the task prints; the registered variable still holds the
    // value, so later tasks can use it (a join token, a generated password).
    let hosts = SshHosts::start(&["n1"]);
    let out = tempfile::tempdir().expect("tempdir");
    let book = jinja(&format!(
        r#"
- hosts: nodes
  gather_facts: false
  tasks:
    - command: echo {PLAIN}
      register: token
      no_log: true
    - debug: var=token
      no_log: true
    - copy:
        content: "[[ token.stdout ]]"
        dest: "{o}/token"
      no_log: true
"#,
        o = out.path().display()
    ));
    let dir = tempfile::tempdir().expect("tempdir");
    write_tree(dir.path(), &[("hosts.yml", &hosts.inventory(&[])), ("site.yml", &book)]);
    let o = play_in(dir.path(), &["site.yml", "-i", "hosts.yml", "-v"], None);
    assert_eq!(o.code, 0, "{}", both(&o));
    assert_hidden("output", &both(&o), &[PLAIN]);
    let token = std::fs::read_to_string(out.path().join("token")).unwrap_or_default();
    assert_eq!(token, PLAIN, "the registered value reached the later task");
    for f in files_under(dir.path(), &["hosts.yml", "site.yml"]) {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        assert_hidden(&f.display().to_string(), &text, &[PLAIN]);
    }
}
