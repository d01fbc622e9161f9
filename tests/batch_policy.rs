//! Batch failure policy against real sshd hosts, with ansible-core 2.19.14's output for the
//! same playbook as the golden value: which batches start, each host's recap line and the
//! exit status. The goldens were taken with `ansible-playbook -i hosts.ini` on the same plays
//! (hosts `ansible_connection=local`; the unreachable host an ssh port nobody listens on).

#[path = "support/sshd_hosts.rs"]
mod sshd_hosts;
mod support;

use sshd_hosts::SshHosts;
use support::{play, write_tree};

const NODES: [&str; 8] = ["n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8"];

struct Golden {
    /// Hosts that ran the first task, in batch order (a batch's hosts sorted).
    started: &'static [&'static [&'static str]],
    /// Hosts that ran the last task (`debug: msg=after`).
    finished: &'static [&'static str],
    /// `host: ok changed unreachable failed skipped rescued ignored`, every host in the recap.
    recap: &'static [(&'static str, [u32; 7])],
    code: i32,
}

/// A play over the 8 hosts: a first task that records the host, `middle`, then `debug`.
fn book(log: &std::path::Path, keywords: &str, middle: &str) -> String {
    format!(
        r#"
- hosts: nodes
  gather_facts: false
{keywords}
  tasks:
    - shell: echo {{{{ inventory_hostname }}}} >> {log}/started
      changed_when: false
{middle}
    - debug: msg=after
"#,
        log = log.display()
    )
}

fn recap_counts(stdout: &str, host: &str) -> Option<[u32; 7]> {
    let line = stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(host) && l.contains(" : ok="))?;
    let mut out = [0u32; 7];
    let nums: Vec<u32> = line
        .split_whitespace()
        .filter_map(|w| w.split_once('=').and_then(|(_, n)| n.parse().ok()))
        .collect();
    if nums.len() != 7 {
        return None;
    }
    out.copy_from_slice(&nums);
    Some(out)
}

fn check(name: &str, stop: &[&str], keywords: &str, middle: &str, want: Golden) {
    let mut hosts = SshHosts::start(&NODES);
    for h in stop {
        hosts.stop(h);
    }
    let log = tempfile::tempdir().expect("tempdir");
    let dir = tempfile::tempdir().expect("tempdir");
    write_tree(
        dir.path(),
        &[
            ("hosts.yml", &hosts.inventory(&[])),
            ("site.yml", &book(log.path(), keywords, middle)),
        ],
    );
    let o = play(dir.path(), &["site.yml", "-i", "hosts.yml", "--forks", "8"]);
    let all = format!("{name}\nstdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
    assert!(!o.stderr.contains("panicked"), "{all}");
    assert_eq!(o.code, want.code, "exit status: {all}");

    // Which batches started: the first task's record, cut into the golden's batches.
    let started_text = std::fs::read_to_string(log.path().join("started")).unwrap_or_default();
    let mut started: Vec<&str> = started_text.lines().collect();
    let mut batches: Vec<Vec<&str>> = Vec::new();
    for b in want.started {
        let n = b.len().min(started.len());
        let mut batch: Vec<&str> = started.drain(..n).collect();
        batch.sort();
        batches.push(batch);
    }
    assert!(
        started.is_empty(),
        "hosts started beyond the golden's batches {started:?}: {all}"
    );
    let want_started: Vec<Vec<&str>> = want.started.iter().map(|b| b.to_vec()).collect();
    assert_eq!(batches, want_started, "batches that started: {all}");

    // Which hosts got to the last task.
    let mut finished: Vec<&str> = NODES
        .iter()
        .copied()
        .filter(|h| {
            o.stdout
                .split("TASK [debug]")
                .skip(1)
                .any(|part| part.contains(&format!("ok: [{h}] =>")))
        })
        .collect();
    finished.sort();
    assert_eq!(finished, want.finished, "hosts that ran the last task: {all}");

    // The recap, host by host, and no host the golden does not list.
    for (h, counts) in want.recap {
        assert_eq!(recap_counts(&o.stdout, h), Some(*counts), "recap of {h}: {all}");
    }
    for h in NODES {
        if !want.recap.iter().any(|(r, _)| *r == h) {
            assert_eq!(recap_counts(&o.stdout, h), None, "{h} is not in the recap: {all}");
        }
    }
}

const FAIL_N2: &str = "    - fail: msg=boom\n      when: inventory_hostname in ['n2']\n";

/// One failed host of a batch of four is 25%: exactly at `max_fail_percentage: 25` the play
/// carries on (the limit must be exceeded).
#[test]
fn max_fail_percentage_exactly_at_the_limit_carries_on() {
    check(
        "at the limit",
        &[],
        "  serial: 4\n  max_fail_percentage: 25",
        FAIL_N2,
        Golden {
            started: &[&["n1", "n2", "n3", "n4"], &["n5", "n6", "n7", "n8"]],
            finished: &["n1", "n3", "n4", "n5", "n6", "n7", "n8"],
            recap: &[
                ("n1", [2, 0, 0, 0, 1, 0, 0]),
                ("n2", [1, 0, 0, 1, 0, 0, 0]),
                ("n3", [2, 0, 0, 0, 1, 0, 0]),
                ("n4", [2, 0, 0, 0, 1, 0, 0]),
                ("n5", [2, 0, 0, 0, 1, 0, 0]),
                ("n6", [2, 0, 0, 0, 1, 0, 0]),
                ("n7", [2, 0, 0, 0, 1, 0, 0]),
                ("n8", [2, 0, 0, 0, 1, 0, 0]),
            ],
            code: 2,
        },
    );
}

/// The same failure with `max_fail_percentage: 24` is over the limit: the rest of the batch
/// stops after that task and no later batch starts.
#[test]
fn max_fail_percentage_just_over_the_limit_stops_the_play() {
    check(
        "just over the limit",
        &[],
        "  serial: 4\n  max_fail_percentage: 24",
        FAIL_N2,
        Golden {
            started: &[&["n1", "n2", "n3", "n4"]],
            finished: &[],
            recap: &[
                ("n1", [1, 0, 0, 0, 1, 0, 0]),
                ("n2", [1, 0, 0, 1, 0, 0, 0]),
                ("n3", [1, 0, 0, 0, 1, 0, 0]),
                ("n4", [1, 0, 0, 0, 1, 0, 0]),
            ],
            code: 2,
        },
    );
}

/// Every host of the first batch fails: the play stops, the second batch never starts.
#[test]
fn a_batch_where_every_host_fails_stops_the_play() {
    check(
        "every host fails",
        &[],
        "  serial: 2",
        "    - fail: msg=boom\n      when: inventory_hostname in ['n1', 'n2']\n",
        Golden {
            started: &[&["n1", "n2"]],
            finished: &[],
            recap: &[("n1", [1, 0, 0, 1, 0, 0, 0]), ("n2", [1, 0, 0, 1, 0, 0, 0])],
            code: 2,
        },
    );
}

/// A `run_once` task failing on the batch's first host ends the play for the whole batch
/// and no later batch starts (the other host of the batch is not counted failed).
#[test]
fn a_failed_run_once_task_stops_the_play() {
    check(
        "run_once fails",
        &[],
        "  serial: 2",
        "    - fail: msg=boom\n      when: inventory_hostname in ['n1', 'n3']\n      run_once: true\n",
        Golden {
            started: &[&["n1", "n2"]],
            finished: &[],
            recap: &[("n1", [1, 0, 0, 1, 0, 0, 0]), ("n2", [1, 0, 0, 0, 0, 0, 0])],
            code: 2,
        },
    );
}

/// An unreachable host of the first batch under `max_fail_percentage: 25` is 25% of the
/// batch: counted as failed, at the limit, so the play carries on.
#[test]
fn an_unreachable_host_counts_toward_max_fail_percentage() {
    check(
        "unreachable at the limit",
        &["n2"],
        "  serial: 4\n  max_fail_percentage: 25",
        "",
        Golden {
            started: &[&["n1", "n3", "n4"], &["n5", "n6", "n7", "n8"]],
            finished: &["n1", "n3", "n4", "n5", "n6", "n7", "n8"],
            recap: &[
                ("n1", [2, 0, 0, 0, 0, 0, 0]),
                ("n2", [0, 0, 1, 0, 0, 0, 0]),
                ("n3", [2, 0, 0, 0, 0, 0, 0]),
                ("n4", [2, 0, 0, 0, 0, 0, 0]),
                ("n5", [2, 0, 0, 0, 0, 0, 0]),
                ("n6", [2, 0, 0, 0, 0, 0, 0]),
                ("n7", [2, 0, 0, 0, 0, 0, 0]),
                ("n8", [2, 0, 0, 0, 0, 0, 0]),
            ],
            code: 4,
        },
    );
}

/// A `run_once` result is counted in the recap only for the host it ran on (ansible-core:
/// `n1 ok=4 changed=1 skipped=1 ignored=1`; n2, which ran nothing itself, is not listed).
#[test]
fn run_once_results_count_only_for_the_host_that_ran_them() {
    let hosts = SshHosts::start(&["n1", "n2"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let book = "
- hosts: nodes
  gather_facts: false
  tasks:
    - command: 'true'
      run_once: true
    - debug: msg=x
      run_once: true
    - command: 'true'
      run_once: true
      changed_when: false
- hosts: nodes
  gather_facts: false
  tasks:
    - fail:
      run_once: true
      ignore_errors: true
    - debug: msg=y
      when: false
      run_once: true
";
    write_tree(dir.path(), &[("hosts.yml", &hosts.inventory(&[])), ("site.yml", book)]);
    let o = play(dir.path(), &["site.yml", "-i", "hosts.yml"]);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert_eq!(
        recap_counts(&o.stdout, "n1"),
        Some([4, 1, 0, 0, 1, 0, 1]),
        "{}",
        o.stdout
    );
    assert_eq!(recap_counts(&o.stdout, "n2"), None, "{}", o.stdout);
}

/// `any_errors_fatal` with a host unreachable in the first batch. A deliberate difference
/// from ansible-core 2.19.14, which ends that batch (n1 does not run the last task) but then
/// runs every later batch and exits 4 — recap n1 ok=1, n2 unreachable=1, n3..n8 ok=2 — the
/// open bug ansible/ansible#82834 against its own documentation ("then stops executing the
/// play on all hosts"). Here the play stops as documented: no later batch starts, the
/// recap of n1 and n2 is ansible-core's, and the exit status is 2 (the batch was failed).
#[test]
fn any_errors_fatal_with_an_unreachable_host_stops_every_batch() {
    check(
        "any_errors_fatal, unreachable",
        &["n2"],
        "  serial: 2\n  any_errors_fatal: true",
        "",
        Golden {
            started: &[&["n1"]],
            finished: &[],
            recap: &[("n1", [1, 0, 0, 0, 0, 0, 0]), ("n2", [0, 0, 1, 0, 0, 0, 0])],
            code: 2,
        },
    );
}

/// `any_errors_fatal` with a failed task in the first batch: every host of the batch stops
/// and no later batch starts (exit 2).
#[test]
fn any_errors_fatal_with_a_failed_host_stops_every_batch() {
    check(
        "any_errors_fatal, failed",
        &[],
        "  serial: 2\n  any_errors_fatal: true",
        FAIL_N2,
        Golden {
            started: &[&["n1", "n2"]],
            finished: &[],
            recap: &[("n1", [1, 0, 0, 0, 1, 0, 0]), ("n2", [1, 0, 0, 1, 0, 0, 0])],
            code: 2,
        },
    );
}
