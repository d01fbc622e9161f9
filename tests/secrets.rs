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

use become_users::{NOPW_PW, NOPW_USER, PW, PW_USER};
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
    - name: include with no_log
      include_tasks: secret_tasks.yml
      no_log: true
    - name: include a role with no_log
      include_role:
        name: sec_role
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

/// Tasks an include brings in: `no_log` on the include hides them too.
const INCLUDED: &str = "- command: echo included {{ sec_plain }} {{ sec_vaulted }}\n\
                        - debug:\n    msg: \"{{ sec_plain }} {{ sec_vaulted }}\"\n";

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
            ("secret_tasks.yml", INCLUDED),
            ("roles/sec_role/tasks/main.yml", INCLUDED),
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

    // A later task WITHOUT no_log that prints the variable shows it, as ansible-playbook
    // 2.19 does: no_log is per task, and printing a secret is then the playbook's choice.
    let shown = format!("{book}    - debug: var=token.stdout\n");
    write_tree(dir.path(), &[("site.yml", &shown)]);
    let o = play_in(dir.path(), &["site.yml", "-i", "hosts.yml"], None);
    assert_eq!(o.code, 0, "{}", both(&o));
    assert!(
        o.stdout.contains(&format!("\"token.stdout\": \"{PLAIN}\"")),
        "{}",
        both(&o)
    );
}

// ------------------------------------------------------------------ passwords

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

/// Add `line` to `host`'s entry under `all.hosts`.
fn host_var(inventory: &str, host: &str, line: &str) -> String {
    let entry = format!("\n    {host}:\n");
    assert!(inventory.contains(&entry), "{host} in\n{inventory}");
    inventory.replacen(&entry, &format!("{entry}      {line}\n"), 1)
}

/// What a scan of every process on the machine found: argument lists (and environments)
/// holding a password, and whether the marker command was ever seen running.
#[derive(Default)]
struct ProcScan {
    leaks: Vec<String>,
    saw_marker: bool,
    scans: usize,
}

/// Other spellings of the passwords a log line could hold: the pieces of the become password
/// between its quote characters (a quoted or JSON-escaped copy still holds them) and both
/// passwords as a debug-printed byte list.
fn password_forms() -> Vec<String> {
    let mut out: Vec<String> = PW
        .split(['\'', '"', '\\'])
        .filter(|p| p.trim().len() >= 6)
        .map(str::to_string)
        .collect();
    for pw in [PW, VAULT_PW] {
        let bytes: Vec<String> = pw.bytes().map(|b| b.to_string()).collect();
        out.push(bytes.join(", "));
    }
    out
}

/// Read `/proc/*/cmdline` and `/proc/*/environ` of every process until `stop`.
fn scan_processes(stop: Arc<AtomicBool>, secrets: Vec<String>, marker: String) -> ProcScan {
    let mut found = ProcScan::default();
    let me = std::process::id().to_string();
    while !stop.load(Ordering::Relaxed) {
        let Ok(procs) = std::fs::read_dir("/proc") else { break };
        for p in procs.flatten() {
            let pid = p.file_name().to_string_lossy().into_owned();
            if !pid.bytes().all(|b| b.is_ascii_digit()) || pid == me {
                continue;
            }
            for what in ["cmdline", "environ"] {
                let Ok(bytes) = std::fs::read(p.path().join(what)) else {
                    continue;
                };
                let text = String::from_utf8_lossy(&bytes).replace('\0', " ");
                if what == "cmdline" && text.contains(&marker) {
                    found.saw_marker = true;
                }
                for s in &secrets {
                    if text.contains(s.as_str()) {
                        found.leaks.push(format!("pid {pid} {what}: {text}"));
                    }
                }
            }
        }
        found.scans += 1;
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    found
}

#[test]
fn become_and_vault_passwords_reach_no_output_journal_or_process_argument_list() {
    let hosts = become_host();
    let inv = host_var(&hosts.inventory(&[]), "n1", &format!("ansible_user: {PW_USER}"));
    // Long enough for the scanner to see the escalated command running.
    let marker = "sleep 4.25";
    let book = jinja(&format!(
        r#"
- hosts: nodes
  gather_facts: false
  vars_files: [secret_vars.yml]
  tasks:
    - command: {marker}
      become: true
    - command: id -u
      become: true
      register: root
    - command: id -un
      become: true
      become_method: su
      become_user: {NOPW_USER}
      vars:
        ansible_become_password: "[[ lookup('file', 'su.pw') ]]"
      register: su_user
    - debug:
        msg: "uid [[ root.stdout ]] su [[ su_user.stdout ]] vault [[ sec_vaulted | length ]]"
"#
    ));
    let dir = tempfile::tempdir().expect("tempdir");
    write_tree(
        dir.path(),
        &[
            ("hosts.yml", &inv),
            ("site.yml", &book),
            ("su.pw", NOPW_PW),
            ("secret_vars.yml", VAULTED_VARS),
            ("become.pw", &format!("{PW}\n")),
            ("vault.pw", VAULT_PW),
        ],
    );
    let mut passwords = vec![PW.to_string(), VAULT_PW.to_string(), NOPW_PW.to_string()];
    passwords.extend(password_forms());
    passwords.push("su-target".to_string());
    let stop = Arc::new(AtomicBool::new(false));
    let scanner = {
        let (stop, passwords, marker) = (stop.clone(), passwords.clone(), marker.to_string());
        std::thread::spawn(move || scan_processes(stop, passwords, marker))
    };
    let args = [
        "site.yml",
        "-i",
        "hosts.yml",
        "--become-password-file",
        "become.pw",
        "--vault-password-file",
        "vault.pw",
        "-vvvv",
    ];
    let o = play_in(dir.path(), &args, None);
    stop.store(true, Ordering::Relaxed);
    let scan = scanner.join().expect("the scanner ends");
    assert_eq!(o.code, 0, "{}", both(&o));
    let want = format!("uid 0 su {NOPW_USER} vault {}", VAULTED.len());
    assert!(o.stdout.contains(&want), "want {want:?}\n{}", both(&o));
    assert!(
        scan.saw_marker,
        "the scan ({} passes) never saw `{marker}` running",
        scan.scans
    );
    assert!(
        scan.leaks.is_empty(),
        "passwords in process lists:\n{}",
        scan.leaks.join("\n")
    );
    let pws: Vec<&str> = passwords.iter().map(String::as_str).collect();
    assert_hidden("-vvvv output", &both(&o), &pws);
    for f in files_under(dir.path(), &["become.pw", "vault.pw", "su.pw"]) {
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap_or_default()).into_owned();
        assert_hidden(&f.display().to_string(), &text, &pws);
    }
    // Nor in what the host's sshd logged.
    for f in files_under(hosts.dir.path(), &[]) {
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap_or_default()).into_owned();
        assert_hidden(&f.display().to_string(), &text, &pws);
    }
    assert!(!Path::new("/tmp/pwned").exists(), "the password was run as shell");

    // A password given with -e is not repeated in the resume hint of a failed run. Not the
    // become password: the process scans of other tests may run now and would see it in
    // this run's argument list, which the user wrote.
    let hint_pw = "sec-hint 'Pw' \"$(x)\" ;|&";
    write_tree(
        dir.path(),
        &[(
            "site.yml",
            "- hosts: nodes\n  gather_facts: false\n  tasks:\n    - fail: msg=stop\n",
        )],
    );
    let ev = serde_json::json!({ "ansible_become_password": hint_pw }).to_string();
    let o = play_in(dir.path(), &["site.yml", "-i", "hosts.yml", "-e", &ev], None);
    assert_eq!(o.code, 2, "{}", both(&o));
    assert!(o.stderr.contains("--resume"), "the hint is there: {}", both(&o));
    let pws = [hint_pw, "sec-hint"];
    assert_hidden("a failed run's output", &both(&o), &pws);
    for f in files_under(dir.path(), &["become.pw", "vault.pw", "su.pw"]) {
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap_or_default()).into_owned();
        assert_hidden(&f.display().to_string(), &text, &pws);
    }
}

// ------------------------------------------------------------------ vault integrity

/// Decode a vault body (the hex lines after the header) into its salt, HMAC and ciphertext
/// hex parts, let `edit` change them, and encode it back.
fn edit_vault_body(text: &str, edit: impl Fn(&mut [String; 3])) -> String {
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default().to_string();
    let indent: String = lines
        .clone()
        .next()
        .unwrap_or_default()
        .chars()
        .take_while(|c| *c == ' ')
        .collect();
    let body: String = lines.map(str::trim).collect();
    let inner = String::from_utf8(hex::decode(body).expect("vault body is hex")).expect("inner hex");
    let mut parts: Vec<String> = inner.split('\n').map(str::to_string).collect();
    assert_eq!(parts.len(), 3, "salt, hmac, ciphertext");
    let mut three = [parts.remove(0), parts.remove(0), parts.remove(0)];
    edit(&mut three);
    let encoded = hex::encode(three.join("\n"));
    let mut out = header;
    for chunk in encoded.as_bytes().chunks(80) {
        out.push('\n');
        out.push_str(&indent);
        out.push_str(&String::from_utf8_lossy(chunk));
    }
    out.push('\n');
    out
}

/// Change the hex digit at `at` to another hex digit.
fn flip(part: &mut String, at: usize) {
    let mut b = part.clone().into_bytes();
    if let Some(c) = b.get_mut(at) {
        *c = if *c == b'0' { b'1' } else { b'0' };
    }
    *part = String::from_utf8_lossy(&b).into_owned();
}

#[test]
fn tampered_or_wrongly_unlocked_vault_data_is_an_integrity_error_and_nothing_runs() {
    let hosts = SshHosts::start(&["n1"]);
    let mark = tempfile::tempdir().expect("tempdir");
    let inline_body = VAULTED_VARS.trim_start_matches("sec_vaulted: !vault |\n");
    let inline = |body: &str| format!("sec_vaulted: !vault |\n{body}");
    let header = "$ANSIBLE_VAULT;1.1;AES256";
    // (what, vars file text, vault password, where the error must point)
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "wrong password",
            VAULTED_VARS.to_string(),
            "not-the-password",
            "secret_vars.yml:2:11",
        ),
        (
            "a ciphertext byte changed",
            inline(&format!(
                "          {}",
                edit_vault_body(inline_body.trim_start(), |p| flip(&mut p[2], 5)).trim_start()
            )),
            VAULT_PW,
            "secret_vars.yml:2:11",
        ),
        (
            "a wrong HMAC",
            inline(&format!(
                "          {}",
                edit_vault_body(inline_body.trim_start(), |p| flip(&mut p[1], 0)).trim_start()
            )),
            VAULT_PW,
            "secret_vars.yml:2:11",
        ),
        (
            "a changed salt",
            inline(&format!(
                "          {}",
                edit_vault_body(inline_body.trim_start(), |p| flip(&mut p[0], 7)).trim_start()
            )),
            VAULT_PW,
            "secret_vars.yml:2:11",
        ),
        (
            "truncated",
            inline(
                &inline_body
                    .lines()
                    .take(3)
                    .map(|l| format!("{l}\n"))
                    .collect::<String>(),
            ),
            VAULT_PW,
            "secret_vars.yml:2:11",
        ),
        (
            "a bad header",
            VAULTED_VARS.replace(header, "$ANSIBLE_VAULT;1.1;AES128"),
            VAULT_PW,
            "secret_vars.yml:2:11",
        ),
        (
            "not hex",
            VAULTED_VARS.replacen("3766", "37zz", 1),
            VAULT_PW,
            "secret_vars.yml:2:11",
        ),
        (
            "a whole file, wrong password",
            WHOLE_FILE.to_string(),
            "not-the-password",
            "secret_vars.yml:1:1",
        ),
        (
            "a whole file, a ciphertext byte changed",
            edit_vault_body(WHOLE_FILE, |p| flip(&mut p[2], 3)),
            VAULT_PW,
            "secret_vars.yml:1:1",
        ),
        (
            "a whole file, truncated",
            WHOLE_FILE.lines().take(3).map(|l| format!("{l}\n")).collect(),
            VAULT_PW,
            "secret_vars.yml:1:1",
        ),
    ];
    let book = jinja(&format!(
        "- hosts: nodes\n  gather_facts: false\n  vars_files: [secret_vars.yml]\n  tasks:\n    - file: path={}/ran state=touch\n",
        mark.path().display()
    ));
    // The untampered data works, so each failure below is the tampering's doing.
    for vars in [VAULTED_VARS, WHOLE_FILE] {
        let dir = tempfile::tempdir().expect("tempdir");
        write_tree(
            dir.path(),
            &[
                ("hosts.yml", &hosts.inventory(&[])),
                ("site.yml", &book),
                ("secret_vars.yml", vars),
                ("vault.pw", VAULT_PW),
            ],
        );
        let o = play_in(
            dir.path(),
            &["site.yml", "-i", "hosts.yml", "--vault-password-file", "vault.pw"],
            None,
        );
        assert_eq!(o.code, 0, "untampered\n{}", both(&o));
        assert!(mark.path().join("ran").exists());
        let _ = std::fs::remove_file(mark.path().join("ran"));
    }
    for (what, vars, pw, at) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        write_tree(
            dir.path(),
            &[
                ("hosts.yml", &hosts.inventory(&[])),
                ("site.yml", &book),
                ("secret_vars.yml", &vars),
                ("vault.pw", pw),
            ],
        );
        let o = play_in(
            dir.path(),
            &["site.yml", "-i", "hosts.yml", "--vault-password-file", "vault.pw"],
            None,
        );
        let all = both(&o);
        // Exit 1, as ansible-playbook exits on a vault file it cannot decrypt.
        assert_eq!(o.code, 1, "{what}\n{all}");
        assert!(
            o.stderr.contains(&format!("ERROR! {at}: ")),
            "{what}: must point at {at}\n{all}"
        );
        let lower = o.stderr.to_lowercase();
        assert!(lower.contains("vault"), "{what}: says it is about vault data\n{all}");
        assert!(lower.contains("help:"), "{what}: says what to do\n{all}");
        assert!(
            lower.contains("password") || lower.contains("re-encrypt") || lower.contains("restore"),
            "{what}: names the remedy\n{all}"
        );
        assert_hidden(what, &all, &[VAULTED, WHOLE, VAULT_PW]);
        assert!(!o.stdout.contains("PLAY ["), "{what}: nothing starts\n{all}");
        assert!(!mark.path().join("ran").exists(), "{what}: a task ran");
        assert!(
            !dir.path().join(".play").exists(),
            "{what}: no run started (no journal)"
        );
    }
}

/// `sec_vaulted: !vault |` with its key indented by `indent`; `tampered` changes one
/// ciphertext byte.
fn vault_entry(indent: usize, tampered: bool) -> String {
    let body = VAULTED_VARS.trim_start_matches("sec_vaulted: !vault |\n").trim_start();
    let body = if tampered {
        edit_vault_body(body, |p| flip(&mut p[2], 5))
    } else {
        body.to_string()
    };
    let pad = " ".repeat(indent);
    let mut out = format!("{pad}sec_vaulted: !vault |\n");
    for line in body.lines() {
        out.push_str(&format!("{pad}  {}\n", line.trim()));
    }
    out
}

/// The files that hold a vaulted value, given whether it is tampered with.
type Files<'a> = dyn Fn(bool) -> Vec<(String, String)> + 'a;

#[test]
fn inline_vault_values_in_inventory_play_and_role_vars_open_and_are_checked_before_anything_runs() {
    let hosts = SshHosts::start(&["n1"]);
    let mark = tempfile::tempdir().expect("tempdir");
    let book = format!(
        "- hosts: nodes\n  gather_facts: false\n  tasks:\n    - file: path={}/ran state=touch\n    \
         - debug:\n        msg: \"length {{{{ sec_vaulted | length }}}}\"\n",
        mark.path().display()
    );
    let inventory = hosts.inventory(&[]);
    // (where, files holding the value given the entry at indent 0 / the host's indent)
    let places: &[(&str, &Files)] = &[
        ("group_vars/nodes.yml", &|t| {
            vec![("group_vars/nodes.yml".into(), vault_entry(0, t))]
        }),
        ("host_vars/n1.yml", &|t| {
            vec![("host_vars/n1.yml".into(), vault_entry(0, t))]
        }),
        ("hosts.yml", &|t| {
            let entry = "\n    n1:\n";
            let with = inventory.replacen(entry, &format!("{entry}{}", vault_entry(6, t)), 1);
            vec![("hosts.yml".into(), with)]
        }),
        // The play's own `vars:` (the play is rewritten with them).
        ("site.yml", &|t| {
            let with = book.replacen("  tasks:\n", &format!("  vars:\n{}  tasks:\n", vault_entry(4, t)), 1);
            vec![("site.yml".into(), with)]
        }),
        // A role's defaults (the play runs the role, whose tasks are the play's).
        ("roles/sec_role/defaults/main.yml", &|t| {
            let (head, tasks) = book.split_once("  tasks:\n").unwrap_or_default();
            let tasks: String = tasks
                .lines()
                .map(|l| format!("{}\n", l.get(4..).unwrap_or(l)))
                .collect();
            vec![
                ("roles/sec_role/defaults/main.yml".into(), vault_entry(0, t)),
                ("roles/sec_role/tasks/main.yml".into(), tasks),
                ("site.yml".into(), format!("{head}  roles: [sec_role]\n")),
            ]
        }),
    ];
    for (place, files) in places {
        for tampered in [false, true] {
            let dir = tempfile::tempdir().expect("tempdir");
            let mut all: Vec<(String, String)> = vec![
                ("hosts.yml".into(), inventory.clone()),
                ("site.yml".into(), book.clone()),
                ("vault.pw".into(), VAULT_PW.into()),
            ];
            all.extend(files(tampered));
            let refs: Vec<(&str, &str)> = all.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            write_tree(dir.path(), &refs);
            let args = ["site.yml", "-i", "hosts.yml", "--vault-password-file", "vault.pw"];
            let o = play_in(dir.path(), &args, None);
            let shown = both(&o);
            assert_hidden(place, &shown, &[VAULTED, VAULT_PW]);
            if !tampered {
                assert_eq!(o.code, 0, "{place}\n{shown}");
                assert!(
                    o.stdout.contains(&format!("length {}", VAULTED.len())),
                    "{place}: the value opened\n{shown}"
                );
                let _ = std::fs::remove_file(mark.path().join("ran"));
                continue;
            }
            assert_eq!(o.code, 1, "{place} tampered\n{shown}");
            assert!(
                o.stderr.contains(&format!("ERROR! {place}:")),
                "{place}: names the file\n{shown}"
            );
            assert!(o.stderr.contains("help:"), "{place}: says what to do\n{shown}");
            assert!(!mark.path().join("ran").exists(), "{place} tampered: a task ran");
        }
    }
}

#[test]
fn include_vars_opens_inline_vault_values_and_fails_the_task_when_they_were_altered() {
    let hosts = SshHosts::start(&["n1"]);
    let book = "- hosts: nodes\n  gather_facts: false\n  tasks:\n    - include_vars: vars/secret.yml\n    \
                - debug:\n        msg: \"length {{ sec_vaulted | length }}\"\n";
    for tampered in [false, true] {
        let dir = tempfile::tempdir().expect("tempdir");
        write_tree(
            dir.path(),
            &[
                ("hosts.yml", &hosts.inventory(&[])),
                ("site.yml", book),
                ("vars/secret.yml", &vault_entry(0, tampered)),
                ("vault.pw", VAULT_PW),
            ],
        );
        let args = ["site.yml", "-i", "hosts.yml", "--vault-password-file", "vault.pw", "-v"];
        let o = play_in(dir.path(), &args, None);
        let shown = both(&o);
        assert_hidden("include_vars", &shown, &[VAULT_PW]);
        if !tampered {
            assert_eq!(o.code, 0, "{shown}");
            assert!(o.stdout.contains(&format!("length {}", VAULTED.len())), "{shown}");
            continue;
        }
        assert_hidden("include_vars, tampered", &shown, &[VAULTED]);
        assert_eq!(o.code, 2, "the task fails\n{shown}");
        let fatal = o
            .stdout
            .lines()
            .find(|l| l.contains("fatal: [n1]"))
            .unwrap_or_else(|| panic!("{shown}"));
        assert!(
            fatal.contains("secret.yml") && fatal.contains("wrong vault password"),
            "{fatal}"
        );
        assert!(!o.stdout.contains("length "), "nothing after it ran\n{shown}");
    }
}

#[test]
fn an_encrypted_inventory_opens_with_the_vault_password_and_is_never_read_as_host_names() {
    let hosts = SshHosts::start(&["n1"]);
    let mark = tempfile::tempdir().expect("tempdir");
    let book = format!(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - shell: echo x >> {}/[[ inventory_hostname ]]\n",
        mark.path().display()
    );
    let sealed =
        play::syntax::vault::encrypt(hosts.inventory(&[]).as_bytes(), VAULT_PW.as_bytes(), None).expect("encrypts");
    let dir = tempfile::tempdir().expect("tempdir");
    write_tree(
        dir.path(),
        &[
            ("hosts.yml", &sealed),
            ("site.yml", &jinja(&book)),
            ("vault.pw", VAULT_PW),
            ("wrong.pw", "not-the-password"),
        ],
    );
    let o = play_in(
        dir.path(),
        &["site.yml", "-i", "hosts.yml", "--vault-password-file", "vault.pw"],
        None,
    );
    assert_eq!(o.code, 0, "{}", both(&o));
    let ran: Vec<String> = files_under(mark.path(), &[])
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    assert_eq!(ran, ["n1"], "only the inventory's host ran\n{}", both(&o));
    for (what, more) in [
        ("no password", &[][..]),
        ("a wrong password", &["--vault-password-file", "wrong.pw"][..]),
    ] {
        let mut args = vec!["site.yml", "-i", "hosts.yml"];
        args.extend_from_slice(more);
        let o = play_in(dir.path(), &args, None);
        assert_eq!(o.code, 1, "{what}\n{}", both(&o));
        assert!(o.stderr.contains("ERROR! hosts.yml:1:1: "), "{what}\n{}", both(&o));
        assert!(!o.stdout.contains("PLAY ["), "{what}: nothing starts\n{}", both(&o));
    }
}

// ------------------------------------------------------------------ passwords typed at prompts

/// Run `play args` on a terminal (util-linux `script` makes the PTY), answering each prompt
/// in `answers` (prompt text, what to type) when it appears; returns the exit code and all
/// the terminal showed.
fn play_on_terminal(dir: &Path, args: &[&str], answers: &[(&str, &str)]) -> (i32, String) {
    use std::io::Read;
    use std::sync::Mutex;
    assert!(
        Path::new("/usr/bin/script").exists(),
        "/usr/bin/script is missing: install bsdutils (apt-get install -y bsdutils)"
    );
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let line: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_play"))
        .chain(args.iter().copied())
        .map(quote)
        .collect();
    let mut child = Command::new("/usr/bin/script")
        .args(["-q", "-e", "-c", &line.join(" "), "/dev/null"])
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", "/nonexistent-home")
        .env("NO_COLOR", "1")
        .env("SHELL", "/bin/sh")
        .env("TERM", "dumb")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script runs");
    let shown = Arc::new(Mutex::new(String::new()));
    let reader = {
        let shown = shown.clone();
        let mut out = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if let Ok(mut s) = shown.lock() {
                    s.push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            }
        })
    };
    let mut stdin = child.stdin.take().expect("stdin");
    let seen = |text: &str| shown.lock().map(|s| s.matches(text).count()).unwrap_or(0);
    for (i, (prompt, answer)) in answers.iter().enumerate() {
        let before = answers[..i].iter().filter(|(p, _)| p == prompt).count();
        let start = std::time::Instant::now();
        while seen(prompt) <= before {
            let so_far = shown.lock().map(|s| s.clone()).unwrap_or_default();
            assert!(
                start.elapsed() < std::time::Duration::from_secs(30),
                "no prompt {prompt:?} within 30 s; the terminal showed:\n{so_far}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = stdin.write_all(format!("{answer}\n").as_bytes());
        let _ = stdin.flush();
    }
    let status = child.wait().expect("script ends");
    drop(stdin);
    let _ = reader.join();
    let text = shown.lock().map(|s| s.clone()).unwrap_or_default();
    (status.code().unwrap_or(-1), text)
}

#[test]
fn become_and_vault_passwords_typed_at_the_prompts_are_not_echoed_or_shown() {
    let hosts = become_host();
    let inv = host_var(&hosts.inventory(&[]), "n1", &format!("ansible_user: {PW_USER}"));
    let marker = "sleep 3.25";
    let book = jinja(&format!(
        r#"
- hosts: nodes
  gather_facts: false
  vars_files: [secret_vars.yml]
  tasks:
    - command: {marker}
      become: true
    - command: id -u
      become: true
      register: root
    - debug:
        msg: "uid [[ root.stdout ]] vault [[ sec_vaulted | length ]]"
"#
    ));
    let dir = tempfile::tempdir().expect("tempdir");
    write_tree(
        dir.path(),
        &[
            ("hosts.yml", &inv),
            ("site.yml", &book),
            ("secret_vars.yml", VAULTED_VARS),
        ],
    );
    let mut passwords = vec![PW.to_string(), VAULT_PW.to_string()];
    passwords.extend(password_forms());
    let stop = Arc::new(AtomicBool::new(false));
    let scanner = {
        let (stop, passwords, marker) = (stop.clone(), passwords.clone(), marker.to_string());
        std::thread::spawn(move || scan_processes(stop, passwords, marker))
    };
    let (code, shown) = play_on_terminal(
        dir.path(),
        &["site.yml", "-i", "hosts.yml", "-K", "--ask-vault-pass", "-vvvv"],
        &[("BECOME password: ", PW), ("Vault password: ", VAULT_PW)],
    );
    stop.store(true, Ordering::Relaxed);
    let scan = scanner.join().expect("the scanner ends");
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains(&format!("uid 0 vault {}", VAULTED.len())), "{shown}");
    assert!(
        scan.saw_marker,
        "the scan ({} passes) never saw `{marker}` running",
        scan.scans
    );
    assert!(
        scan.leaks.is_empty(),
        "passwords in process lists:\n{}",
        scan.leaks.join("\n")
    );
    let pws: Vec<&str> = passwords.iter().map(String::as_str).collect();
    assert_hidden("the terminal", &shown, &pws);
    for f in files_under(dir.path(), &[]) {
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap_or_default()).into_owned();
        assert_hidden(&f.display().to_string(), &text, &pws);
    }
}
