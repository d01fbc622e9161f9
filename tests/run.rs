//! Playbooks run through the binary against real sshd hosts on 127.0.0.1: files land, results
//! register, handlers fire at the end of a batch, serial batches and failure rules hold, health
//! gates stop a rollout, unknown host keys refuse the host.

#[path = "support/sshd_hosts.rs"]
mod sshd_hosts;
mod support;

use sshd_hosts::SshHosts;
use support::{play, write_tree};

fn project(hosts: &SshHosts, playbook: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write_tree(
        dir.path(),
        &[("hosts.yml", &hosts.inventory(&[])), ("site.yml", playbook)],
    );
    dir
}

fn recap_line<'a>(stdout: &'a str, host: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.starts_with(host) && l.contains(" : ok="))
        .unwrap_or_else(|| panic!("no recap line for {host} in:\n{stdout}"))
}

#[test]
fn a_workload_lands_the_same_files_on_every_host_and_a_second_run_changes_nothing() {
    let hosts = SshHosts::start(&["n1", "n2", "n3"]);
    let root = tempfile::tempdir().expect("tempdir");
    let book = format!(
        r#"
- hosts: nodes
  gather_facts: false
  vars:
    root: "{root}/{{{{ inventory_hostname }}}}"
  tasks:
    - file: path="{{{{ root }}}}/etc" state=directory mode=0755
    - command: echo v1.30.4
      register: out
      changed_when: false
    - copy:
        content: "version={{{{ out.stdout }}}}\n"
        dest: "{{{{ root }}}}/etc/v.env"
        mode: "0640"
      notify: restart
    - lineinfile: path="{{{{ root }}}}/etc/host.env" line="host={{{{ inventory_hostname }}}}" create=yes
  handlers:
    - name: restart
      shell: echo restarted > "{{{{ root }}}}/restarted"
"#,
        root = root.path().display()
    );
    let dir = project(&hosts, &book);
    let first = play(dir.path(), &["site.yml", "-i", "hosts.yml"]);
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    for h in ["n1", "n2", "n3"] {
        let env = std::fs::read_to_string(root.path().join(h).join("etc/v.env")).expect("file written");
        assert_eq!(env, "version=v1.30.4\n");
        let line = std::fs::read_to_string(root.path().join(h).join("etc/host.env")).expect("line file");
        assert_eq!(line, format!("host={h}\n"));
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(root.path().join(h).join("etc/v.env"))
                .expect("meta")
                .permissions(),
        );
        assert_eq!(mode & 0o777, 0o640, "{h}");
        assert!(root.path().join(h).join("restarted").exists(), "the handler ran on {h}");
        assert!(recap_line(&first.stdout, h).contains("changed=4"), "{}", first.stdout);
    }
    assert!(first.stdout.contains("RUNNING HANDLER [restart]"), "{}", first.stdout);

    let second = play(dir.path(), &["site.yml", "-i", "hosts.yml"]);
    assert_eq!(second.code, 0, "{}\n{}", second.stdout, second.stderr);
    for h in ["n1", "n2", "n3"] {
        assert!(recap_line(&second.stdout, h).contains("changed=0"), "{}", second.stdout);
    }
    assert!(!second.stdout.contains("RUNNING HANDLER"), "{}", second.stdout);
}

#[test]
fn serial_batches_run_in_order_and_an_unreachable_host_fails_only_itself() {
    let mut hosts = SshHosts::start(&["n1", "n2", "n3", "n4"]);
    hosts.stop("n2");
    let log = tempfile::tempdir().expect("tempdir");
    let book = format!(
        r#"
- hosts: nodes
  serial: 2
  gather_facts: false
  tasks:
    - shell: echo "{{{{ ansible_play_batch | join(',') }}}}" >> {log}/batches
"#,
        log = log.path().display()
    );
    let dir = project(&hosts, &book);
    let out = play(dir.path(), &["site.yml", "-i", "hosts.yml"]);
    assert_eq!(out.code, 4, "unreachable exits 4\n{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("fatal: [n2]: UNREACHABLE!"), "{}", out.stdout);
    let batches = std::fs::read_to_string(log.path().join("batches")).expect("batches written");
    assert_eq!(
        batches, "n1,n2\nn3,n4\nn3,n4\n",
        "each batch's hosts see their own batch"
    );
    assert!(recap_line(&out.stdout, "n2").contains("unreachable=1"));
    assert!(out.stdout.contains("batch 2 of 2: n3, n4"), "{}", out.stdout);
}

#[test]
fn a_failing_health_gate_stops_the_rollout_before_the_next_batch() {
    let hosts = SshHosts::start(&["n1", "n2", "n3"]);
    let mark = tempfile::tempdir().expect("tempdir");
    let book = format!(
        r#"
- hosts: nodes
  serial: 1
  gather_facts: false
  batch_gate:
    retries: 2
    delay: 0
    checks:
      - name: node is Ready
        command: test "{{{{ inventory_hostname }}}}" != n2
  tasks:
    - shell: touch {mark}/{{{{ inventory_hostname }}}}
"#,
        mark = mark.path().display()
    );
    let dir = project(&hosts, &book);
    let out = play(dir.path(), &["site.yml", "-i", "hosts.yml"]);
    assert_ne!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(mark.path().join("n1").exists() && mark.path().join("n2").exists());
    assert!(!mark.path().join("n3").exists(), "no batch starts after a failed gate");
    assert!(
        out.stderr.contains("batch 2") && out.stderr.contains("n2") && out.stderr.contains("node is Ready"),
        "{}",
        out.stderr
    );
    assert_eq!(
        out.stdout.matches("FAILED - RETRYING: [n2]").count(),
        2,
        "{}",
        out.stdout
    );
}

#[test]
fn an_unknown_host_key_makes_the_host_unreachable_with_the_file_named() {
    let hosts = SshHosts::start(&["n1"]);
    std::fs::write(&hosts.known_hosts, "").expect("empty known_hosts");
    let dir = project(
        &hosts,
        "- hosts: nodes\n  gather_facts: false\n  tasks:\n    - command: 'true'\n",
    );
    let out = play(dir.path(), &["site.yml", "-i", "hosts.yml"]);
    assert_eq!(out.code, 4, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("UNREACHABLE!"), "{}", out.stdout);
    assert!(
        out.stdout.contains(&hosts.known_hosts.display().to_string()),
        "{}",
        out.stdout
    );
}

#[test]
fn registered_results_conditions_loops_and_rescue() {
    let hosts = SshHosts::start(&["n1"]);
    let book = r#"
- hosts: nodes
  gather_facts: false
  tasks:
    - command: printf 'a\nb'
      register: r
    - assert:
        that:
          - r.rc == 0
          - r.stdout_lines == ['a', 'b']
    - debug: msg="{{ item }}"
      loop: [x, y, z]
      when: item != 'y'
      register: looped
    - assert:
        that: looped.results | selectattr('skipped', 'defined') | list | length == 1
    - block:
        - command: /bin/false
      rescue:
        - set_fact: rescued=yes
    - assert:
        that: rescued | bool
    - command: /bin/false
      ignore_errors: true
"#;
    let dir = project(&hosts, book);
    let out = play(dir.path(), &["site.yml", "-i", "hosts.yml"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let recap = recap_line(&out.stdout, "n1");
    assert!(
        recap.contains("rescued=1") && recap.contains("ignored=1") && recap.contains("failed=0"),
        "{recap}"
    );
    assert!(out.stdout.contains("ok: [n1] => (item=x)"), "{}", out.stdout);
    assert!(out.stdout.contains("skipping: [n1] => (item=y)"), "{}", out.stdout);
}

#[test]
fn a_rescue_that_fails_too_counts_one_rescue_and_one_failure() {
    let dir = tempfile::tempdir().expect("tempdir");
    let book = "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - block:\n        - command: /bin/false\n      rescue:\n        - fail:\n            msg: stop\n";
    std::fs::write(dir.path().join("site.yml"), book).expect("write");
    let out = play(dir.path(), &["site.yml", "-i", "localhost,", "-c", "local"]);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    let recap = recap_line(&out.stdout, "localhost");
    // ansible-playbook 2.19: failed=1 rescued=1.
    assert!(recap.contains("failed=1 ") && recap.contains("rescued=1 "), "{recap}");
}

#[test]
fn wait_for_connection_reconnects_after_the_session_is_lost() {
    let hosts = SshHosts::start(&["n1"]);
    // The second task kills the sshd process serving this host's session (as a reboot would);
    // wait_for_connection must open a new session, and later tasks must use it.
    let book = r#"
- hosts: nodes
  gather_facts: false
  tasks:
    - command: "true"
    - shell: kill -9 $(awk '{print $4}' /proc/$PPID/stat)
      ignore_errors: true
      ignore_unreachable: true
    - wait_for_connection:
        timeout: 20
    - command: echo back
      register: r
    - assert:
        that: r.stdout == 'back'
"#;
    let dir = project(&hosts, book);
    let out = play(dir.path(), &["site.yml", "-i", "hosts.yml"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let recap = recap_line(&out.stdout, "n1");
    assert!(recap.contains("failed=0"), "{}", out.stdout);
    assert!(
        recap.contains("ignored=1"),
        "the session really was lost: {}",
        out.stdout
    );
}

#[test]
fn module_assertions_that_pass_under_ansible_core_pass_over_ssh() {
    let hosts = SshHosts::start(&["n1"]);
    let dir = project(&hosts, "");
    let book = support::fixture("playbooks/modules/assertions.yml");
    let work = tempfile::tempdir().expect("tempdir");
    let work_var = format!("work={}", work.path().display());
    let out = play(
        dir.path(),
        &[
            book.to_str().unwrap_or_default(),
            "-i",
            "hosts.yml",
            "-e",
            &work_var,
            "-e",
            "engine=play",
        ],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        recap_line(&out.stdout, "n1").contains("ok=20   changed=6"),
        "{}",
        out.stdout
    );
}
