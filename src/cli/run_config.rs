//! The run configuration: command-line options over `ANSIBLE_*` variables over `ansible.cfg`
//! over Ansible's defaults, validated once so later stages just read it.

use super::args::Options;
use super::config::{ConfigFile, Environment, find_config_file};
use super::error::{Error, ErrorKind, Result};
use super::settings::{self as s, Settings};
use crate::syntax::vault::{DEFAULT_LABEL, Source, VaultId};
use std::path::PathBuf;

/// One `-i` (or configured) inventory source.
#[derive(Clone, Debug, PartialEq)]
pub enum InventorySource {
    Path(PathBuf),
    /// A comma-separated host list such as `-i 'web1,web2,'`.
    HostList(String),
}

/// What ansible-playbook does instead of running, when asked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Listing {
    pub hosts: bool,
    pub tasks: bool,
    pub tags: bool,
    pub syntax_check: bool,
    pub plan: bool,
    pub graph: bool,
}

impl Listing {
    /// Whether anything is to be listed instead of running.
    pub fn any(&self) -> bool {
        self.hosts || self.tasks || self.tags || self.syntax_check || self.plan || self.graph
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RunConfig {
    pub playbooks: Vec<PathBuf>,
    pub inventories: Vec<InventorySource>,
    /// `-e` values as written; read them with [`super::extra_vars::load_all`].
    pub extra_vars: Vec<String>,
    pub limit: Option<String>,
    /// Tags to run; `["all"]` when none were asked for, as in Ansible.
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
    pub check: bool,
    pub diff: bool,
    pub forks: usize,
    pub timeout: u64,
    pub remote_user: Option<String>,
    pub private_key_file: Option<PathBuf>,
    pub host_key_checking: bool,
    pub connection: String,
    pub r#become: bool,
    pub become_method: String,
    pub become_user: String,
    pub ask_become_pass: bool,
    pub become_password_file: Option<PathBuf>,
    pub ask_pass: bool,
    pub connection_password_file: Option<PathBuf>,
    /// `[ssh_connection] ssh_args`, used as Ansible's ssh plugin uses it.
    pub ssh_args: String,
    pub ssh_common_args: Option<String>,
    pub ssh_extra_args: Option<String>,
    /// Read for compatibility; commands are always sent without Python.
    pub pipelining: bool,
    pub roles_path: Vec<PathBuf>,
    /// Vault passwords to load, in the order Ansible tries them.
    pub vault_ids: Vec<VaultId>,
    pub listing: Listing,
    /// `--output json`.
    pub json_output: bool,
    pub resume: Option<String>,
    pub force_resume: bool,
    pub start_at_task: Option<String>,
    pub step: bool,
    pub flush_cache: bool,
    pub force_handlers: bool,
    /// Write `<playbook>.retry` when hosts failed (Ansible's default since 2.8: no).
    pub retry_files: bool,
    pub verbosity: u8,
    /// The configuration file that was read, if any.
    pub config_file: Option<PathBuf>,
    /// Things the user should be told (a skipped world-writable `ansible.cfg`...).
    pub warnings: Vec<String>,
}

pub const DEFAULT_FORKS: usize = 5;
pub const DEFAULT_TIMEOUT: u64 = 10;
pub const DEFAULT_INVENTORY: &str = "/etc/ansible/hosts";
pub const DEFAULT_SSH_ARGS: &str = "-C -o ControlMaster=auto -o ControlPersist=60s";

fn bad_option(message: String) -> Error {
    Error::new(ErrorKind::BadOption { message }, None)
}

impl RunConfig {
    /// Find and read the configuration file, then merge it, the environment and `opts`.
    pub fn load(opts: Options, env: &Environment) -> Result<RunConfig> {
        let mut warnings = Vec::new();
        let cfg = match find_config_file(env, &mut warnings) {
            Some(path) => Some(ConfigFile::load(&path)?),
            None => None,
        };
        RunConfig::merge(opts, env, cfg.as_ref(), warnings)
    }

    /// Merge with an already-read configuration file.
    pub fn merge(
        opts: Options,
        env: &Environment,
        cfg: Option<&ConfigFile>,
        warnings: Vec<String>,
    ) -> Result<RunConfig> {
        let set = Settings { env, cfg };
        let cwd = &env.cwd;
        // Accepting --step and then running every task unasked would be the opposite of what
        // it promises: refuse it until it is built.
        if opts.step {
            return Err(bad_option("--step is not supported yet: nothing was run".into())
                .with_help("run without --step; to run part of a playbook use --start-at-task, --tags or --limit, or --check to see what would change"));
        }

        let mut playbooks = Vec::new();
        for p in &opts.playbooks {
            let path = env.resolve_path(&p.to_string_lossy(), cwd);
            if !path.exists() {
                return Err(bad_option(format!("the playbook {} could not be found", p.display()))
                    .with_help("check the path; it is relative to the current directory"));
            }
            if !path.is_file() {
                return Err(bad_option(format!("the playbook {} is not a file", p.display())));
            }
            // Keep the path as the user wrote it: listings print it back.
            playbooks.push(if p.is_file() { p.clone() } else { path });
        }

        let inventories = if !opts.inventories.is_empty() {
            opts.inventories
                .iter()
                .map(|i| {
                    if i.contains(',') {
                        InventorySource::HostList(i.clone())
                    } else {
                        InventorySource::Path(env.resolve_path(i, cwd))
                    }
                })
                .collect()
        } else {
            let paths = set
                .paths(&s::INVENTORY, ',')
                .unwrap_or_else(|| vec![PathBuf::from(DEFAULT_INVENTORY)]);
            paths.into_iter().map(InventorySource::Path).collect()
        };

        let forks = match opts.forks {
            Some(f) => f,
            None => set.int(&s::FORKS)?.unwrap_or(DEFAULT_FORKS as i64),
        };
        let forks = usize::try_from(forks)
            .ok()
            .filter(|f| *f >= 1)
            .ok_or_else(|| bad_option(format!("forks must be at least 1, not {forks}")))?;
        let timeout = match opts.timeout {
            Some(t) => t,
            None => set.int(&s::TIMEOUT)?.unwrap_or(DEFAULT_TIMEOUT as i64),
        };
        let timeout = u64::try_from(timeout)
            .map_err(|_| bad_option(format!("timeout must be zero or more seconds, not {timeout}")))?;

        let mut skip_tags = set.list(&s::SKIP_TAGS).unwrap_or_default();
        extend_unique(&mut skip_tags, opts.skip_tags);
        let mut tags = set.list(&s::RUN_TAGS).unwrap_or_default();
        extend_unique(&mut tags, opts.tags);
        if tags.is_empty() {
            // Plain --list-tags shows the tags of `never` tasks too, as ansible-playbook does;
            // with --skip-tags it lists what would run.
            tags = if opts.list_tags && skip_tags.is_empty() {
                vec!["never".into(), "all".into()]
            } else {
                vec!["all".into()]
            };
        }

        let resolve_cli = |p: &PathBuf| env.resolve_path(&p.to_string_lossy(), cwd);
        let become_password_file = opts
            .become_password_file
            .as_ref()
            .map(resolve_cli)
            .or_else(|| set.path(&s::BECOME_PASSWORD_FILE));
        let connection_password_file = opts
            .connection_password_file
            .as_ref()
            .map(resolve_cli)
            .or_else(|| set.path(&s::CONNECTION_PASSWORD_FILE));
        let ask_become_pass = opts.ask_become_pass
            || (opts.become_password_file.is_none() && set.bool(&s::BECOME_ASK_PASS)?.unwrap_or(false));
        let ask_pass =
            opts.ask_pass || (opts.connection_password_file.is_none() && set.bool(&s::ASK_PASS)?.unwrap_or(false));
        let ask_vault_pass = opts.ask_vault_pass || set.bool(&s::ASK_VAULT_PASS)?.unwrap_or(false);

        // Ansible's order: configured identities, --vault-id, --vault-password-file,
        // the configured password file, then the prompt.
        let mut vault_ids: Vec<VaultId> = set
            .list(&s::VAULT_IDENTITY_LIST)
            .unwrap_or_default()
            .iter()
            .map(|v| VaultId::parse(v, cwd))
            .collect();
        vault_ids.extend(opts.vault_ids.iter().map(|v| VaultId::parse(v, cwd)));
        for f in &opts.vault_password_files {
            vault_ids.push(VaultId {
                label: DEFAULT_LABEL.into(),
                source: Source::File(resolve_cli(f)),
            });
        }
        if let Some(f) = set.path(&s::VAULT_PASSWORD_FILE) {
            vault_ids.push(VaultId {
                label: DEFAULT_LABEL.into(),
                source: Source::File(f),
            });
        }
        if ask_vault_pass {
            vault_ids.push(VaultId {
                label: DEFAULT_LABEL.into(),
                source: Source::Prompt,
            });
        }
        dedup(&mut vault_ids);

        let roles_path = set.paths(&s::ROLES_PATH, ':').unwrap_or_else(|| {
            ["~/.ansible/roles", "/usr/share/ansible/roles", "/etc/ansible/roles"]
                .iter()
                .map(|p| env.resolve_path(p, cwd))
                .collect()
        });

        let verbosity = opts
            .verbosity
            .max(set.int(&s::VERBOSITY)?.and_then(|v| u8::try_from(v).ok()).unwrap_or(0));

        Ok(RunConfig {
            playbooks,
            inventories,
            extra_vars: opts.extra_vars,
            limit: opts.limit,
            tags,
            skip_tags,
            check: opts.check,
            diff: opts.diff || set.bool(&s::DIFF_ALWAYS)?.unwrap_or(false),
            forks,
            timeout,
            remote_user: opts.remote_user.or_else(|| set.string(&s::REMOTE_USER)),
            private_key_file: opts
                .private_key_file
                .as_ref()
                .map(resolve_cli)
                .or_else(|| set.path(&s::PRIVATE_KEY_FILE)),
            host_key_checking: set.bool(&s::HOST_KEY_CHECKING)?.unwrap_or(true),
            connection: opts
                .connection
                .or_else(|| set.string(&s::TRANSPORT))
                .unwrap_or_else(|| "ssh".into()),
            r#become: opts.r#become || set.bool(&s::BECOME)?.unwrap_or(false),
            become_method: opts
                .become_method
                .or_else(|| set.string(&s::BECOME_METHOD))
                .unwrap_or_else(|| "sudo".into()),
            become_user: opts
                .become_user
                .or_else(|| set.string(&s::BECOME_USER))
                .unwrap_or_else(|| "root".into()),
            ask_become_pass,
            become_password_file,
            ask_pass,
            connection_password_file,
            ssh_args: set.string(&s::SSH_ARGS).unwrap_or_else(|| DEFAULT_SSH_ARGS.into()),
            ssh_common_args: opts.ssh_common_args.or_else(|| set.string(&s::SSH_COMMON_ARGS)),
            ssh_extra_args: opts.ssh_extra_args.or_else(|| set.string(&s::SSH_EXTRA_ARGS)),
            pipelining: set.bool(&s::PIPELINING)?.unwrap_or(false),
            roles_path,
            vault_ids,
            listing: Listing {
                hosts: opts.list_hosts,
                tasks: opts.list_tasks,
                tags: opts.list_tags,
                syntax_check: opts.syntax_check,
                plan: opts.plan,
                graph: opts.graph,
            },
            json_output: opts.json_output,
            resume: opts.resume,
            force_resume: opts.force_resume,
            start_at_task: opts.start_at_task,
            step: opts.step,
            flush_cache: opts.flush_cache,
            force_handlers: opts.force_handlers || set.bool(&s::FORCE_HANDLERS)?.unwrap_or(false),
            retry_files: set.bool(&s::RETRY_FILES_ENABLED)?.unwrap_or(false),
            verbosity,
            config_file: cfg.map(|c| c.path.clone()),
            warnings,
        })
    }
}

fn extend_unique(into: &mut Vec<String>, more: Vec<String>) {
    for t in more {
        if !into.contains(&t) {
            into.push(t);
        }
    }
}

fn dedup(ids: &mut Vec<VaultId>) {
    let mut seen: Vec<VaultId> = Vec::new();
    ids.retain(|id| {
        let fresh = !seen.contains(id);
        if fresh {
            seen.push(id.clone());
        }
        fresh
    });
}

#[cfg(test)]
#[path = "run_config_tests.rs"]
mod tests;
