//! Before any host is contacted, every task that may run is checked: its module must be one
//! play runs and its arguments ones that module reads. The inventory's host listens nowhere
//! (127.0.0.1 port 9), so a run that got as far as a host would say UNREACHABLE.

mod support;
use support::{play, write_tree};

const HOSTS: &str = "[web]\nw1 ansible_host=127.0.0.1 ansible_port=9 ansible_user=nobody\n";

/// Run `site.yml` against the unreachable host; the outcome and the project dir.
fn run(site: &str, extra: &[&str]) -> support::Outcome {
    let dir = tempfile::tempdir().expect("tempdir");
    write_tree(dir.path(), &[("hosts.ini", HOSTS), ("site.yml", site)]);
    let mut args = vec!["site.yml", "-i", "hosts.ini"];
    args.extend_from_slice(extra);
    play(dir.path(), &args)
}

/// A load error: exit 1, nothing run, no host contacted.
fn load_error(site: &str) -> String {
    let o = run(site, &[]);
    assert_eq!(o.code, 1, "exit status\nstdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
    assert!(o.stdout.is_empty(), "nothing runs: {}", o.stdout);
    assert!(
        !o.stderr.contains("UNREACHABLE") && !o.stderr.contains("panicked"),
        "{}",
        o.stderr
    );
    o.stderr
}

#[test]
fn misspelt_argument_fails_before_any_host_is_contacted() {
    let e = load_error(
        "- hosts: web\n  tasks:\n    - name: put the file\n      copy:\n        content: hi\n        dset: /tmp/x\n",
    );
    assert!(e.contains("site.yml:6:9"), "{e}");
    assert!(e.contains("did you mean 'dest'?"), "{e}");
    insta::assert_snapshot!(e);
}

#[test]
fn misspelt_argument_in_key_value_text_points_at_it() {
    let e = load_error("- hosts: web\n  tasks:\n    - file: path=/tmp/x stat=directory\n");
    assert!(e.contains("site.yml:3:25"), "{e}");
    assert!(
        e.contains("module 'file' has no argument 'stat'; did you mean 'state'?"),
        "{e}"
    );
}

#[test]
fn unimplemented_module_fails_before_any_host_is_contacted() {
    let e = load_error("- hosts: web\n  tasks:\n    - name: install\n      ansible.builtin.dnf:\n        name: curl\n");
    assert!(e.contains("site.yml:4:7"), "{e}");
    insta::assert_snapshot!(e);
}

#[test]
fn every_problem_is_reported_handlers_included() {
    let e = load_error(concat!(
        "- hosts: web\n",
        "  tasks:\n",
        "    - ping: dta=x\n",
        "    - dnf: name=curl\n",
        "  handlers:\n",
        "    - name: restart\n",
        "      debug: mgs=hi\n",
    ));
    for want in [
        "site.yml:3:13: module 'ping' has no argument 'dta'; did you mean 'data'?",
        "site.yml:4:7: module 'dnf' is not implemented by play yet",
        "site.yml:7:14: module 'debug' has no argument 'mgs'; did you mean 'msg'?",
        "3 problems found; no host was contacted",
    ] {
        assert!(e.contains(want), "missing {want:?} in:\n{e}");
    }
}

#[test]
fn templated_arguments_are_refused_with_the_way_out() {
    let e = load_error(concat!(
        "- hosts: web\n",
        "  vars: {file_args: {path: /tmp/x, state: directory}}\n",
        "  tasks:\n",
        "    - file:\n",
        "      args: \"{{ file_args }}\"\n",
    ));
    assert!(e.contains("site.yml:5:7"), "{e}");
    assert!(e.contains("cannot be checked before the run"), "{e}");
}

#[test]
fn not_yet_supported_argument_says_so() {
    let e = load_error("- hosts: web\n  tasks:\n    - copy: {content: hi, dest: /tmp/x, attr: +i}\n");
    assert!(e.contains("does not support the argument 'attr' yet"), "{e}");
}

#[test]
fn tasks_left_out_by_tags_are_not_checked() {
    let o = run(
        concat!(
            "- hosts: web\n",
            "  gather_facts: false\n",
            "  tasks:\n",
            "    - dnf: name=curl\n",
            "      tags: [packages]\n",
            "    - debug: msg=hello\n",
            "      tags: [say]\n",
        ),
        &["--tags", "say"],
    );
    assert_eq!(o.code, 0, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("hello"), "{}", o.stdout);
}

#[test]
fn listings_do_not_check_modules_or_arguments() {
    let site = "- hosts: web\n  tasks:\n    - dnf: name=curl\n    - copy: {content: hi, dset: /tmp/x}\n";
    for listing in ["--list-tasks", "--plan", "--syntax-check", "--list-hosts"] {
        let o = run(site, &[listing]);
        assert_eq!(o.code, 0, "{listing}: {}", o.stderr);
    }
}

#[test]
fn accepted_but_ignored_argument_is_a_warning_not_an_error() {
    let o = run(
        "- hosts: web\n  gather_facts: false\n  tasks:\n    - file: {path: /tmp/x, state: directory, setype: tmp_t}\n",
        &[],
    );
    assert!(
        o.stderr
            .contains("[WARNING]: site.yml:4:46: 'file' accepts 'setype' but does not act on it yet"),
        "{}",
        o.stderr
    );
    // The run goes on, and only then meets the host that is not there.
    assert_eq!(o.code, 4, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
}
