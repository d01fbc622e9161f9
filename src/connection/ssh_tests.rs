//! SSH connection tests against real OpenSSH servers started by [`super::test_sshd`].

use super::known_hosts::StrictMode;
use super::ssh::{SshConnection, SshConnector};
use super::ssh_args::SshArgs;
use super::ssh_config::SshConfig;
use super::test_sshd::{Lab, Sshd, current_user, keygen, new_key};
use super::{Connection, Error, ErrorKind, ExecRequest, HostKeyProblem, PutFile};
use crate::connection::options::{InventorySsh, LocalEnv, Secret, SshOptions};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn opts(lab: &Lab, sshd: &Sshd) -> SshOptions {
    let mut o = SshOptions::new(format!("h{}", sshd.port), sshd.addr.clone(), current_user());
    o.port = sshd.port;
    o.identity_files = vec![lab.key.clone()];
    o.host_keys.files = vec![lab.known_hosts.clone()];
    o
}

async fn connect(o: &SshOptions) -> Result<SshConnection, Error> {
    SshConnector::new(&LocalEnv::default()).connect(o).await
}

fn ok<T>(r: Result<T, Error>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn exec_reports_rc_stdout_stderr_and_feeds_stdin() {
    let lab = Lab::new();
    let sshd = lab.sshd("127.0.0.1", "");
    lab.trust(&sshd);
    rt().block_on(async {
        let c = ok(connect(&opts(&lab, &sshd)).await);
        let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let cases: Vec<(ExecRequest, i32, Vec<u8>, Vec<u8>)> = vec![
            (
                ExecRequest::new("echo out; echo err >&2; exit 3"),
                3,
                b"out\n".to_vec(),
                b"err\n".to_vec(),
            ),
            (
                ExecRequest::new("tr a-z A-Z").stdin("hello"),
                0,
                b"HELLO".to_vec(),
                vec![],
            ),
            (
                ExecRequest::new("printf %s \"$X\"").env("X", "a b'c $(id)"),
                0,
                b"a b'c $(id)".to_vec(),
                vec![],
            ),
            (ExecRequest::new("cat"), 0, vec![], vec![]),
            (ExecRequest::new("cat").stdin(big.clone()), 0, big.clone(), vec![]),
            (ExecRequest::new("kill -9 $$"), 137, vec![], vec![]),
        ];
        for (req, rc, out, err) in cases {
            let got = ok(c.exec(&req).await);
            // stderr may also carry noise from the login shell's rc files on the test machine.
            assert_eq!((got.rc, got.stdout.len()), (rc, out.len()), "{}", req.command);
            assert!(
                got.stderr_lossy().contains(&*String::from_utf8_lossy(&err)),
                "{}",
                req.command
            );
            assert!(got.stdout == out, "{}", req.command);
        }
        let start = Instant::now();
        let r = c
            .exec(&ExecRequest::new("sleep 10").timeout(Duration::from_millis(300)))
            .await;
        assert!(
            matches!(
                r,
                Err(Error {
                    kind: ErrorKind::CommandTimeout { .. },
                    ..
                })
            ),
            "{r:?}"
        );
        assert!(start.elapsed() < Duration::from_secs(3));
        // The connection still works after a timed-out command.
        assert_eq!(ok(c.exec(&ExecRequest::new("echo again")).await).stdout, b"again\n");
        ok(c.close().await);
    });
}

#[test]
fn thirty_concurrent_execs_share_one_connection_despite_max_sessions() {
    let lab = Lab::new();
    let sshd = lab.sshd("127.0.0.1", "MaxSessions 10");
    lab.trust(&sshd);
    rt().block_on(async {
        let c = Arc::new(ok(connect(&opts(&lab, &sshd)).await));
        let mut set = tokio::task::JoinSet::new();
        for i in 0..30 {
            let c = c.clone();
            set.spawn(async move { (i, c.exec(&ExecRequest::new(format!("sleep 0.2; echo {i}"))).await) });
        }
        let mut done = 0;
        while let Some(r) = set.join_next().await {
            let (i, out) = r.unwrap_or_else(|e| panic!("{e}"));
            let out = ok(out);
            assert_eq!((out.rc, out.stdout_lossy()), (0, format!("{i}\n")));
            done += 1;
        }
        assert_eq!(done, 30);
    });
    // One TCP connection carried them all.
    assert_eq!(
        sshd.log_text().matches("Accepted publickey").count(),
        1,
        "{}",
        sshd.log_text()
    );
}

#[test]
fn put_file_atomically_with_mode_and_get_file() {
    let lab = Lab::new();
    let sshd = lab.sshd("127.0.0.1", "");
    lab.trust(&sshd);
    let dir = lab.dir.path().join("remote dir");
    let _ = std::fs::create_dir_all(&dir);
    let dest = dir.join("it's a file").display().to_string();
    rt().block_on(async {
        let c = ok(connect(&opts(&lab, &sshd)).await);
        ok(c.put_file(&PutFile::bytes("first\n", dest.clone()).mode(0o640)).await);
        let mut p = PutFile::bytes(vec![0u8, 1, 2, 255], dest.clone());
        p.owner = Some(current_user());
        ok(c.put_file(&p).await);
        assert_eq!(ok(c.get_file(&dest).await), vec![0u8, 1, 2, 255]);
        let src = lab.dir.path().join("local-src");
        let _ = std::fs::write(&src, "from a path");
        let p = PutFile {
            content: super::FileContent::LocalPath(src),
            ..PutFile::bytes("", format!("{dest}2")).mode(0o600)
        };
        ok(c.put_file(&p).await);
        assert_eq!(ok(c.get_file(&format!("{dest}2")).await), b"from a path");
        let e = c
            .get_file("/nonexistent/file")
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("reading /nonexistent/file") && e.contains("No such file"),
            "{e}"
        );
        let e = c
            .put_file(&PutFile::bytes("x", "/nonexistent/dir/f"))
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("writing /nonexistent/dir/f"), "{e}");
    });
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&dest)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or(0);
    assert_eq!(mode, 0o640, "mode kept when replacing without one");
    let names: Vec<String> = std::fs::read_dir(&dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(names.len(), 2, "temp files left: {names:?}");
}

fn host_key_error(r: Result<SshConnection, Error>) -> HostKeyProblem {
    match r {
        Err(Error {
            kind: ErrorKind::HostKey(p),
            ..
        }) => *p,
        Err(e) => panic!("expected a host key error, got {e}"),
        Ok(_) => panic!("expected a host key error, connected"),
    }
}

#[test]
fn strict_host_key_checking_unknown_changed_revoked_hashed() {
    let lab = Lab::new();
    let sshd = lab.sshd("127.0.0.1", "");
    let other = new_key(lab.dir.path(), "other", "ed25519", "");
    let other_pub = std::fs::read_to_string(other.with_extension("pub")).unwrap_or_default();
    let other_key: Vec<&str> = other_pub.split_whitespace().take(2).collect();
    let o = opts(&lab, &sshd);
    let kh = lab.known_hosts.display().to_string();
    rt().block_on(async {
        // Unknown: refused, with the exact command to add it.
        match host_key_error(connect(&o).await) {
            HostKeyProblem::Unknown { .. } => {}
            p => panic!("{p:?}"),
        }
        let e = connect(&o).await.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            e.contains(&format!("ssh-keyscan -p {} 127.0.0.1 >> {kh}", sshd.port)),
            "{e}"
        );

        // Known for port 22 only: accepted, as ssh does when `[host]:port` has no entry.
        let _ = std::fs::write(&lab.known_hosts, format!("127.0.0.1 {}\n", sshd.host_key_pub));
        assert!(connect(&o).await.is_ok());
        // Another key under the bare name: still unknown on this port.
        let _ = std::fs::write(&lab.known_hosts, format!("127.0.0.1 {}\n", other_key.join(" ")));
        assert!(matches!(
            host_key_error(connect(&o).await),
            HostKeyProblem::Unknown { .. }
        ));

        // Changed: names file:line.
        let _ = std::fs::write(
            &lab.known_hosts,
            format!("# x\n[127.0.0.1]:{} {}\n", sshd.port, other_key.join(" ")),
        );
        match host_key_error(connect(&o).await) {
            HostKeyProblem::Changed { file, line, .. } => {
                assert_eq!((file, line), (lab.known_hosts.clone(), 2))
            }
            p => panic!("{p:?}"),
        }

        // Revoked.
        let _ = std::fs::write(
            &lab.known_hosts,
            format!("@revoked * {}\n{}\n", sshd.host_key_pub, sshd.known_hosts_line()),
        );
        assert!(matches!(
            host_key_error(connect(&o).await),
            HostKeyProblem::Revoked { line: 1, .. }
        ));

        // Hashed by ssh-keygen -H: accepted.
        let _ = std::fs::write(&lab.known_hosts, format!("{}\n", sshd.known_hosts_line()));
        keygen(&["-q", "-H", "-f", &kh]);
        assert!(
            std::fs::read_to_string(&lab.known_hosts)
                .unwrap_or_default()
                .starts_with("|1|")
        );
        let c = ok(connect(&o).await);
        assert_eq!(ok(c.exec(&ExecRequest::new("echo ok")).await).stdout, b"ok\n");

        // Several files: the key is found in the second.
        let mut o2 = o.clone();
        o2.host_keys.files = vec![lab.dir.path().join("missing"), lab.known_hosts.clone()];
        ok(connect(&o2).await);

        // Off: anything goes.
        let mut off = o.clone();
        off.host_keys.files = vec![lab.dir.path().join("empty")];
        off.host_keys.mode = StrictMode::Off;
        ok(connect(&off).await);
    });
    // Refused hosts never saw an authentication attempt: four logins, all accepted ones.
    assert_eq!(
        sshd.log_text().matches("Accepted publickey").count(),
        4,
        "{}",
        sshd.log_text()
    );
}

#[test]
fn accept_new_records_each_key_once_under_fifty_parallel_first_contacts() {
    let lab = Lab::new();
    let hosts: Vec<Sshd> = (0..5)
        .map(|_| lab.sshd("127.0.0.1", "MaxStartups 100:30:200"))
        .collect();
    let _ = std::fs::remove_file(&lab.known_hosts);
    rt().block_on(async {
        let connector = Arc::new(SshConnector::new(&LocalEnv::default()));
        let mut set = tokio::task::JoinSet::new();
        for i in 0..50 {
            let mut o = opts(&lab, &hosts[i % 5]);
            o.host_keys.mode = StrictMode::AcceptNew;
            let connector = connector.clone();
            set.spawn(async move {
                let c = connector.connect(&o).await?;
                c.exec(&ExecRequest::new("true")).await
            });
        }
        while let Some(r) = set.join_next().await {
            assert_eq!(ok(r.unwrap_or_else(|e| panic!("{e}"))).rc, 0);
        }
    });
    let text = std::fs::read_to_string(&lab.known_hosts).unwrap_or_default();
    assert_eq!(text.lines().count(), 5, "{text}");
    for h in &hosts {
        assert_eq!(text.lines().filter(|l| *l == h.known_hosts_line()).count(), 1, "{text}");
    }
}

#[test]
fn key_types_and_passphrases() {
    let lab = Lab::new();
    let sshd = lab.sshd("127.0.0.1", "");
    lab.trust(&sshd);
    let keys: Vec<(PathBuf, Option<&str>)> = vec![
        (new_key(lab.dir.path(), "k_ed", "ed25519", ""), None),
        (new_key(lab.dir.path(), "k_rsa", "rsa", ""), None),
        (new_key(lab.dir.path(), "k_ecdsa", "ecdsa", ""), None),
        (
            new_key(lab.dir.path(), "k_pass", "ed25519", "s3cret-phrase"),
            Some("s3cret-phrase"),
        ),
    ];
    for (k, _) in &keys {
        lab.authorize(k);
    }
    rt().block_on(async {
        for (k, pass) in &keys {
            let mut o = opts(&lab, &sshd);
            o.identity_files = vec![k.clone()];
            o.passphrase = pass.map(Secret::new);
            let c = connect(&o).await.unwrap_or_else(|e| panic!("{}: {e}", k.display()));
            assert_eq!(ok(c.exec(&ExecRequest::new("echo in")).await).stdout, b"in\n");
        }
        let mut o = opts(&lab, &sshd);
        o.identity_files = vec![lab.dir.path().join("k_pass")];
        let e = connect(&o).await.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("encrypted") && e.contains("k_pass"), "{e}");
        o.passphrase = Some(Secret::new("wrong-phrase-xyz"));
        let e = connect(&o)
            .await
            .err()
            .map(|e| format!("{e} {e:?}"))
            .unwrap_or_default();
        assert!(e.contains("k_pass") && !e.contains("wrong-phrase-xyz"), "{e}");

        // A key the server does not know: an Auth error naming what was tried.
        let stranger = new_key(lab.dir.path(), "stranger", "ed25519", "");
        let mut o = opts(&lab, &sshd);
        o.identity_files = vec![stranger];
        o.password = Some(Secret::new("pw-never-shown"));
        let e = connect(&o)
            .await
            .err()
            .map(|e| format!("{e} {e:?}"))
            .unwrap_or_default();
        assert!(
            e.contains("authentication") && e.contains("stranger") && !e.contains("pw-never-shown"),
            "{e}"
        );
    });
}

#[test]
fn agent_keys_authenticate() {
    let lab = Lab::new();
    let sshd = lab.sshd("127.0.0.1", "");
    lab.trust(&sshd);
    let sock = lab.dir.path().join("agent.sock");
    let mut agent = std::process::Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&sock)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("ssh-agent: {e}"));
    let deadline = Instant::now() + Duration::from_secs(5);
    while !sock.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let added = std::process::Command::new("ssh-add")
        .arg(&lab.key)
        .env("SSH_AUTH_SOCK", &sock)
        .output();
    assert!(added.map(|o| o.status.success()).unwrap_or(false), "ssh-add failed");
    let mut o = opts(&lab, &sshd);
    o.identity_files.clear();
    o.agent_socket = Some(sock.clone());
    let r = rt().block_on(async { connect(&o).await.map(|_| ()) });
    let _ = agent.kill();
    let _ = agent.wait();
    ok(r);
}

#[test]
fn connect_timeout_to_a_silent_listener() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    // Accept and hold connections without ever speaking.
    let holder = std::thread::spawn(move || {
        let conn = listener.accept();
        std::thread::sleep(Duration::from_secs(3));
        drop(conn);
    });
    let lab = Lab::new();
    let mut o = SshOptions::new("silent", "127.0.0.1", "root");
    o.port = port;
    o.host_keys.files = vec![lab.known_hosts.clone()];
    o.connect_timeout = Duration::from_millis(800);
    let start = Instant::now();
    let r = rt().block_on(async { connect(&o).await.map(|_| ()) });
    let took = start.elapsed();
    assert!(
        matches!(
            r,
            Err(Error {
                kind: ErrorKind::Timeout { .. },
                ..
            })
        ),
        "{r:?}"
    );
    assert!(took < Duration::from_millis(2500), "took {took:?}");
    let e = r.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("silent") && e.contains("timed out after 0.8s"), "{e}");
    let _ = holder.join();
}

#[test]
fn jump_through_a_bastion_shares_its_session() {
    let lab = Lab::new();
    let bastion = lab.sshd("127.0.0.1", "AllowTcpForwarding yes\nLogLevel DEBUG1");
    let t1 = lab.sshd("127.0.0.2", "");
    let t2 = lab.sshd("127.0.0.2", "");
    for s in [&bastion, &t1, &t2] {
        lab.trust(s);
    }
    let user = current_user();
    let env = LocalEnv {
        home: None,
        user: user.clone(),
        agent_socket: None,
    };
    let common = format!(
        "-o UserKnownHostsFile={} -o ProxyCommand=\"ssh -W %h:%p -q {user}@127.0.0.1 -p {} -i {}\"",
        lab.known_hosts.display(),
        bastion.port,
        lab.key.display()
    );
    let args = SshArgs::parse("t", &common).unwrap_or_else(|e| panic!("{e}"));
    rt().block_on(async {
        let connector = Arc::new(SshConnector::new(&env));
        let mut set = tokio::task::JoinSet::new();
        for t in [&t1, &t2, &t1] {
            let inv = InventorySsh {
                host: Some(t.addr.clone()),
                port: Some(t.port),
                user: Some(user.clone()),
                private_key_file: Some(lab.key.clone()),
                ..InventorySsh::default()
            };
            let o = ok(SshOptions::resolve("t", &inv, &args, &SshConfig::default(), &env));
            assert_eq!(o.jumps.len(), 1);
            let connector = connector.clone();
            set.spawn(async move {
                let c = connector.connect(&o).await?;
                c.exec(&ExecRequest::new("echo through")).await
            });
        }
        while let Some(r) = set.join_next().await {
            assert_eq!(ok(r.unwrap_or_else(|e| panic!("{e}"))).stdout, b"through\n");
        }
        connector.close().await;
    });
    let blog = bastion.log_text();
    assert_eq!(
        blog.matches("Accepted publickey").count(),
        1,
        "one bastion session for all: {blog}"
    );
    for t in [&t1, &t2] {
        assert!(
            blog.contains(&format!("127.0.0.2 port {}", t.port)),
            "bastion forwarded to {}: {blog}",
            t.port
        );
        assert!(t.log_text().contains("Accepted publickey"), "{}", t.log_text());
    }

    // The bastion's own host key is checked too.
    let _ = std::fs::write(&lab.known_hosts, format!("{}\n", t1.known_hosts_line()));
    let mut o = opts(&lab, &t1);
    o.jumps = ok(super::jump::parse_proxy_jump(
        "t",
        &format!("{user}@127.0.0.1:{}", bastion.port),
    ));
    let r = rt().block_on(async { SshConnector::new(&env).connect(&o).await.map(|_| ()) });
    let e = r.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("bastion") && e.contains("not known"), "{e}");
}

#[test]
fn a_connection_lost_mid_command_is_unreachable_a_failing_command_is_not() {
    let lab = Lab::new();
    let sshd = lab.sshd("127.0.0.1", "");
    lab.trust(&sshd);
    let o = opts(&lab, &sshd);
    rt().block_on(async {
        let c = ok(connect(&o).await);
        // A failing command is a result, not a lost connection.
        let out = ok(c.exec(&ExecRequest::new("exit 3")).await);
        assert_eq!(out.rc, 3);
        let req = ExecRequest::new("sleep 30");
        let run = c.exec(&req);
        let reset = async {
            tokio::time::sleep(Duration::from_millis(800)).await;
            let s = &sshd;
            tokio::task::block_in_place(|| s.kill_sessions());
        };
        let start = Instant::now();
        let (r, ()) = tokio::join!(run, reset);
        let e = r.err().unwrap_or_else(|| panic!("the command survived its connection"));
        assert!(e.is_unreachable(), "{e}");
        assert!(e.to_string().contains("was lost while the task ran"), "{e}");
        assert!(start.elapsed() < Duration::from_secs(10));
        assert!(!c.is_alive());
    });
}
