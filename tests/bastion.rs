//! Playbooks run on hosts that only a bastion can reach (network namespaces the test builds),
//! in the three ways users spell the jump, with host keys checked at both hops.

#[path = "support/netlab.rs"]
mod netlab;
mod support;

use support::{play, write_tree};

const BOOK: &str = r#"
- hosts: behind
  gather_facts: false
  tasks:
    - command: hostname -I
      register: ip
      changed_when: false
    - copy:
        content: "reached {{ inventory_hostname }}\n"
        dest: /tmp/play-bastion-{{ inventory_hostname }}
    - assert:
        that: ansible_host in ip.stdout
"#;

/// The lab's inventory with `ansible_ssh_common_args` replaced by `args`.
fn inventory(lab: &netlab::NetLab, args: &str) -> String {
    let ini = lab.inventory_ini("behind");
    let cut = ini.find("ansible_ssh_common_args").expect("common args line");
    format!("{}ansible_ssh_common_args='{args}'\n", &ini[..cut])
}

fn run_with(lab: &netlab::NetLab, args: &str) -> support::Outcome {
    let dir = tempfile::tempdir().expect("tempdir");
    write_tree(dir.path(), &[("hosts.ini", &inventory(lab, args)), ("site.yml", BOOK)]);
    play(dir.path(), &["site.yml", "-i", "hosts.ini"])
}

#[test]
fn playbooks_run_through_a_bastion_in_all_three_spellings() {
    let lab = netlab::NetLab::start(1, 2);
    lab.trust_all();
    let b = &lab.bastions[0];
    let kh = lab.known_hosts.display().to_string();
    let key = lab.key.display().to_string();
    let spellings = [
        format!("-o ProxyJump={} -o UserKnownHostsFile={kh}", b.jump_spec(&lab.user)),
        format!("-J {} -o UserKnownHostsFile={kh}", b.jump_spec(&lab.user)),
        format!(
            "-o UserKnownHostsFile={kh} -o ProxyCommand=\"ssh -W %h:%p -q -i {key} -p {} {}@{}\"",
            b.port, lab.user, b.addr
        ),
    ];
    for (i, args) in spellings.iter().enumerate() {
        let before = b.logins();
        let out = run_with(&lab, args);
        assert_eq!(out.code, 0, "spelling {i}: {args}\n{}\n{}", out.stdout, out.stderr);
        assert!(
            out.stdout.contains("private1") && out.stdout.contains("ok=3"),
            "{}",
            out.stdout
        );
        assert_eq!(
            b.logins() - before,
            1,
            "one bastion session carries both hosts ({args})"
        );
    }
}

#[test]
fn an_unknown_bastion_key_or_a_changed_target_key_refuses_the_host() {
    let lab = netlab::NetLab::start(1, 1);
    // Only the private host is trusted: the bastion's key is unknown.
    lab.trust(&lab.private[0]);
    let out = run_with(&lab, &lab.common_args());
    assert_eq!(out.code, 4, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("UNREACHABLE!"), "{}", out.stdout);
    assert!(
        out.stdout.contains(&lab.known_hosts.display().to_string()),
        "{}",
        out.stdout
    );
    assert_eq!(lab.private[0].logins(), 0, "the target never saw a login");

    // Trust the bastion, but record a different key for the target.
    let other = tempfile::tempdir().expect("tempdir");
    let other_key = other.path().join("k");
    let made = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&other_key)
        .status()
        .expect("ssh-keygen");
    assert!(made.success());
    let public = std::fs::read_to_string(other_key.with_extension("pub")).expect("pub");
    let target_line = lab.private[0].known_hosts_line();
    let host_field = target_line.split_whitespace().next().expect("host field");
    let mut parts = public.split_whitespace();
    let wrong_line = format!(
        "{host_field} {} {}",
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default()
    );
    std::fs::write(
        &lab.known_hosts,
        format!("{}\n{wrong_line}\n", lab.bastions[0].known_hosts_line()),
    )
    .expect("known_hosts");
    let out = run_with(&lab, &lab.common_args());
    assert_eq!(out.code, 4, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.to_lowercase().contains("changed"), "{}", out.stdout);
}

#[test]
fn a_direct_connection_to_a_private_host_fails() {
    let lab = netlab::NetLab::start(1, 1);
    lab.trust_all();
    let kh = lab.known_hosts.display().to_string();
    let out = run_with(&lab, &format!("-o UserKnownHostsFile={kh} -o ConnectTimeout=2"));
    assert_eq!(out.code, 4, "{}\n{}", out.stdout, out.stderr);
}
