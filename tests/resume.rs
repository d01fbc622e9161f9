//! The run journal and `--resume` through the binary, on real sshd hosts: a rollout that
//! failed (or was killed) continues at the first unfinished batch, finished batches are not
//! run again, and what their tasks registered is there for later plays.

#[path = "support/sshd_hosts.rs"]
mod sshd_hosts;
mod support;

use sshd_hosts::SshHosts;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{play, write_tree};

/// Four hosts, serial 1; each batch appends the host to `ran.log`, registers a value, and
/// fails while `<fail dir>/fail-<host>` exists. A second play reads batch 1's registered value.
fn book(dir: &Path) -> String {
    format!(
        r#"
- hosts: nodes
  serial: 1
  gather_facts: false
  tasks:
    - shell: echo {{{{ inventory_hostname }}}} >> {d}/ran.log; sleep 0.3
    - command: echo {{{{ inventory_hostname }}}}-done
      register: marker
    - shell: test ! -e {d}/fail-{{{{ inventory_hostname }}}}
- hosts: nodes
  gather_facts: false
  tasks:
    - copy:
        content: "{{{{ hostvars['n1']['marker']['stdout'] }}}}\n"
        dest: "{d}/final-{{{{ inventory_hostname }}}}"
"#,
        d = dir.display()
    )
}

fn ran(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("ran.log"))
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

fn converged(dir: &Path) {
    for h in ["n1", "n2", "n3", "n4"] {
        let f = std::fs::read_to_string(dir.join(format!("final-{h}"))).unwrap_or_default();
        assert_eq!(f, "n1-done\n", "{h} got batch 1's registered result");
    }
}

#[test]
fn a_failed_rollout_resumes_at_the_failed_batch_with_earlier_results_restored() {
    let hosts = SshHosts::start(&["n1", "n2", "n3", "n4"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_tree(d, &[("hosts.yml", &hosts.inventory(&[])), ("site.yml", &book(d))]);
    std::fs::write(d.join("fail-n3"), "").expect("fault");

    let first = play(d, &["site.yml", "-i", "hosts.yml"]);
    assert_eq!(first.code, 2, "{}\n{}", first.stdout, first.stderr);
    assert!(
        first.stderr.contains("--resume"),
        "says how to resume: {}",
        first.stderr
    );
    assert_eq!(ran(d), ["n1", "n2", "n3"], "batch 4 never started");

    let runs = play(d, &["runs", "site.yml"]);
    assert!(runs.stdout.contains("failed (exit 2)"), "{}", runs.stdout);
    let detail = play(d, &["runs", "site.yml", "latest"]);
    assert!(
        detail.stdout.contains("play 1 batch 2: done") && detail.stdout.contains("play 1 batch 3: ended with failures"),
        "{}",
        detail.stdout
    );

    std::fs::remove_file(d.join("fail-n3")).expect("fix the fault");
    let second = play(d, &["site.yml", "-i", "hosts.yml", "--resume"]);
    assert_eq!(second.code, 0, "{}\n{}", second.stdout, second.stderr);
    assert_eq!(
        ran(d),
        ["n1", "n2", "n3", "n3", "n4"],
        "finished batches are not run again"
    );
    converged(d);
}

#[test]
fn a_batch_whose_gate_failed_is_not_done_so_resume_checks_it_again_before_the_next() {
    let hosts = SshHosts::start(&["n1", "n2", "n3"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let book = format!(
        r#"
- hosts: nodes
  serial: 1
  gather_facts: false
  batch_gate:
    retries: 0
    delay: 0
    checks:
      - name: node is Ready
        command: test ! -e {d}/sick-{{{{ inventory_hostname }}}}
  tasks:
    - shell: echo {{{{ inventory_hostname }}}} >> {d}/ran.log
"#,
        d = d.display()
    );
    write_tree(d, &[("hosts.yml", &hosts.inventory(&[])), ("site.yml", &book)]);
    std::fs::write(d.join("sick-n2"), "").expect("fault");

    let first = play(d, &["site.yml", "-i", "hosts.yml"]);
    assert_ne!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    assert_eq!(ran(d), ["n1", "n2"]);
    let detail = play(d, &["runs", "site.yml", "latest"]);
    assert!(
        detail.stdout.contains("play 1 batch 2: ended with failures"),
        "{}",
        detail.stdout
    );

    // Still sick: the resumed run runs batch 2 again and stops at its gate again.
    let again = play(d, &["site.yml", "-i", "hosts.yml", "--resume"]);
    assert_ne!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert!(again.stderr.contains("gate after batch 2"), "{}", again.stderr);
    assert_eq!(ran(d), ["n1", "n2", "n2"], "batch 3 never started");

    std::fs::remove_file(d.join("sick-n2")).expect("heal");
    let healed = play(d, &["site.yml", "-i", "hosts.yml", "--resume"]);
    assert_eq!(healed.code, 0, "{}\n{}", healed.stdout, healed.stderr);
    assert_eq!(ran(d), ["n1", "n2", "n2", "n2", "n3"]);
}

#[test]
fn resume_refuses_a_changed_playbook_unless_forced() {
    let hosts = SshHosts::start(&["n1", "n2", "n3", "n4"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_tree(d, &[("hosts.yml", &hosts.inventory(&[])), ("site.yml", &book(d))]);
    std::fs::write(d.join("fail-n2"), "").expect("fault");
    assert_eq!(play(d, &["site.yml", "-i", "hosts.yml"]).code, 2);
    std::fs::remove_file(d.join("fail-n2")).expect("fix");
    let edited = format!("{}\n# edited\n", book(d));
    std::fs::write(d.join("site.yml"), edited).expect("edit");
    let refused = play(d, &["site.yml", "-i", "hosts.yml", "--resume"]);
    assert_eq!(refused.code, 1, "{}\n{}", refused.stdout, refused.stderr);
    assert!(
        refused.stderr.contains("site.yml") && refused.stderr.contains("changed"),
        "{}",
        refused.stderr
    );
    assert_eq!(ran(d), ["n1", "n2"], "nothing ran");
    let forced = play(d, &["site.yml", "-i", "hosts.yml", "--resume", "--force-resume"]);
    assert_eq!(forced.code, 0, "{}\n{}", forced.stdout, forced.stderr);
    converged(d);
}

#[test]
fn sigkill_at_any_batch_then_resume_converges_without_rerunning_finished_batches() {
    let hosts = SshHosts::start(&["n1", "n2", "n3", "n4"]);
    for kill_after in 1..=3 {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        write_tree(d, &[("hosts.yml", &hosts.inventory(&[])), ("site.yml", &book(d))]);
        let mut child = Command::new(env!("CARGO_BIN_EXE_play"))
            .args(["site.yml", "-i", "hosts.yml"])
            .current_dir(d)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", "/nonexistent-home")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("play starts");
        // Kill it while batch `kill_after + 1` runs.
        let start = Instant::now();
        while ran(d).len() <= kill_after && start.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        let before = ran(d);
        assert!(before.len() > kill_after, "killed mid-run ({before:?})");

        let resumed = play(d, &["site.yml", "-i", "hosts.yml", "--resume"]);
        assert_eq!(
            resumed.code, 0,
            "kill after {kill_after}: {}\n{}",
            resumed.stdout, resumed.stderr
        );
        converged(d);
        let all = ran(d);
        for h in ["n1", "n2", "n3", "n4"] {
            let n = all.iter().filter(|x| *x == h).count();
            let finished_before = before.iter().position(|x| x == h).is_some_and(|i| i + 1 < before.len());
            if finished_before {
                assert_eq!(n, 1, "{h} finished before the kill and must not run again: {all:?}");
            } else {
                assert!(n >= 1, "{h} ran: {all:?}");
            }
        }
    }
}

#[test]
fn sigterm_lets_running_tasks_finish_starts_nothing_new_and_exits_130() {
    let hosts = SshHosts::start(&["n1", "n2", "n3", "n4"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_tree(d, &[("hosts.yml", &hosts.inventory(&[])), ("site.yml", &book(d))]);
    let child = Command::new(env!("CARGO_BIN_EXE_play"))
        .args(["site.yml", "-i", "hosts.yml"])
        .current_dir(d)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", "/nonexistent-home")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("play starts");
    let start = Instant::now();
    while ran(d).is_empty() && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let signalled = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(signalled.success());
    let out = child.wait_with_output().expect("play ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("--resume"), "{stderr}");
    assert_eq!(ran(d), ["n1"], "the running task finished; no new batch started");
    let resumed = play(d, &["site.yml", "-i", "hosts.yml", "--resume"]);
    assert_eq!(resumed.code, 0, "{}\n{}", resumed.stdout, resumed.stderr);
    converged(d);
}
