//! What a run was asked to do, as the executor needs it (built from the CLI's `RunConfig`).

use crate::connection::options::Secret;

#[derive(Clone, Debug)]
pub struct RunOptions {
    pub forks: usize,
    pub check: bool,
    pub diff: bool,
    pub verbosity: u8,
    pub start_at_task: Option<String>,
    pub force_handlers: bool,
    /// `--connection` (`ssh` or `local`); inventory `ansible_connection` wins.
    pub connection: String,
    pub remote_user: Option<String>,
    pub private_key_file: Option<std::path::PathBuf>,
    /// ansible.cfg `ssh_args`, then `--ssh-common-args`, `--ssh-extra-args`.
    pub ssh_args: String,
    pub ssh_common_args: Option<String>,
    pub ssh_extra_args: Option<String>,
    pub host_key_checking: bool,
    /// Connect timeout in seconds.
    pub timeout: u64,
    pub r#become: bool,
    pub become_method: String,
    pub become_user: String,
    pub become_password: Option<Secret>,
    pub connection_password: Option<Secret>,
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
    /// `roles_path`: where `include_role` looks for roles while the run goes.
    pub roles_path: Vec<std::path::PathBuf>,
    /// Write `<playbook>.retry` beside the playbook when hosts failed.
    pub retry_files: bool,
    /// Opens inline `!vault` values in files included while the run goes.
    pub vault: crate::syntax::vault::VaultSecrets,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            forks: 5,
            check: false,
            diff: false,
            verbosity: 0,
            start_at_task: None,
            force_handlers: false,
            connection: "ssh".into(),
            remote_user: None,
            private_key_file: None,
            ssh_args: String::new(),
            ssh_common_args: None,
            ssh_extra_args: None,
            host_key_checking: true,
            timeout: 10,
            r#become: false,
            become_method: "sudo".into(),
            become_user: "root".into(),
            become_password: None,
            connection_password: None,
            tags: Vec::new(),
            skip_tags: Vec::new(),
            roles_path: Vec::new(),
            retry_files: false,
            vault: Default::default(),
        }
    }
}
