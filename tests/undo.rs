//! Undo obligations (`set_stats` under `undo`) through the binary, on real sshd hosts: a
//! failed rollout shows what it left to undo after the recap, in `play runs` and in its
//! journal; `--resume` inherits them and clears them when it finishes the work.

#[path = "support/sshd_hosts.rs"]
mod sshd_hosts;
mod support;

use sshd_hosts::SshHosts;
use std::path::Path;
use support::{play, write_tree};

/// Three hosts, serial 1: each batch declares "cordon <host>", fails while
/// `<dir>/fail-<host>` exists, and clears the obligation once its work is done.
fn book(dir: &Path) -> String {
    format!(
        r#"
- hosts: nodes
  serial: 1
  gather_facts: false
  tasks:
    - name: Record the cordon
      set_stats:
        data:
          undo: "{{{{ {{'cordon ' ~ inventory_hostname: 'node ' ~ inventory_hostname ~ ' cordoned by this run; undo: kubectl uncordon ' ~ inventory_hostname}} }}}}"
    - name: Work
      shell: test ! -e {d}/fail-{{{{ inventory_hostname }}}}
    - name: Clear the record
      set_stats:
        data:
          undo: "{{{{ {{'cordon ' ~ inventory_hostname: ''}} }}}}"
"#,
        d = dir.display()
    )
}

fn undo_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.starts_with("still to undo:")).collect()
}

fn journal_lines(dir: &Path) -> Vec<serde_json::Value> {
    let runs = dir.join(".play/runs");
    let mut out = Vec::new();
    for e in std::fs::read_dir(&runs).expect("journals").flatten() {
        let text = std::fs::read_to_string(e.path()).expect("journal");
        out.extend(text.lines().filter_map(|l| serde_json::from_str(l).ok()));
    }
    out
}

#[test]
fn a_failed_batch_leaves_its_obligation_and_resume_clears_it() {
    let hosts = SshHosts::start(&["n1", "n2", "n3"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_tree(d, &[("hosts.yml", &hosts.inventory(&[])), ("site.yml", &book(d))]);
    std::fs::write(d.join("fail-n2"), "").expect("fault");

    let first = play(d, &["site.yml", "-i", "hosts.yml"]);
    assert_eq!(first.code, 2, "{}\n{}", first.stdout, first.stderr);
    let want = "still to undo: node n2 cordoned by this run; undo: kubectl uncordon n2";
    assert_eq!(undo_lines(&first.stdout), [want], "{}", first.stdout);
    let recap = first.stdout.find("PLAY RECAP").expect("a recap");
    let shown = first.stdout.find(want).expect("shown");
    assert!(shown > recap, "printed after the recap:\n{}", first.stdout);
    assert!(first.stdout.contains("STILL TO UNDO"), "{}", first.stdout);
    assert!(first.stderr.contains("journal: "), "{}", first.stderr);

    let journal = journal_lines(d);
    let stats: Vec<&serde_json::Value> = journal.iter().filter(|l| l["event"] == "stats").collect();
    assert_eq!(stats.len(), 3, "n1 declared and cleared, n2 declared: {stats:?}");
    let n2 = stats.iter().find(|l| l["host"] == "n2").expect("n2's change");
    assert_eq!(n2["task"], "Record the cordon");
    assert_eq!(
        n2["data"]["undo"]["cordon n2"],
        "node n2 cordoned by this run; undo: kubectl uncordon n2"
    );

    let table = play(d, &["runs", "site.yml"]);
    assert!(table.stdout.contains("still to undo: 1"), "{}", table.stdout);
    let detail = play(d, &["runs", "site.yml", "latest"]);
    assert_eq!(undo_lines(&detail.stdout), [want], "{}", detail.stdout);

    std::fs::remove_file(d.join("fail-n2")).expect("fix the fault");
    let second = play(d, &["site.yml", "-i", "hosts.yml", "--resume"]);
    assert_eq!(second.code, 0, "{}\n{}", second.stdout, second.stderr);
    assert!(undo_lines(&second.stdout).is_empty(), "{}", second.stdout);
    let detail = play(d, &["runs", "site.yml", "latest"]);
    assert!(
        detail.stdout.contains("resumes") && undo_lines(&detail.stdout).is_empty(),
        "{}",
        detail.stdout
    );
    let table = play(d, &["runs", "site.yml"]);
    let newest = table.stdout.lines().next().unwrap_or_default();
    assert!(
        newest.contains("finished") && !newest.contains("still to undo"),
        "{}",
        table.stdout
    );
}

#[test]
fn no_log_obligations_keep_their_names_only_and_json_reports_them() {
    let hosts = SshHosts::start(&["n1"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let book = r#"
- hosts: n1
  gather_facts: false
  tasks:
    - set_stats:
        data:
          undo:
            secret step: "rotate the key hunter2"
      no_log: true
    - set_stats:
        data:
          undo:
            plain step: "undo the plain step"
"#;
    write_tree(d, &[("hosts.yml", &hosts.inventory(&[])), ("site.yml", book)]);
    let run = play(d, &["site.yml", "-i", "hosts.yml", "--output", "json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("hunter2"), "{}", run.stdout);
    let undo: serde_json::Value = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|l| l["event"] == "undo")
        .expect("an undo event");
    assert_eq!(undo["status"], 0);
    let names: Vec<&str> = undo["outstanding"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert_eq!(names, ["secret step", "plain step"], "{undo}");
    assert_eq!(undo["outstanding"][1]["description"], "undo the plain step");
    for line in journal_lines(d) {
        assert!(!line.to_string().contains("hunter2"), "{line}");
    }
    let human = play(d, &["site.yml", "-i", "hosts.yml"]);
    assert!(human.stdout.contains("LEFT BEHIND BY THIS RUN"), "{}", human.stdout);
    assert_eq!(undo_lines(&human.stdout).len(), 2, "{}", human.stdout);
}

#[test]
fn run_once_per_host_obligations_land_on_every_host_of_the_batch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let book = r#"
- hosts: all
  gather_facts: false
  tasks:
    - set_stats:
        data:
          undo: {maintenance: "maintenance mode on"}
        per_host: true
      run_once: true
    - set_stats:
        data:
          undo: {"lock": "cluster lock held"}
      run_once: true
"#;
    write_tree(d, &[("site.yml", book)]);
    let run = play(d, &["site.yml", "-i", "a,b", "-c", "local"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let stats: Vec<serde_json::Value> = journal_lines(d).into_iter().filter(|l| l["event"] == "stats").collect();
    let hosts: Vec<(&str, bool)> = stats
        .iter()
        .map(|l| (l["host"].as_str().unwrap_or_default(), l["per_host"] == true))
        .collect();
    assert_eq!(hosts, [("a", true), ("b", true), ("a", false)], "{stats:?}");
    let detail = play(d, &["runs", "site.yml", "latest"]);
    assert_eq!(
        undo_lines(&detail.stdout),
        [
            "still to undo: cluster lock held",
            "still to undo: [a] maintenance mode on",
            "still to undo: [b] maintenance mode on"
        ],
        "{}",
        detail.stdout
    );
}
