use super::*;
use std::collections::HashMap;
use std::path::Path;

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Fixture {
    /// A tree with a project dir (cwd), a home dir, an "etc" dir and a playbook.
    fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().to_path_buf();
        for d in ["proj", "home", "etc", "elsewhere"] {
            std::fs::create_dir_all(root.join(d)).expect("mkdir");
        }
        #[cfg(unix)]
        {
            // Temp dirs may be created world-writable by a umask; the project dir must not be.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(root.join("proj"), std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        std::fs::write(root.join("proj/site.yml"), "- hosts: all\n").expect("write");
        Fixture { _dir: dir, root }
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.root.join(rel);
        std::fs::write(&p, text).expect("write");
        p
    }

    fn env(&self, vars: &[(&str, &str)]) -> Environment {
        Environment {
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<HashMap<_, _>>(),
            home: Some(self.root.join("home")),
            cwd: self.root.join("proj"),
            system_config: self.root.join("etc/ansible.cfg"),
        }
    }

    fn opts(&self, extra: impl FnOnce(&mut Options)) -> Options {
        let mut o = Options {
            playbooks: vec!["site.yml".into()],
            ..Options::default()
        };
        extra(&mut o);
        o
    }

    fn load(&self, vars: &[(&str, &str)], extra: impl FnOnce(&mut Options)) -> Result<RunConfig> {
        RunConfig::load(self.opts(extra), &self.env(vars))
    }
}

#[test]
fn defaults_without_any_config() {
    let f = Fixture::new();
    let rc = f.load(&[], |_| {}).expect("loads");
    assert_eq!(rc.config_file, None);
    assert_eq!((rc.forks, rc.timeout, rc.host_key_checking), (5, 10, true));
    assert!(!rc.retry_files, "ansible-core writes retry files only when enabled");
    assert_eq!(rc.remote_user, None);
    assert_eq!(rc.inventories, [InventorySource::Path("/etc/ansible/hosts".into())]);
    assert_eq!(
        rc.roles_path,
        [
            f.root.join("home/.ansible/roles"),
            "/usr/share/ansible/roles".into(),
            "/etc/ansible/roles".into()
        ]
    );
    assert_eq!(
        (rc.become_method.as_str(), rc.become_user.as_str(), rc.r#become),
        ("sudo", "root", false)
    );
    assert_eq!(rc.connection, "ssh");
    assert_eq!(rc.tags, ["all"]);
    assert_eq!(rc.playbooks, [f.root.join("proj/site.yml")]);
    assert!(rc.vault_ids.is_empty());
}

#[test]
fn config_discovery_order_first_found_wins() {
    // (files present, ANSIBLE_CONFIG, expected winner)
    let cases: &[(&[&str], Option<&str>, Option<&str>)] = &[
        (&["etc/ansible.cfg"], None, Some("etc/ansible.cfg")),
        (
            &["etc/ansible.cfg", "home/.ansible.cfg"],
            None,
            Some("home/.ansible.cfg"),
        ),
        (
            &["etc/ansible.cfg", "home/.ansible.cfg", "proj/ansible.cfg"],
            None,
            Some("proj/ansible.cfg"),
        ),
        (
            &["proj/ansible.cfg", "elsewhere/custom.cfg"],
            Some("elsewhere/custom.cfg"),
            Some("elsewhere/custom.cfg"),
        ),
        // A directory in ANSIBLE_CONFIG means its ansible.cfg.
        (
            &["proj/ansible.cfg", "elsewhere/ansible.cfg"],
            Some("elsewhere"),
            Some("elsewhere/ansible.cfg"),
        ),
        // A missing ANSIBLE_CONFIG falls through to the next place, as in Ansible.
        (
            &["home/.ansible.cfg"],
            Some("elsewhere/missing.cfg"),
            Some("home/.ansible.cfg"),
        ),
        (&[], None, None),
    ];
    for (files, from_env, want) in cases {
        let f = Fixture::new();
        for file in *files {
            f.write(file, "[defaults]\n");
        }
        let env_value = from_env.map(|e| f.root.join(e).display().to_string());
        let vars: Vec<(&str, &str)> = env_value.iter().map(|v| ("ANSIBLE_CONFIG", v.as_str())).collect();
        let rc = f.load(&vars, |_| {}).expect("loads");
        assert_eq!(
            rc.config_file,
            want.map(|w| f.root.join(w)),
            "files {files:?}, ANSIBLE_CONFIG {from_env:?}"
        );
    }
}

#[cfg(unix)]
#[test]
fn world_writable_cwd_config_is_skipped_with_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new();
    f.write("proj/ansible.cfg", "[defaults]\nforks = 50\n");
    f.write("home/.ansible.cfg", "[defaults]\nforks = 7\n");
    std::fs::set_permissions(f.root.join("proj"), std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let rc = f.load(&[], |_| {}).expect("loads");
    assert_eq!(rc.forks, 7);
    assert!(
        rc.warnings.iter().any(|w| w.contains("world writable")),
        "{:?}",
        rc.warnings
    );
}

#[test]
fn precedence_cli_over_env_over_cfg_over_default() {
    let f = Fixture::new();
    f.write(
        "proj/ansible.cfg",
        "[defaults]\nforks = 20\ntimeout = 30\nremote_user = cfguser\nhost_key_checking = False\ntransport = local\n\
         [privilege_escalation]\nbecome = yes\nbecome_user = cfgbecome\nbecome_method = su\n[ssh_connection]\nssh_args = -o A=1\npipelining = true\n",
    );
    let both = f.load(&[], |_| {}).expect("loads");
    assert_eq!(
        (
            both.forks,
            both.timeout,
            both.remote_user.as_deref(),
            both.host_key_checking
        ),
        (20, 30, Some("cfguser"), false)
    );
    assert_eq!(
        (both.r#become, both.become_user.as_str(), both.become_method.as_str()),
        (true, "cfgbecome", "su")
    );
    assert_eq!(
        (both.ssh_args.as_str(), both.pipelining, both.connection.as_str()),
        ("-o A=1", true, "local")
    );

    let env = [
        ("ANSIBLE_FORKS", "40"),
        ("ANSIBLE_REMOTE_USER", "envuser"),
        ("ANSIBLE_HOST_KEY_CHECKING", "yes"),
        ("ANSIBLE_BECOME_USER", "envbecome"),
        ("ANSIBLE_SSH_ARGS", "-o B=2"),
    ];
    let rc = f.load(&env, |_| {}).expect("loads");
    assert_eq!(
        (rc.forks, rc.timeout, rc.remote_user.as_deref(), rc.host_key_checking),
        (40, 30, Some("envuser"), true)
    );
    assert_eq!((rc.become_user.as_str(), rc.ssh_args.as_str()), ("envbecome", "-o B=2"));

    let rc = f
        .load(&env, |o| {
            o.forks = Some(3);
            o.remote_user = Some("cliuser".into());
            o.become_user = Some("clibecome".into());
            o.timeout = Some(1);
            o.connection = Some("ssh".into());
        })
        .expect("loads");
    assert_eq!(
        (
            rc.forks,
            rc.timeout,
            rc.remote_user.as_deref(),
            rc.become_user.as_str(),
            rc.connection.as_str()
        ),
        (3, 1, Some("cliuser"), "clibecome", "ssh")
    );
}

#[test]
fn become_is_read_only_from_privilege_escalation_as_in_ansible() {
    let f = Fixture::new();
    f.write("proj/ansible.cfg", "[defaults]\nbecome = yes\nbecome_user = nope\n");
    let rc = f.load(&[], |_| {}).expect("loads");
    assert_eq!((rc.r#become, rc.become_user.as_str()), (false, "root"));
}

#[test]
fn cfg_relative_paths_are_relative_to_the_cfg_file() {
    let f = Fixture::new();
    let cfg = f.write(
        "elsewhere/ansible.cfg",
        "[defaults]\ninventory = inv/hosts.yml, /abs/hosts\nroles_path = roles:~/shared-roles:../proj/roles\nprivate_key_file = keys/id\n\
         vault_password_file = ~/.vault_pass\n",
    );
    let rc = f
        .load(&[("ANSIBLE_CONFIG", &cfg.display().to_string())], |_| {})
        .expect("loads");
    let e = f.root.join("elsewhere");
    assert_eq!(
        rc.inventories,
        [
            InventorySource::Path(e.join("inv/hosts.yml")),
            InventorySource::Path("/abs/hosts".into())
        ]
    );
    assert_eq!(
        rc.roles_path,
        [
            e.join("roles"),
            f.root.join("home/shared-roles"),
            f.root.join("proj/roles")
        ]
    );
    assert_eq!(rc.private_key_file, Some(e.join("keys/id")));
    assert_eq!(
        rc.vault_ids,
        [VaultId {
            label: "default".into(),
            source: Source::File(f.root.join("home/.vault_pass"))
        }]
    );

    // The same settings from the environment are relative to the current directory.
    let rc = f
        .load(
            &[
                ("ANSIBLE_INVENTORY", "a.ini,b.ini"),
                ("ANSIBLE_ROLES_PATH", "r1:r2"),
                ("ANSIBLE_PRIVATE_KEY_FILE", "k"),
            ],
            |_| {},
        )
        .expect("loads");
    let p = f.root.join("proj");
    assert_eq!(
        rc.inventories,
        [
            InventorySource::Path(p.join("a.ini")),
            InventorySource::Path(p.join("b.ini"))
        ]
    );
    assert_eq!(rc.roles_path, [p.join("r1"), p.join("r2")]);
    assert_eq!(rc.private_key_file, Some(p.join("k")));
}

#[test]
fn cli_inventories_may_be_host_lists() {
    let f = Fixture::new();
    let rc = f
        .load(&[("ANSIBLE_INVENTORY", "ignored")], |o| {
            o.inventories = vec!["hosts.yml".into(), "web1,web2,".into(), "~/inv".into()]
        })
        .expect("loads");
    assert_eq!(
        rc.inventories,
        [
            InventorySource::Path(f.root.join("proj/hosts.yml")),
            InventorySource::HostList("web1,web2,".into()),
            InventorySource::Path(f.root.join("home/inv"))
        ]
    );
}

type EnvPairs = &'static [(&'static str, &'static str)];

#[test]
fn retry_files_follow_retry_files_enabled() {
    let f = Fixture::new();
    f.write("proj/ansible.cfg", "[defaults]\nretry_files_enabled = True\n");
    assert!(f.load(&[], |_| {}).expect("loads").retry_files);
    let off = f.load(&[("ANSIBLE_RETRY_FILES_ENABLED", "no")], |_| {}).expect("loads");
    assert!(!off.retry_files, "the environment wins over ansible.cfg");
}

#[test]
fn unknown_keys_are_ignored_and_bad_values_name_their_origin() {
    let f = Fixture::new();
    f.write(
        "proj/ansible.cfg",
        "[defaults]\nretry_files_enabled = False\ngathering = smart\n[colors]\nok = green\n",
    );
    assert!(f.load(&[], |_| {}).is_ok());

    let cases: &[(&str, EnvPairs, &str)] = &[
        ("[defaults]\nforks = many\n", &[], "ansible.cfg:2:1: invalid forks"),
        (
            "[defaults]\nhost_key_checking = flase\n",
            &[],
            "ansible.cfg:2:1: invalid host_key_checking",
        ),
        (
            "[defaults]\n",
            &[("ANSIBLE_TIMEOUT", "soon")],
            "invalid timeout (from environment variable ANSIBLE_TIMEOUT)",
        ),
        ("[defaults]\nforks = 0\n", &[], "forks must be at least 1"),
        ("[defaults]\n", &[("ANSIBLE_FORKS", "-2")], "forks must be at least 1"),
        ("[defaults\n", &[], "ansible.cfg:1:1: invalid configuration file"),
    ];
    for (cfg, env, want) in cases {
        f.write("proj/ansible.cfg", cfg);
        let e = f.load(env, |_| {}).expect_err("must fail");
        assert!(e.to_string().contains(want), "{cfg:?} {env:?}: {e}");
    }
}

#[test]
fn vault_ids_in_ansible_order() {
    let f = Fixture::new();
    f.write(
        "proj/ansible.cfg",
        "[defaults]\nvault_identity_list = ops@ops.txt, prompt\nvault_password_file = cfg.pw\n",
    );
    let rc = f
        .load(&[], |o| {
            o.vault_ids = vec!["prod@/p/prod.pw".into()];
            o.vault_password_files = vec!["cli.pw".into()];
            o.ask_vault_pass = true;
        })
        .expect("loads");
    let p = f.root.join("proj");
    let file = |l: &str, path: PathBuf| VaultId {
        label: l.into(),
        source: Source::File(path),
    };
    assert_eq!(
        rc.vault_ids,
        [
            file("ops", p.join("ops.txt")),
            VaultId {
                label: "default".into(),
                source: Source::Prompt
            },
            file("prod", "/p/prod.pw".into()),
            file("default", p.join("cli.pw")),
            file("default", p.join("cfg.pw")),
        ]
    );
}

#[test]
fn step_is_refused_rather_than_ignored() {
    let f = Fixture::new();
    let e = f
        .load(&[], |o| o.step = true)
        .expect_err("--step must not run every task unasked");
    assert!(e.to_string().contains("--step is not supported yet"), "{e}");
    assert!(f.load(&[], |_| {}).is_ok());
}

#[test]
fn playbooks_must_exist_and_tags_merge() {
    let f = Fixture::new();
    let e = f
        .load(&[], |o| o.playbooks = vec!["missing.yml".into()])
        .expect_err("must fail");
    assert!(e.to_string().contains("missing.yml could not be found"), "{e}");
    let e = f
        .load(&[], |o| o.playbooks = vec![Path::new(".").into()])
        .expect_err("must fail");
    assert!(e.to_string().contains("not a file"), "{e}");

    f.write("proj/ansible.cfg", "[tags]\nrun = a, b\nskip = s\n");
    let rc = f.load(&[], |o| o.tags = vec!["b".into(), "c".into()]).expect("loads");
    assert_eq!(
        (rc.tags, rc.skip_tags),
        (vec!["a".to_string(), "b".into(), "c".into()], vec!["s".to_string()])
    );
    std::fs::remove_file(f.root.join("proj/ansible.cfg")).expect("rm");
    assert_eq!(
        f.load(&[], |o| o.list_tags = true).expect("loads").tags,
        ["never", "all"]
    );
}

#[test]
fn ask_flags_come_from_config_unless_a_password_file_is_given() {
    let f = Fixture::new();
    f.write(
        "proj/ansible.cfg",
        "[defaults]\nask_pass = yes\n[privilege_escalation]\nbecome_ask_pass = true\n",
    );
    let rc = f.load(&[], |_| {}).expect("loads");
    assert!(rc.ask_pass && rc.ask_become_pass);
    let rc = f
        .load(&[], |o| o.become_password_file = Some("bp".into()))
        .expect("loads");
    assert!(!rc.ask_become_pass && rc.ask_pass);
    assert_eq!(rc.become_password_file, Some(f.root.join("proj/bp")));
}
