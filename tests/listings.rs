//! The listings and the plan, through the binary, on the repository's own sample cluster and on
//! fixtures: hosts, tasks, tags and serial batches as the user sees them.

mod support;
use std::path::Path;
use support::{fixture, play};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn list_hosts_of_the_sample_upgrade() {
    let o = play(
        repo(),
        &[
            "playbooks/upgrade-cluster.yml",
            "-i",
            "inventory/sample/hosts.yml",
            "--list-hosts",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    insta::assert_snapshot!(o.stdout);
}

#[test]
fn list_tasks_of_the_sample_upgrade() {
    let o = play(
        repo(),
        &[
            "playbooks/upgrade-cluster.yml",
            "-i",
            "inventory/sample/hosts.yml",
            "--list-tasks",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    insta::assert_snapshot!(o.stdout);
}

#[test]
fn plan_of_the_sample_upgrade() {
    let o = play(
        repo(),
        &[
            "playbooks/upgrade-cluster.yml",
            "-i",
            "inventory/sample/hosts.yml",
            "--plan",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout.contains("10 hosts, serial 20%: 5 batches (2, 2, 2, 2, 2)"),
        "{}",
        o.stdout
    );
    insta::assert_snapshot!(o.stdout);
}

#[test]
fn plan_with_serial_from_extra_vars() {
    let o = play(
        repo(),
        &[
            "playbooks/upgrade-cluster.yml",
            "-i",
            "inventory/sample/hosts.yml",
            "--plan",
            "-e",
            "serial=3",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout.contains("10 hosts, serial 3: 4 batches (3, 3, 3, 1)"),
        "{}",
        o.stdout
    );
}

#[test]
fn serial_percentages_and_lists_are_cut_as_ansible_cuts_them() {
    let dir = fixture("cli/serial");
    let o = play(&dir, &["serial.yml", "-i", "hosts.ini", "--plan"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout.contains("11 hosts, serial 20%: 6 batches (2, 2, 2, 2, 2, 1)"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout
            .contains("10 hosts, serial [1,\"30%\"]: 4 batches (1, 3, 3, 3)"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains("10 hosts, serial 5: 2 batches (5, 5)"),
        "{}",
        o.stdout
    );
    insta::assert_snapshot!(o.stdout);
}

#[test]
fn limit_narrows_the_batches() {
    let dir = fixture("cli/serial");
    let o = play(&dir, &["serial.yml", "-i", "hosts.ini", "--plan", "-l", "n0*:m01"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    // 20% of the 9 hosts left by --limit is 1.8: one host per batch.
    assert!(
        o.stdout
            .contains("9 hosts, serial 20%: 9 batches (1, 1, 1, 1, 1, 1, 1, 1, 1)"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains("1 hosts, serial [1,\"30%\"]: 1 batch (1)"),
        "{}",
        o.stdout
    );
}

#[test]
fn tags_select_tasks_in_listings() {
    let dir = fixture("cli/serial");
    let o = play(
        &dir,
        &[
            "serial.yml",
            "-i",
            "hosts.ini",
            "--list-tasks",
            "--list-tags",
            "-t",
            "probe",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    insta::assert_snapshot!(o.stdout);
}

#[test]
fn graph_is_dot_with_every_batch() {
    let dir = fixture("cli/serial");
    let o = play(&dir, &["serial.yml", "-i", "hosts.ini", "--graph"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.starts_with("digraph {"), "{}", o.stdout);
    for batch in [
        "batch 1: n01 n02",
        "batch 6: n11",
        "batch 1: m01",
        "batch 4: m08 m09 m10",
    ] {
        assert!(o.stdout.contains(batch), "missing {batch} in\n{}", o.stdout);
    }
}

#[test]
fn syntax_check_prints_each_playbook() {
    let o = play(
        repo(),
        &[
            "playbooks/upgrade-cluster.yml",
            "-i",
            "inventory/sample/hosts.yml",
            "--syntax-check",
        ],
    );
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, "\nplaybook: playbooks/upgrade-cluster.yml\n"),
        "{}",
        o.stderr
    );
}
