//! Broken input through the binary: every kind of mistake exits non-zero before anything runs,
//! names file:line:col and says what to do, and never panics.

mod support;
use support::{fixture, play, write_tree};

fn error_of(playbook: &str, extra: &[&str]) -> String {
    let dir = fixture("cli/errors");
    let mut args = vec![playbook, "-i", "hosts.ini", "--list-tasks"];
    args.extend_from_slice(extra);
    let o = play(&dir, &args);
    assert_ne!(o.code, 0, "{playbook} should fail:\n{}", o.stdout);
    assert!(
        o.stdout.is_empty(),
        "nothing is listed when loading fails: {}",
        o.stdout
    );
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    o.stderr
}

#[test]
fn unknown_task_keyword_suggests_the_right_one() {
    insta::assert_snapshot!(error_of("task-keyword.yml", &[]));
}

#[test]
fn misspelt_module_suggests_the_right_one() {
    let e = error_of("module-typo.yml", &[]);
    assert!(e.contains("module-typo.yml:4:7"), "{e}");
    insta::assert_snapshot!(e);
}

#[test]
fn role_cycle_names_the_chain() {
    let e = error_of("role-cycle.yml", &[]);
    assert!(e.contains("a -> b -> a"), "{e}");
    insta::assert_snapshot!(e);
}

#[test]
fn missing_vars_file_is_found_before_the_run() {
    let e = error_of("missing-vars-file.yml", &[]);
    assert!(e.contains("missing-vars-file.yml:3:7"), "{e}");
    insta::assert_snapshot!(e);
}

#[test]
fn non_utf8_file_points_at_the_byte() {
    let e = error_of("not-utf8.yml", &[]);
    assert!(e.contains("not-utf8.yml:3:18"), "{e}");
}

#[test]
fn undefined_variable_in_hosts() {
    let e = error_of("undefined-var.yml", &[]);
    assert!(
        e.contains("undefined-var.yml:1:10") && e.contains("'target' is undefined"),
        "{e}"
    );
}

#[test]
fn undefined_variable_is_fine_once_given() {
    let o = play(
        &fixture("cli/errors"),
        &[
            "undefined-var.yml",
            "-i",
            "hosts.ini",
            "--list-hosts",
            "-e",
            "target=web",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("hosts (2):"), "{}", o.stdout);
}

#[test]
fn bad_yaml_unknown_module_and_missing_role_from_the_compat_corpus() {
    let dir = fixture("../compat/errors");
    for (file, at) in [
        ("bad-yaml.yml", "bad-yaml.yml:8:6"),
        ("unknown-module.yml", "unknown-module.yml:7:7"),
        ("missing-role.yml", "missing-role.yml:7:7"),
        ("bad-keyword.yml", "bad-keyword.yml:5:3"),
    ] {
        let o = play(&dir, &[file, "-i", "hosts.ini", "--syntax-check"]);
        assert_ne!(o.code, 0, "{file}");
        assert!(o.stderr.contains(at), "{file}: {}", o.stderr);
    }
}

#[test]
fn bad_options_exit_5() {
    let o = play(&fixture("cli/errors"), &["task-keyword.yml", "--forks", "many"]);
    assert_eq!(o.code, 5, "{}", o.stderr);
    let o = play(&fixture("cli/errors"), &["no-such-playbook.yml", "-i", "hosts.ini"]);
    assert_eq!(o.code, 5, "{}", o.stderr);
    assert!(o.stderr.contains("no-such-playbook.yml"), "{}", o.stderr);
}

/// A project whose group_vars are vault-encrypted with `right`.
fn vault_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let enc = play::syntax::vault::encrypt(b"secret: swordfish\n", b"right", None).expect("encrypt");
    write_tree(
        dir.path(),
        &[
            ("hosts.ini", "[web]\nw1\n"),
            ("group_vars/all.yml", &enc),
            ("site.yml", "- hosts: web\n  tasks:\n    - debug: msg=hi\n"),
            ("right.txt", "right\n"),
            ("wrong.txt", "wrong\n"),
        ],
    );
    dir
}

#[test]
fn wrong_vault_password_is_an_integrity_error_naming_the_file() {
    let dir = vault_project();
    let o = play(
        dir.path(),
        &[
            "site.yml",
            "-i",
            "hosts.ini",
            "--list-hosts",
            "--vault-password-file",
            "wrong.txt",
        ],
    );
    assert_ne!(o.code, 0);
    assert!(
        o.stderr.contains("group_vars/all.yml") && o.stderr.contains("wrong vault password"),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("swordfish") && !o.stdout.contains("swordfish"));
}

#[test]
fn vault_without_password_says_how_to_give_one() {
    let dir = vault_project();
    let o = play(dir.path(), &["site.yml", "-i", "hosts.ini", "--list-hosts"]);
    assert_ne!(o.code, 0);
    assert!(o.stderr.contains("--vault-password-file"), "{}", o.stderr);
}

#[test]
fn right_vault_password_loads() {
    let dir = vault_project();
    let o = play(
        dir.path(),
        &[
            "site.yml",
            "-i",
            "hosts.ini",
            "--list-hosts",
            "--vault-password-file",
            "right.txt",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(!o.stdout.contains("swordfish"));
}

#[test]
fn garbage_inputs_never_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inputs: &[&[u8]] = &[
        b"",
        b"---",
        b"[",
        b"{",
        b"- - - -",
        b"42",
        b"- hosts",
        b"- hosts: [1, {a: b}]",
        b"- {hosts: all, tasks: 3}",
        b"- {hosts: all, tasks: [[]]}",
        b"- {hosts: all, roles: [{}]}",
        b"- {hosts: all, serial: -1, tasks: []}",
        b"- {hosts: all, serial: 'x%', tasks: []}",
        b"- {hosts: '[', tasks: []}",
        b"- {hosts: all, tasks: [{block: 1}]}",
        b"- import_playbook: site.yml",
        b"\xfe\xff",
        b"- {hosts: all, tasks: [{debug: {msg: !vault x}}]}",
        b"a: &a [*a]",
    ];
    std::fs::write(dir.path().join("hosts.ini"), "[all]\nh1\n").expect("write");
    for input in inputs {
        std::fs::write(dir.path().join("site.yml"), input).expect("write");
        let o = play(
            dir.path(),
            &["site.yml", "-i", "hosts.ini", "--list-tasks", "--list-hosts"],
        );
        assert!(
            !o.stderr.contains("panicked"),
            "{:?}: {}",
            String::from_utf8_lossy(input),
            o.stderr
        );
        assert!(
            o.code == 0 || o.code == 1 || o.code == 5,
            "{:?}: exit {}",
            String::from_utf8_lossy(input),
            o.code
        );
    }
}

#[test]
fn broken_group_vars_beside_the_playbook_fail_before_the_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_tree(
        dir.path(),
        &[
            ("inv/hosts.ini", "[web]\nw1\n"),
            ("play/site.yml", "- hosts: web\n  tasks:\n    - debug: msg=hi\n"),
            ("play/group_vars/web.yml", "a: [1,\n"),
        ],
    );
    let o = play(dir.path(), &["play/site.yml", "-i", "inv/hosts.ini", "--list-hosts"]);
    assert_ne!(o.code, 0, "{}", o.stdout);
    assert!(o.stderr.contains("play/group_vars/web.yml:1:"), "{}", o.stderr);
}
