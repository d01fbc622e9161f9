//! Facts a host reports (`setup`, a module's `ansible_facts`) become `ansible_<name>`
//! variables above the inventory's host vars. A host must not decide how the engine reaches
//! it or escalates on it, so, as ansible-core's fact cleaning does, names that would set a
//! connection, become or interpreter variable are dropped (with a warning). `set_fact` is not
//! cleaned: a playbook author may set `ansible_user` that way, as in Ansible.

use crate::value::Map;

/// Connection variables read by name (the ssh ones are covered by their prefix).
const CONNECTION: [&str; 16] = [
    "ansible_connection",
    "ansible_host",
    "ansible_port",
    "ansible_user",
    "ansible_password",
    "ansible_private_key_file",
    "ansible_timeout",
    "ansible_host_key_checking",
    "ansible_pipelining",
    "ansible_shell_type",
    "ansible_shell_executable",
    "ansible_module_compression",
    "ansible_remote_tmp",
    "ansible_rsync_path",
    "ansible_playbook_python",
    "ansible_facts",
];

/// Prefixes of connection-plugin and privilege variables.
const PREFIXES: [&str; 7] = [
    "ansible_ssh_",
    "ansible_paramiko_",
    "ansible_local_",
    "ansible_become",
    "ansible_sudo",
    "ansible_su_",
    "ansible_docker_",
];

/// True when `var` (the `ansible_<name>` variable a fact becomes) would steer the connection,
/// privilege escalation or the interpreter. The host's own SSH host keys are facts, not
/// settings.
pub fn is_restricted(var: &str) -> bool {
    if var.starts_with("ansible_ssh_host_key_") {
        return false;
    }
    CONNECTION.contains(&var)
        || PREFIXES.iter().any(|p| var.starts_with(p))
        || (var.starts_with("ansible_") && var.ends_with("_interpreter"))
}

/// The facts a module returned, named without the `ansible_` prefix (as `ansible_facts`
/// holds them), minus restricted ones; and the variable names that were dropped.
pub fn clean(facts: &Map) -> (Map, Vec<String>) {
    let mut kept = Map::new();
    let mut dropped = Vec::new();
    for (k, v) in facts {
        let name = k.strip_prefix("ansible_").unwrap_or(k);
        let var = format!("ansible_{name}");
        if is_restricted(&var) || name.is_empty() {
            dropped.push(var);
        } else {
            kept.insert(name.to_string(), v.clone());
        }
    }
    (kept, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    #[test]
    fn restricted_names_table() {
        let cases = [
            ("ansible_host", true),
            ("ansible_port", true),
            ("ansible_user", true),
            ("ansible_connection", true),
            ("ansible_ssh_common_args", true),
            ("ansible_ssh_executable", true),
            ("ansible_ssh_host", true),
            ("ansible_become", true),
            ("ansible_become_pass", true),
            ("ansible_become_user", true),
            ("ansible_python_interpreter", true),
            ("ansible_host_key_checking", true),
            ("ansible_facts", true),
            ("ansible_ssh_host_key_ed25519_public", false),
            ("ansible_hostname", false),
            ("ansible_user_id", false),
            ("ansible_env", false),
            ("ansible_local", false),
            ("ansible_distribution", false),
        ];
        for (var, want) in cases {
            assert_eq!(is_restricted(var), want, "{var}");
        }
    }

    #[test]
    fn clean_strips_the_prefix_and_drops_connection_names() {
        let mut f = Map::new();
        f.insert("hostname".into(), Value::str("n1"));
        f.insert("ansible_fqdn".into(), Value::str("n1.example"));
        f.insert("host".into(), Value::str("10.9.9.9"));
        f.insert("ansible_port".into(), Value::Int(1));
        f.insert("ssh_common_args".into(), Value::str("-o ProxyCommand=evil"));
        f.insert("become_user".into(), Value::str("root"));
        let (kept, mut dropped) = clean(&f);
        dropped.sort();
        assert_eq!(
            kept.keys().cloned().collect::<Vec<_>>(),
            vec!["hostname".to_string(), "fqdn".to_string()]
        );
        assert_eq!(
            dropped,
            vec![
                "ansible_become_user",
                "ansible_host",
                "ansible_port",
                "ansible_ssh_common_args"
            ]
        );
    }
}
