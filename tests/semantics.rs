//! Language semantics that ansible-core 2.19 shows and roles rely on, asserted by a playbook
//! that passes under both engines (tests/fixtures/playbooks/semantics).

mod support;

use support::{fixture, play};

#[test]
fn loops_literals_filters_and_hostvars_behave_as_in_ansible() {
    let dir = fixture("playbooks/semantics");
    let out = play(&dir, &["site.yml", "-i", "hosts.yml"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("a                          : ok=3    changed=0"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("failed=1"), "{}", out.stdout);
}
