//! The lab of `lab/lab` for end-to-end tests: every test brings up a lab of its own (its own
//! namespaces, addresses, state directory, inventory and cluster store), so tests run side by
//! side, and takes it down on drop, also when the test panics. Needs root: network namespaces.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::Outcome;

pub struct Lab {
    /// Namespace and interface prefix (`LAB_NAME`): short, unique per test.
    pub name: String,
    /// Second octet of the lab's addresses (`LAB_NET`): unique per test, 77 is the user's lab.
    pub net: u8,
    /// State directory (`LAB_DIR`): keys, configs, etcd data, per-host files, the store.
    pub dir: PathBuf,
    /// Where `up` wrote hosts.yml and group_vars.
    pub inventory_dir: PathBuf,
}

pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

impl Lab {
    /// `lab/lab up` under `name`/`net`. Panics (never skips) when the machine cannot host it.
    pub fn up(name: &str, net: u8) -> Lab {
        assert!(
            is_root(),
            "the lab end-to-end tests need root (network namespaces); .ci/run runs as root"
        );
        let dir = std::env::temp_dir().join(format!("play-{name}-{}", std::process::id()));
        let lab = Lab {
            name: name.to_string(),
            net,
            inventory_dir: dir.join("inventory"),
            dir,
        };
        // A lab left by an earlier, killed run of the same test would hold the names.
        let _ = lab.lab(&["down", "--purge"]);
        let out = lab.lab(&["up"]);
        assert!(out.status.success(), "lab/lab up failed:\n{}", text(&out));
        lab
    }

    /// Run `lab/lab ARGS` for this lab.
    pub fn lab(&self, args: &[&str]) -> Output {
        Command::new(repo_root().join("lab/lab"))
            .args(args)
            .envs(self.env())
            .output()
            .expect("lab/lab runs")
    }

    /// Run one of lab/kube-store's tools (`status`, `fault`, ...) against this lab's store.
    pub fn kube_store(&self, tool: &str, args: &[&str]) -> Output {
        Command::new(repo_root().join("lab/kube-store").join(tool))
            .args(args)
            .envs(self.env())
            .env("KUBE_LAB_STORE", self.store_path())
            .output()
            .expect("a lab/kube-store tool runs")
    }

    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("LAB_NAME", self.name.clone()),
            ("LAB_NET", self.net.to_string()),
            ("LAB_DIR", self.dir.display().to_string()),
            ("LAB_INVENTORY", self.inventory_dir.display().to_string()),
        ]
    }

    pub fn inventory(&self) -> PathBuf {
        self.inventory_dir.join("hosts.yml")
    }

    pub fn store_path(&self) -> PathBuf {
        self.dir.join("kube-store.json")
    }

    /// The cluster store as the stand-ins keep it.
    pub fn store(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(self.store_path()).expect("the lab store exists");
        serde_json::from_str(&text).expect("the lab store is JSON")
    }

    /// A lab host's own directory (the hosts share this machine's file system).
    pub fn host_dir(&self, host: &str) -> PathBuf {
        self.dir.join("hosts").join(host)
    }

    /// Run `play PLAYBOOK -i <this lab> ARGS...` from the repository root, as a user would, with
    /// the run journal kept in the lab's state directory.
    pub fn play(&self, playbook: &str, args: &[&str]) -> Outcome {
        let inventory = self.inventory().display().to_string();
        let mut all = vec![playbook, "-i", inventory.as_str()];
        all.extend_from_slice(args);
        self.play_args(&all)
    }

    /// `play ARGS...` (e.g. `runs PLAYBOOK latest`) with the same environment as [`Lab::play`].
    pub fn play_args(&self, args: &[&str]) -> Outcome {
        let out = self.play_command(args).output().expect("the play binary runs");
        Outcome {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// The command [`Lab::play_args`] runs, for a test that spawns (and kills) it itself.
    pub fn play_command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_play"));
        cmd.args(args)
            .current_dir(repo_root())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", "/nonexistent-home")
            .env("NO_COLOR", "1")
            .env("PLAY_STATE_DIR", self.state_dir());
        cmd
    }

    /// `PLAY_STATE_DIR` of every run: the journals are in its `runs/`.
    pub fn state_dir(&self) -> PathBuf {
        self.dir.join("play-state")
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.lab(&["down", "--purge"]);
        // A process that was still exiting can write into the state dir while it is removed.
        if self.dir.exists() {
            std::thread::sleep(std::time::Duration::from_secs(1));
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

pub fn text(out: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}
