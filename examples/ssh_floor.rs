//! The floor: what SSH itself costs for the fleet workload, with no engine in the way.
//!
//! One persistent russh session per host (the project's own connection stage), all hosts at
//! once (at most `--forks` at a time), then `--commands` trivial commands per host, one after
//! another. Two ways to run a command, chosen with `--per-command`:
//! - `channel`: a new SSH channel for every command (sshd forks and sets up a session each
//!   time, and the login shell reads its rc files each time);
//! - `shell`: one long-lived shell channel per host, a command is one round trip in it (the path
//!   the engine takes for plain commands).
//!
//! Hosts are those `../shared/bench/sshlab up N DIR` starts: 127.0.0.1, ports from
//! `--first-port`, user root, key `DIR/id_ed25519`, host keys in `DIR/known_hosts`.
//!
//!   cargo run --release --example ssh_floor -- --lab /tmp/sshlab --hosts 50
//!
//! Prints one line per phase and a last line `wall_ms=N` (connect + commands + close).

use play::connection::known_hosts::StrictMode;
use play::connection::options::{LocalEnv, SshOptions};
use play::connection::ssh::SshConnector;
use play::connection::{Connection, ExecRequest};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

#[derive(Clone, Copy, PartialEq, Eq)]
enum PerCommand {
    Channel,
    Shell,
}

struct Args {
    lab: PathBuf,
    hosts: u16,
    first_port: u16,
    commands: usize,
    forks: usize,
    per_command: PerCommand,
}

const USAGE: &str = "ssh_floor --lab DIR [--hosts 50] [--first-port 22001] [--commands 10] \
                     [--forks HOSTS] [--per-command channel|shell]";

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        lab: PathBuf::from("/tmp/sshlab"),
        hosts: 50,
        first_port: 22001,
        commands: 10,
        forks: 0,
        per_command: PerCommand::Channel,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value\nusage: {USAGE}"));
        let num = |v: String| v.parse::<usize>().map_err(|e| format!("{flag} {v}: {e}"));
        match flag.as_str() {
            "--lab" => a.lab = PathBuf::from(value()?),
            "--hosts" => a.hosts = u16::try_from(num(value()?)?).map_err(|e| format!("--hosts: {e}"))?,
            "--first-port" => a.first_port = u16::try_from(num(value()?)?).map_err(|e| format!("--first-port: {e}"))?,
            "--commands" => a.commands = num(value()?)?,
            "--forks" => a.forks = num(value()?)?,
            "--per-command" => {
                a.per_command = match value()?.as_str() {
                    "channel" => PerCommand::Channel,
                    "shell" => PerCommand::Shell,
                    other => return Err(format!("--per-command {other}: use channel or shell")),
                }
            }
            "-h" | "--help" => return Err(format!("usage: {USAGE}")),
            other => return Err(format!("unknown argument {other}\nusage: {USAGE}")),
        }
    }
    if a.forks == 0 {
        a.forks = usize::from(a.hosts);
    }
    if a.first_port.checked_add(a.hosts.saturating_sub(1)).is_none() {
        return Err("--first-port + --hosts goes past port 65535".into());
    }
    Ok(a)
}

fn options(a: &Args, i: u16) -> SshOptions {
    let name = format!("h{:03}", i + 1);
    let mut o = SshOptions::new(name, "127.0.0.1", "root");
    o.port = a.first_port + i;
    o.identity_files = vec![a.lab.join("id_ed25519")];
    o.host_keys.files = vec![a.lab.join("known_hosts")];
    o.host_keys.mode = StrictMode::Strict;
    o
}

/// What one host took: connecting, then its commands.
struct HostTimes {
    connect: Duration,
    commands: Duration,
}

async fn one_host(connector: Arc<SshConnector>, opts: SshOptions, a: Arc<Args>) -> Result<HostTimes, String> {
    let start = Instant::now();
    let conn = connector.connect(&opts).await.map_err(|e| e.to_string())?;
    let connect = start.elapsed();
    // A time limit sends a command down its own channel; without one the connection uses its
    // long-lived shell.
    let req = match a.per_command {
        PerCommand::Channel => ExecRequest::new("true").timeout(Duration::from_secs(60)),
        PerCommand::Shell => ExecRequest::new("true"),
    };
    for n in 0..a.commands {
        let out = conn.exec(&req).await.map_err(|e| e.to_string())?;
        if out.rc != 0 {
            return Err(format!("{}: command {n} exited {}", opts.label, out.rc));
        }
    }
    let commands = start.elapsed().saturating_sub(connect);
    conn.close().await.map_err(|e| e.to_string())?;
    Ok(HostTimes { connect, commands })
}

async fn run(a: Args) -> Result<(), String> {
    let a = Arc::new(a);
    let connector = Arc::new(SshConnector::new(&LocalEnv::from_process()));
    let forks = Arc::new(Semaphore::new(a.forks.max(1)));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..a.hosts {
        let (connector, opts, a, forks) = (connector.clone(), options(&a, i), a.clone(), forks.clone());
        tasks.spawn(async move {
            let _slot = forks.acquire_owned().await.map_err(|e| e.to_string())?;
            one_host(connector, opts, a).await
        });
    }
    let mut times = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        times.push(joined.map_err(|e| e.to_string())??);
    }
    let wall = start.elapsed();
    connector.close().await;
    let max = |f: fn(&HostTimes) -> Duration| times.iter().map(f).max().unwrap_or_default().as_millis();
    let how = match a.per_command {
        PerCommand::Channel => "one channel per command",
        PerCommand::Shell => "one shell per host",
    };
    println!(
        "floor ({how}): {} hosts x {} commands, forks {}",
        a.hosts, a.commands, a.forks
    );
    println!(
        "slowest host: connect {} ms, commands {} ms",
        max(|t| t.connect),
        max(|t| t.commands)
    );
    println!("wall_ms={}", wall.as_millis());
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ssh_floor: {e}");
            ExitCode::FAILURE
        }
    }
}
