//! Bastions for real: hosts in a network namespace reachable only through sshd bastions in
//! other namespaces ([`netlab`]), reached through `SshOptions::resolve` and
//! `SshConnector::connect` exactly as a run resolves inventory variables and SSH arguments.

#[path = "../../tests/support/netlab.rs"]
mod netlab;

use super::ssh::SshConnector;
use super::ssh_args::SshArgs;
use super::ssh_config::SshConfig;
use super::{Connection, Error, ErrorKind, ExecRequest, HostKeyProblem};
use crate::connection::options::{InventorySsh, LocalEnv, SshOptions};
use netlab::{NetLab, NsSshd};
use std::sync::Arc;
use std::time::Duration;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn env(lab: &NetLab) -> LocalEnv {
    LocalEnv {
        home: Some(lab.dir.path().to_path_buf()),
        user: lab.user.clone(),
        agent_socket: None,
    }
}

/// Options for `target` as a run builds them: inventory variables plus ssh common args.
fn resolve(lab: &NetLab, target: &NsSshd, common_args: &str) -> SshOptions {
    let inv = InventorySsh {
        host: Some(target.addr.clone()),
        port: Some(target.port),
        user: Some(lab.user.clone()),
        private_key_file: Some(lab.key.clone()),
        timeout: Some(Duration::from_secs(5)),
        ..InventorySsh::default()
    };
    let args = SshArgs::parse(&target.name, common_args).unwrap_or_else(|e| panic!("{common_args}: {e}"));
    SshOptions::resolve(&target.name, &inv, &args, &SshConfig::default(), &env(lab))
        .unwrap_or_else(|e| panic!("{common_args}: {e}"))
}

/// `$SSH_CONNECTION` on the far side: proves which server ran the command.
async fn where_am_i(connector: &SshConnector, o: &SshOptions) -> Result<String, Error> {
    let c = connector.connect(o).await?;
    let out = c.exec(&ExecRequest::new("echo $SSH_CONNECTION")).await?;
    let _ = c.close().await;
    Ok(out.stdout_lossy())
}

fn kh(lab: &NetLab) -> String {
    format!("-o UserKnownHostsFile={}", lab.known_hosts.display())
}

#[test]
fn a_private_host_is_reached_through_every_spelling_of_a_bastion() {
    let lab = NetLab::start(1, 1);
    lab.trust_all();
    let (b, p) = (&lab.bastions[0], &lab.private[0]);
    let jump = b.jump_spec(&lab.user);
    let spellings = [
        format!("{} -o ProxyJump={jump}", kh(&lab)),
        format!("{} -J {jump}", kh(&lab)),
        format!(
            "{} -o ProxyCommand=\"ssh -W %h:%p -p {} {}@{}\"",
            kh(&lab),
            b.port,
            lab.user,
            b.addr
        ),
        // Kubespray's form, with the key and host key checking given inside.
        format!(
            "{} -o ProxyCommand=\"ssh -o StrictHostKeyChecking=no -W %h:%p -p {} {}@{} -i {}\"",
            kh(&lab),
            b.port,
            lab.user,
            b.addr,
            lab.key.display()
        ),
    ];
    rt().block_on(async {
        for args in &spellings {
            let o = resolve(&lab, p, args);
            assert_eq!(o.jumps.len(), 1, "{args}");
            let connector = SshConnector::new(&env(&lab));
            let seen = where_am_i(&connector, &o)
                .await
                .unwrap_or_else(|e| panic!("{args}: {e}\n{}", b.log_text()));
            // The private host saw a connection from the bastion's inner address.
            assert!(
                seen.trim_end().ends_with(&format!("{} {}", p.addr, p.port)),
                "{args}: {seen}"
            );
            connector.close().await;
        }

        // Without the bastion the private host cannot be reached at all.
        let mut direct = resolve(&lab, p, &kh(&lab));
        direct.connect_timeout = Duration::from_secs(2);
        let r = where_am_i(&SshConnector::new(&env(&lab)), &direct).await;
        match r {
            Err(e) => assert!(e.is_unreachable(), "{e}"),
            Ok(s) => panic!("reached the private host directly: {s}"),
        }
    });
    assert!(p.logins() >= spellings.len(), "{}", p.log_text());
}

#[test]
fn several_private_hosts_share_one_bastion_session() {
    let lab = NetLab::start(1, 3);
    lab.trust_all();
    let args = lab.common_args();
    rt().block_on(async {
        let connector = Arc::new(SshConnector::new(&env(&lab)));
        let mut set = tokio::task::JoinSet::new();
        for p in lab.private.iter().chain(&lab.private) {
            let o = resolve(&lab, p, &args);
            let (connector, want) = (connector.clone(), format!("{} {}", p.addr, p.port));
            set.spawn(async move { (want, where_am_i(&connector, &o).await) });
        }
        while let Some(r) = set.join_next().await {
            let (want, seen) = r.unwrap_or_else(|e| panic!("{e}"));
            let seen = seen.unwrap_or_else(|e| panic!("{e}"));
            assert!(seen.trim_end().ends_with(&want), "{seen} vs {want}");
        }
        connector.close().await;
    });
    let b = &lab.bastions[0];
    assert_eq!(
        b.logins(),
        1,
        "one bastion session for six connections: {}",
        b.log_text()
    );
    for p in &lab.private {
        assert_eq!(p.logins(), 2, "{}", p.log_text());
    }
}

#[test]
fn unknown_bastion_key_and_changed_target_key_make_the_host_unreachable() {
    let lab = NetLab::start(1, 1);
    let (b, p) = (&lab.bastions[0], &lab.private[0]);
    let khf = lab.known_hosts.display().to_string();
    // Only the target is known: the bastion's key is refused, naming it and the file.
    lab.trust(p);
    let o = resolve(&lab, p, &lab.common_args());
    rt().block_on(async {
        let e = where_am_i(&SshConnector::new(&env(&lab)), &o).await;
        let e = match e {
            Err(
                e @ Error {
                    kind: ErrorKind::HostKey(_),
                    ..
                },
            ) => e,
            other => panic!("expected a host key error, got {other:?}"),
        };
        assert!(e.is_unreachable());
        let text = e.to_string();
        assert!(
            text.contains("bastion") && text.contains(&b.addr) && text.contains(&khf) && text.contains(&p.name),
            "{text}"
        );
        assert_eq!(p.logins(), 0);

        // Kubespray's ProxyCommand with StrictHostKeyChecking=no: ssh would not check the
        // bastion's key, so neither do we (the target's key is still checked).
        let kubespray = format!(
            "{} -o ProxyCommand=\"ssh -o StrictHostKeyChecking=no -W %h:%p -p {} {}@{}\"",
            kh(&lab),
            b.port,
            lab.user,
            b.addr
        );
        let o2 = resolve(&lab, p, &kubespray);
        let seen = where_am_i(&SshConnector::new(&env(&lab)), &o2)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(seen.trim_end().ends_with(&format!("{} {}", p.addr, p.port)), "{seen}");
        assert_eq!(p.logins(), 1);

        // Bastion known, target's key changed: refused, naming the file and line.
        let wrong: Vec<&str> = b.host_key_pub.split_whitespace().take(2).collect();
        let _ = std::fs::write(
            &lab.known_hosts,
            format!(
                "{}\n[{}]:{} {}\n",
                b.known_hosts_line(),
                p.addr,
                p.port,
                wrong.join(" ")
            ),
        );
        let e = where_am_i(&SshConnector::new(&env(&lab)), &o).await;
        match e {
            Err(Error {
                host,
                kind: ErrorKind::HostKey(problem),
            }) => match *problem {
                HostKeyProblem::Changed { file, line, .. } => {
                    assert_eq!(
                        (host.as_str(), file, line),
                        (p.name.as_str(), lab.known_hosts.clone(), 2)
                    )
                }
                other => panic!("{other:?}"),
            },
            other => panic!("expected a changed host key, got {other:?}"),
        }
        assert_eq!(p.logins(), 1);
    });
}

#[test]
fn two_hops_in_one_comma_separated_proxy_jump() {
    let lab = NetLab::start(2, 1);
    lab.trust_all();
    let p = &lab.private[0];
    rt().block_on(async {
        for args in [lab.common_args(), format!("{} -J {}", kh(&lab), lab.proxy_jump())] {
            let o = resolve(&lab, p, &args);
            assert_eq!(o.jumps.len(), 2, "{args}");
            let connector = SshConnector::new(&env(&lab));
            let seen = where_am_i(&connector, &o)
                .await
                .unwrap_or_else(|e| panic!("{args}: {e}"));
            assert!(seen.trim_end().ends_with(&format!("{} {}", p.addr, p.port)), "{seen}");
            connector.close().await;
        }
        // The second bastion alone is out of reach from here.
        let mut direct = resolve(&lab, &lab.bastions[1], &kh(&lab));
        direct.connect_timeout = Duration::from_secs(2);
        assert!(where_am_i(&SshConnector::new(&env(&lab)), &direct).await.is_err());
    });
    assert_eq!(lab.bastions[1].logins(), 2);
}
