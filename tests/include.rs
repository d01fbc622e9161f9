//! `include_tasks` and `include_role` through the binary against real sshd hosts: the file is
//! chosen per host when the include is reached, loops run the file once per item, roles'
//! defaults reach included tasks, handlers fire, a missing file fails only its host.

#[path = "support/sshd_hosts.rs"]
mod sshd_hosts;
mod support;

use sshd_hosts::SshHosts;
use support::{Outcome, play, write_tree};

fn run(hosts: &SshHosts, files: &[(&str, &str)]) -> (tempfile::TempDir, Outcome) {
    let dir = tempfile::tempdir().expect("tempdir");
    let inv = hosts.inventory(&[]);
    let mut all: Vec<(&str, &str)> = vec![("hosts.yml", &inv)];
    all.extend_from_slice(files);
    write_tree(dir.path(), &all);
    let out = play(dir.path(), &["site.yml", "-i", "hosts.yml"]);
    (dir, out)
}

fn recap_line<'a>(stdout: &'a str, host: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.starts_with(host) && l.contains(" : ok="))
        .unwrap_or_else(|| panic!("no recap line for {host} in:\n{stdout}"))
}

/// `ok=.. changed=.. unreachable=.. failed=.. skipped=..` of a recap line, spaces squeezed.
fn counts(stdout: &str, host: &str) -> String {
    let line = recap_line(stdout, host);
    let rest = line.split(" : ").nth(1).unwrap_or_default();
    rest.split_whitespace().take(5).collect::<Vec<_>>().join(" ")
}

#[test]
fn each_host_includes_the_file_its_own_variables_name() {
    let hosts = SshHosts::start(&["n1", "n2"]);
    let book = r#"
- hosts: nodes
  gather_facts: false
  tasks:
    - include_tasks: "{{ flavour }}.yml"
    - debug: msg="after {{ inventory_hostname }}"
"#;
    let inv_vars = "flavour: red\n";
    let (_dir, out) = run(
        &hosts,
        &[
            ("site.yml", book),
            ("host_vars/n1.yml", inv_vars),
            ("host_vars/n2.yml", "flavour: blue\n"),
            ("red.yml", "- debug: msg=\"red on {{ inventory_hostname }}\"\n"),
            ("blue.yml", "- debug: msg=\"blue on {{ inventory_hostname }}\"\n"),
        ],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("TASK [include_tasks]"), "{}", out.stdout);
    assert!(
        out.stdout.contains("red.yml for n1") && out.stdout.contains("blue.yml for n2"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("\"msg\": \"red on n1\""), "{}", out.stdout);
    assert!(out.stdout.contains("\"msg\": \"blue on n2\""), "{}", out.stdout);
    assert!(!out.stdout.contains("red on n2"), "{}", out.stdout);
    // The include counts ok once per host, as in ansible-core.
    assert_eq!(
        counts(&out.stdout, "n1"),
        "ok=3 changed=0 unreachable=0 failed=0 skipped=0"
    );
}

#[test]
fn a_loop_runs_the_file_once_per_item_with_the_loop_var_and_when_false_skips() {
    let hosts = SshHosts::start(&["n1", "n2"]);
    let book = r#"
- hosts: nodes
  gather_facts: false
  tasks:
    - include_tasks: c.yml
      loop: [x, y]
      loop_control:
        loop_var: f
      vars:
        suffix: "!"
    - include_tasks: c.yml
      when: inventory_hostname == "n9"
"#;
    let (_dir, out) = run(
        &hosts,
        &[
            ("site.yml", book),
            ("c.yml", "- debug: msg=\"f={{ f }}{{ suffix }}\"\n"),
        ],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("c.yml for n1, n2 => (item=x)"), "{}", out.stdout);
    assert!(out.stdout.contains("c.yml for n1, n2 => (item=y)"), "{}", out.stdout);
    let x = out.stdout.find("\"f=x!\"").expect("item x ran");
    let y = out.stdout.find("\"f=y!\"").expect("item y ran");
    assert!(x < y, "items in order\n{}", out.stdout);
    assert!(out.stdout.contains("skipping: [n1]"), "{}", out.stdout);
    // ansible-core 2.19: ok=4 (2 includes, 2 debugs), skipped=1 for the false include.
    for h in ["n1", "n2"] {
        assert_eq!(
            counts(&out.stdout, h),
            "ok=4 changed=0 unreachable=0 failed=0 skipped=1"
        );
    }
}

#[test]
fn includes_inside_roles_see_the_roles_defaults_and_include_role_runs_tasks_from() {
    let hosts = SshHosts::start(&["n1"]);
    let book = r#"
- hosts: nodes
  gather_facts: false
  roles:
    - web
  tasks:
    - include_role:
        name: db
        tasks_from: setup
    - name: db defaults stay private
      debug: msg="{{ db_port | default('hidden') }}"
"#;
    let (_dir, out) = run(
        &hosts,
        &[
            ("site.yml", book),
            ("roles/web/defaults/main.yml", "web_port: 8080\n"),
            ("roles/web/tasks/main.yml", "- include_tasks: \"{{ 'listen' }}.yml\"\n"),
            ("roles/web/tasks/listen.yml", "- debug: msg=\"web on {{ web_port }}\"\n"),
            ("roles/db/defaults/main.yml", "db_port: 5432\n"),
            ("roles/db/tasks/main.yml", "- fail: msg=main should not run\n"),
            (
                "roles/db/tasks/setup.yml",
                "- debug: msg=\"db on {{ db_port }} in {{ role_name }}\"\n",
            ),
        ],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("roles/web/tasks/listen.yml for n1"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("\"msg\": \"web on 8080\""), "{}", out.stdout);
    assert!(out.stdout.contains("TASK [include_role : db]"), "{}", out.stdout);
    assert!(out.stdout.contains("included: db for n1"), "{}", out.stdout);
    assert!(out.stdout.contains("\"msg\": \"db on 5432 in db\""), "{}", out.stdout);
    assert!(out.stdout.contains("\"msg\": \"hidden\""), "{}", out.stdout);
    assert!(!out.stdout.contains("main should not run"), "{}", out.stdout);
}

#[test]
fn a_handler_notified_from_an_included_task_runs_and_nested_includes_work() {
    let hosts = SshHosts::start(&["n1"]);
    let mark = tempfile::tempdir().expect("tempdir");
    let book = format!(
        r#"
- hosts: nodes
  gather_facts: false
  tasks:
    - include_tasks: outer.yml
  handlers:
    - name: restart
      shell: echo restarted > {mark}/restarted
"#,
        mark = mark.path().display()
    );
    let (_dir, out) = run(
        &hosts,
        &[
            ("site.yml", &book),
            ("outer.yml", "- include_tasks: inner/inner.yml\n"),
            ("inner/inner.yml", "- include_tasks: leaf.yml\n"),
            ("inner/leaf.yml", "- command: echo changed\n  notify: restart\n"),
        ],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("inner/leaf.yml for n1"),
        "beside the including file\n{}",
        out.stdout
    );
    assert!(out.stdout.contains("RUNNING HANDLER [restart]"), "{}", out.stdout);
    assert!(mark.path().join("restarted").exists(), "the handler ran");
    // ansible-core 2.19: 3 includes + command + handler.
    assert_eq!(
        counts(&out.stdout, "n1"),
        "ok=5 changed=2 unreachable=0 failed=0 skipped=0"
    );
}

#[test]
fn a_missing_file_fails_its_host_and_the_other_goes_on() {
    let hosts = SshHosts::start(&["n1", "n2"]);
    let book = r#"
- hosts: nodes
  gather_facts: false
  tasks:
    - include_tasks: "{{ place }}.yml"
    - debug: msg=end
"#;
    let (_dir, out) = run(
        &hosts,
        &[
            ("site.yml", book),
            ("host_vars/n1.yml", "place: here\n"),
            ("host_vars/n2.yml", "place: nowhere\n"),
            ("here.yml", "- debug: msg=here\n"),
        ],
    );
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("fatal: [n2]: FAILED!"), "{}", out.stdout);
    assert!(
        out.stdout.contains("Could not find or access 'nowhere.yml'") && out.stdout.contains("site.yml:5:7"),
        "{}",
        out.stdout
    );
    assert_eq!(
        counts(&out.stdout, "n1"),
        "ok=3 changed=0 unreachable=0 failed=0 skipped=0"
    );
    assert_eq!(
        counts(&out.stdout, "n2"),
        "ok=0 changed=0 unreachable=0 failed=1 skipped=0"
    );
}

#[test]
fn a_broken_included_file_fails_with_its_position_and_self_inclusion_stops() {
    let hosts = SshHosts::start(&["n1"]);
    let book = r#"
- hosts: nodes
  gather_facts: false
  tasks:
    - include_tasks: broken.yml
      ignore_errors: true
"#;
    let (_dir, out) = run(
        &hosts,
        &[
            ("site.yml", book),
            ("broken.yml", "- debug: msg=x\n  bogus_keyword: 1\n"),
        ],
    );
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("broken.yml:2:3"), "{}", out.stdout);

    let book = r#"
- hosts: nodes
  gather_facts: false
  tasks:
    - include_tasks: self.yml
"#;
    let (_dir, out) = run(
        &hosts,
        &[("site.yml", book), ("self.yml", "- include_tasks: self.yml\n")],
    );
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("includes are nested more than 64 deep"),
        "{}",
        out.stdout
    );
}
