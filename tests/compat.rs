//! The compatibility corpus: `--list-hosts/--list-tasks/--list-tags/--syntax-check` on ordinary
//! Ansible projects must print what ansible-playbook 2.19 printed for them (recorded in
//! tests/compat/*/expected; see tests/compat/README.md).

use std::process::Command;

#[test]
fn listings_match_ansible_playbook_2_19() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("bash")
        .arg(format!("{root}/tests/compat/check.sh"))
        .arg(env!("CARGO_BIN_EXE_play"))
        .env_remove("ANSIBLE_CONFIG")
        .output()
        .expect("bash runs tests/compat/check.sh (needs python3)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(" 0 failed"), "{stdout}");
}
