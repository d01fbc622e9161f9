//! Command-line arguments, spelled as `ansible-playbook` 2.19 spells them, plus `--plan` and
//! `--graph`. clap stays in this file: the rest of the crate sees the plain [`Options`].

use clap::{ArgAction, Parser};
use std::ffi::OsString;
use std::path::PathBuf;

/// What the user asked for on the command line, before configuration is merged in.
/// `None` and empty lists mean "not given here" so the config file and environment can fill in.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Options {
    pub playbooks: Vec<PathBuf>,
    /// `-i` values as written: paths, or comma-separated host lists (`-i 'a,b,'`).
    pub inventories: Vec<String>,
    /// `-e` values as written, in order; later ones win key by key.
    pub extra_vars: Vec<String>,
    pub limit: Option<String>,
    /// `-t` values split on commas, trimmed, de-duplicated in first-seen order.
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
    pub check: bool,
    pub diff: bool,
    pub forks: Option<i64>,
    pub remote_user: Option<String>,
    pub r#become: bool,
    pub become_user: Option<String>,
    pub become_method: Option<String>,
    pub ask_become_pass: bool,
    pub become_password_file: Option<PathBuf>,
    pub ask_pass: bool,
    pub connection_password_file: Option<PathBuf>,
    pub private_key_file: Option<PathBuf>,
    pub ssh_common_args: Option<String>,
    pub ssh_extra_args: Option<String>,
    pub sftp_extra_args: Option<String>,
    pub scp_extra_args: Option<String>,
    pub connection: Option<String>,
    pub timeout: Option<i64>,
    pub module_paths: Vec<String>,
    pub list_hosts: bool,
    pub list_tasks: bool,
    pub list_tags: bool,
    pub syntax_check: bool,
    pub start_at_task: Option<String>,
    pub step: bool,
    pub flush_cache: bool,
    pub force_handlers: bool,
    pub verbosity: u8,
    pub vault_password_files: Vec<PathBuf>,
    pub vault_ids: Vec<String>,
    pub ask_vault_pass: bool,
    /// Print the batches and tasks without contacting any host.
    pub plan: bool,
    /// Print the task graph in Graphviz DOT.
    pub graph: bool,
    /// `--output json`: one JSON event per line instead of the human output.
    pub json_output: bool,
    /// `--resume [RUN_ID]`: continue the latest (or the given) run where it stopped.
    pub resume: Option<String>,
    /// Resume even though the playbook or inventory changed since.
    pub force_resume: bool,
}

#[derive(Parser, Debug)]
#[command(
    name = "play",
    version,
    about = "Run Ansible playbooks against hosts over SSH",
    args_override_self = true,
    max_term_width = 100
)]
struct Args {
    /// Playbook(s) to run
    #[arg(value_name = "PLAYBOOK", required = true)]
    playbooks: Vec<PathBuf>,

    /// Inventory file or directory, or a comma-separated host list (repeatable)
    #[arg(short = 'i', long = "inventory", visible_alias = "inventory-file", value_name = "INVENTORY", action = ArgAction::Append)]
    inventory: Vec<String>,

    /// Extra variables: key=value, YAML/JSON, or @file (repeatable; later wins)
    #[arg(short = 'e', long = "extra-vars", value_name = "EXTRA_VARS", action = ArgAction::Append, allow_hyphen_values = true)]
    extra_vars: Vec<String>,

    /// Limit the run to hosts matching this pattern
    #[arg(short = 'l', long = "limit", value_name = "SUBSET")]
    limit: Option<String>,

    /// Only run tasks and plays tagged with these (comma-separated, repeatable)
    #[arg(short = 't', long = "tags", value_name = "TAGS", action = ArgAction::Append)]
    tags: Vec<String>,

    /// Skip tasks and plays tagged with these (comma-separated, repeatable)
    #[arg(long = "skip-tags", value_name = "SKIP_TAGS", action = ArgAction::Append)]
    skip_tags: Vec<String>,

    /// Do not change anything; report what would change
    #[arg(short = 'C', long = "check")]
    check: bool,

    /// Show the differences in changed files and templates
    #[arg(short = 'D', long = "diff")]
    diff: bool,

    /// Number of hosts to work on in parallel
    #[arg(short = 'f', long = "forks", value_name = "FORKS", allow_negative_numbers = true)]
    forks: Option<i64>,

    /// Connect as this user
    #[arg(short = 'u', long = "user", value_name = "REMOTE_USER")]
    user: Option<String>,

    /// Run operations with become
    #[arg(short = 'b', long = "become")]
    r#become: bool,

    /// Become this user (default root)
    #[arg(long = "become-user", value_name = "BECOME_USER")]
    become_user: Option<String>,

    /// Privilege escalation method (default sudo)
    #[arg(long = "become-method", value_name = "BECOME_METHOD")]
    become_method: Option<String>,

    /// Ask for the privilege escalation password
    #[arg(short = 'K', long = "ask-become-pass", conflicts_with = "become_password_file")]
    ask_become_pass: bool,

    /// Read the privilege escalation password from this file
    #[arg(
        long = "become-password-file",
        visible_alias = "become-pass-file",
        value_name = "FILE"
    )]
    become_password_file: Option<PathBuf>,

    /// Ask for the connection password
    #[arg(short = 'k', long = "ask-pass", conflicts_with = "connection_password_file")]
    ask_pass: bool,

    /// Read the connection password from this file
    #[arg(
        long = "connection-password-file",
        visible_alias = "conn-pass-file",
        value_name = "FILE"
    )]
    connection_password_file: Option<PathBuf>,

    /// Use this file to authenticate the connection
    #[arg(long = "private-key", visible_alias = "key-file", value_name = "PRIVATE_KEY_FILE")]
    private_key: Option<PathBuf>,

    /// Extra arguments for ssh, sftp and scp
    #[arg(long = "ssh-common-args", value_name = "ARGS", allow_hyphen_values = true)]
    ssh_common_args: Option<String>,

    /// Extra arguments for ssh only
    #[arg(long = "ssh-extra-args", value_name = "ARGS", allow_hyphen_values = true)]
    ssh_extra_args: Option<String>,

    /// Extra arguments for sftp only (accepted for compatibility)
    #[arg(long = "sftp-extra-args", value_name = "ARGS", allow_hyphen_values = true)]
    sftp_extra_args: Option<String>,

    /// Extra arguments for scp only (accepted for compatibility)
    #[arg(long = "scp-extra-args", value_name = "ARGS", allow_hyphen_values = true)]
    scp_extra_args: Option<String>,

    /// Connection type (ssh, local)
    #[arg(short = 'c', long = "connection", value_name = "CONNECTION")]
    connection: Option<String>,

    /// Connection timeout in seconds
    #[arg(short = 'T', long = "timeout", value_name = "TIMEOUT", allow_negative_numbers = true)]
    timeout: Option<i64>,

    /// Module search path (accepted for compatibility; modules are built in)
    #[arg(short = 'M', long = "module-path", value_name = "MODULE_PATH", action = ArgAction::Append)]
    module_path: Vec<String>,

    /// List the hosts each play would run on, then stop
    #[arg(long = "list-hosts")]
    list_hosts: bool,

    /// List the tasks each play would run, then stop
    #[arg(long = "list-tasks")]
    list_tasks: bool,

    /// List all tags, then stop
    #[arg(long = "list-tags")]
    list_tags: bool,

    /// Check the playbook syntax, then stop
    #[arg(long = "syntax-check")]
    syntax_check: bool,

    /// Start the playbook at the task with this name
    #[arg(long = "start-at-task", value_name = "START_AT_TASK")]
    start_at_task: Option<String>,

    /// Confirm each task before running it
    #[arg(long = "step")]
    step: bool,

    /// Clear the fact cache for every host in inventory
    #[arg(long = "flush-cache")]
    flush_cache: bool,

    /// Run handlers even if a task fails
    #[arg(long = "force-handlers")]
    force_handlers: bool,

    /// More output (-vvv for more, -vvvv for connection debugging)
    #[arg(short = 'v', long = "verbose", action = ArgAction::Count)]
    verbose: u8,

    /// Vault password file, or an executable that prints the password (repeatable)
    #[arg(long = "vault-password-file", visible_alias = "vault-pass-file", value_name = "FILE", action = ArgAction::Append)]
    vault_password_file: Vec<PathBuf>,

    /// Vault identity: label@file, label@prompt, or file (repeatable)
    #[arg(long = "vault-id", value_name = "VAULT_IDS", action = ArgAction::Append)]
    vault_id: Vec<String>,

    /// Ask for the vault password
    #[arg(
        short = 'J',
        long = "ask-vault-password",
        visible_alias = "ask-vault-pass",
        conflicts_with = "vault_password_file"
    )]
    ask_vault_pass: bool,

    /// Print the batches and tasks each play would run, without contacting any host
    #[arg(long = "plan")]
    plan: bool,

    /// Print the task graph in Graphviz DOT format, without contacting any host
    #[arg(long = "graph")]
    graph: bool,

    /// How to report the run: `human` (ansible-playbook's layout) or `json` (one event per line)
    #[arg(long = "output", value_name = "FORMAT", value_parser = ["human", "json"], default_value = "human")]
    output: String,

    /// Continue the latest run of this playbook (or run RUN_ID) where it stopped: finished batches are skipped, their results restored
    #[arg(long = "resume", value_name = "RUN_ID", num_args = 0..=1, default_missing_value = "latest")]
    resume: Option<String>,

    /// With --resume: go on even if the playbook or inventory changed since that run
    #[arg(long = "force-resume")]
    force_resume: bool,
}

/// Split comma lists from repeated options, trim, drop empties and repeats.
fn comma_list(values: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in &values {
        for t in v.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            if !out.iter().any(|o| o == t) {
                out.push(t.to_string());
            }
        }
    }
    out
}

impl From<Args> for Options {
    fn from(a: Args) -> Options {
        Options {
            playbooks: a.playbooks,
            inventories: a.inventory,
            extra_vars: a.extra_vars,
            limit: a.limit,
            tags: comma_list(a.tags),
            skip_tags: comma_list(a.skip_tags),
            check: a.check,
            diff: a.diff,
            forks: a.forks,
            remote_user: a.user,
            r#become: a.r#become,
            become_user: a.become_user,
            become_method: a.become_method,
            ask_become_pass: a.ask_become_pass,
            become_password_file: a.become_password_file,
            ask_pass: a.ask_pass,
            connection_password_file: a.connection_password_file,
            private_key_file: a.private_key,
            ssh_common_args: a.ssh_common_args,
            ssh_extra_args: a.ssh_extra_args,
            sftp_extra_args: a.sftp_extra_args,
            scp_extra_args: a.scp_extra_args,
            connection: a.connection,
            timeout: a.timeout,
            module_paths: a.module_path,
            list_hosts: a.list_hosts,
            list_tasks: a.list_tasks,
            list_tags: a.list_tags,
            syntax_check: a.syntax_check,
            start_at_task: a.start_at_task,
            step: a.step,
            flush_cache: a.flush_cache,
            force_handlers: a.force_handlers,
            verbosity: a.verbose,
            vault_password_files: a.vault_password_file,
            vault_ids: a.vault_id,
            ask_vault_pass: a.ask_vault_pass,
            plan: a.plan,
            graph: a.graph,
            json_output: a.output == "json",
            resume: a.resume,
            force_resume: a.force_resume,
        }
    }
}

/// Parse the process arguments (the first is the program name).
/// `--help` and `--version` come back as errors too: see [`exit_status`].
pub fn parse_args(args: Vec<OsString>) -> Result<Options, clap::Error> {
    Args::try_parse_from(args).map(Options::from)
}

/// The exit status for a clap error: 0 for `--help` and `--version`, 5 for bad options
/// (as ansible-playbook exits on option errors).
pub fn exit_status(e: &clap::Error) -> i32 {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => 0,
        _ => 5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &[&str]) -> Result<Options, clap::Error> {
        let mut args: Vec<OsString> = vec!["play".into()];
        args.extend(line.iter().map(OsString::from));
        parse_args(args)
    }

    fn ok(line: &[&str]) -> Options {
        parse(line).unwrap_or_else(|e| panic!("{line:?}: {e}"))
    }

    #[test]
    fn ansible_playbook_spellings_parse() {
        let o = ok(&[
            "site.yml",
            "more.yml",
            "-i",
            "hosts.yml",
            "--inventory",
            "b.ini",
            "--inventory-file",
            "c",
            "-e",
            "a=1",
            "--extra-vars",
            "@v.yml",
            "-l",
            "web",
            "-t",
            "a,b",
            "--tags",
            " b , c",
            "--skip-tags",
            "x",
            "-C",
            "-D",
            "-f",
            "20",
            "-u",
            "deploy",
            "-b",
            "--become-user",
            "admin",
            "--become-method",
            "su",
            "-K",
            "-k",
            "--key-file",
            "id",
            "--ssh-common-args",
            "-o ProxyJump=b",
            "--ssh-extra-args",
            "-4",
            "-c",
            "local",
            "-T",
            "30",
            "--start-at-task",
            "Install",
            "--step",
            "--flush-cache",
            "--force-handlers",
            "-vvv",
            "-v",
            "--vault-pass-file",
            "p1",
            "--vault-password-file",
            "p2",
            "--vault-id",
            "prod@p3",
            "--plan",
            "--graph",
        ]);
        assert_eq!(o.playbooks, [PathBuf::from("site.yml"), PathBuf::from("more.yml")]);
        assert_eq!(o.inventories, ["hosts.yml", "b.ini", "c"]);
        assert_eq!(o.extra_vars, ["a=1", "@v.yml"]);
        assert_eq!(o.limit.as_deref(), Some("web"));
        assert_eq!(o.tags, ["a", "b", "c"]);
        assert_eq!(o.skip_tags, ["x"]);
        assert!(
            o.check
                && o.diff
                && o.r#become
                && o.ask_become_pass
                && o.ask_pass
                && o.step
                && o.flush_cache
                && o.force_handlers
        );
        assert_eq!((o.forks, o.timeout), (Some(20), Some(30)));
        assert_eq!(o.remote_user.as_deref(), Some("deploy"));
        assert_eq!(
            (o.become_user.as_deref(), o.become_method.as_deref()),
            (Some("admin"), Some("su"))
        );
        assert_eq!(o.private_key_file, Some(PathBuf::from("id")));
        assert_eq!(o.ssh_common_args.as_deref(), Some("-o ProxyJump=b"));
        assert_eq!(o.ssh_extra_args.as_deref(), Some("-4"));
        assert_eq!(o.connection.as_deref(), Some("local"));
        assert_eq!(o.start_at_task.as_deref(), Some("Install"));
        assert_eq!(o.verbosity, 4);
        assert_eq!(o.vault_password_files, [PathBuf::from("p1"), PathBuf::from("p2")]);
        assert_eq!(o.vault_ids, ["prod@p3"]);
        assert!(o.plan && o.graph && !o.list_hosts && !o.syntax_check);
    }

    #[test]
    fn long_forms_and_listing_flags() {
        let o = ok(&[
            "p.yml",
            "--check",
            "--diff",
            "--forks=3",
            "--user=u",
            "--become",
            "--private-key=k",
            "--connection=ssh",
            "--timeout=5",
            "--list-hosts",
            "--list-tasks",
            "--list-tags",
            "--syntax-check",
            "-J",
            "--limit=a:b",
            "--limit",
            "c",
        ]);
        assert!(
            o.check
                && o.diff
                && o.r#become
                && o.list_hosts
                && o.list_tasks
                && o.list_tags
                && o.syntax_check
                && o.ask_vault_pass
        );
        assert_eq!(o.forks, Some(3));
        // Like argparse, a repeated single-value option keeps the last value.
        assert_eq!(o.limit.as_deref(), Some("c"));
        assert!(ok(&["p.yml", "--ask-vault-pass"]).ask_vault_pass);
        assert_eq!(
            ok(&["p.yml"]),
            Options {
                playbooks: vec!["p.yml".into()],
                ..Options::default()
            }
        );
    }

    #[test]
    fn bad_options_exit_with_status_5() {
        let cases: &[&[&str]] = &[
            &[],
            &["p.yml", "--no-such-flag"],
            &["p.yml", "-f", "many"],
            &["p.yml", "-T"],
            &["p.yml", "-J", "--vault-password-file", "f"],
            &["p.yml", "-K", "--become-password-file", "f"],
            &["p.yml", "-k", "--conn-pass-file", "f"],
        ];
        for line in cases {
            let e = parse(line).expect_err("must fail");
            assert_eq!(exit_status(&e), 5, "{line:?}: {e}");
        }
    }

    #[test]
    fn help_and_version_exit_with_status_0() {
        for flag in ["--help", "--version"] {
            let e = parse(&[flag]).expect_err("clap reports help and version as errors");
            assert_eq!(exit_status(&e), 0, "{flag}");
        }
    }

    #[test]
    fn extra_vars_may_start_with_a_dash() {
        assert_eq!(ok(&["p.yml", "-e", "-x"]).extra_vars, ["-x"]);
        assert_eq!(ok(&["p.yml", "-e", "{\"a\": [1]}"]).extra_vars, ["{\"a\": [1]}"]);
    }
}
