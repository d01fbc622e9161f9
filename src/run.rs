//! One run of `play`, from arguments to exit status: configuration, then everything loaded and
//! compiled, then (for now) the listings. Errors are printed here, once.

use crate::cli::{self, Environment, RunConfig, extra_vars};
use crate::executor::connections::ConnectionPool;
use crate::executor::inventory::RunInventory;
use crate::executor::journal;
use crate::executor::options::RunOptions;
use crate::executor::resume::{self, ResumeState};
use crate::executor::shared::Shared;
use crate::output::reporter::Reporter;
use crate::output::{graph, listing, plan_view};
use crate::plan::compile::{PlanInput, PlaybookPlan, compile_playbook};
use crate::plan::inventory_index::InventoryIndex;
use crate::plan::inventory_vars::PlaybookVars;
use crate::plan::patterns::{self, Limit};
use crate::plan::tags::TagFilter;
use crate::syntax::inventory::{self, LoadOptions};
use crate::syntax::playbook::load_playbook_with;
use crate::syntax::role::RoleSearch;
use crate::syntax::vault;
use crate::template::{Templar, TemplarContext};
use std::ffi::OsString;
use std::fmt::Display;
use std::path::PathBuf;

/// Exit statuses, as ansible-playbook uses them.
pub mod status {
    pub const OK: i32 = 0;
    pub const ENGINE_ERROR: i32 = 1;
    pub const BAD_OPTIONS: i32 = 5;
}

pub fn run(args: Vec<OsString>) -> i32 {
    let command_line: Vec<String> = args.iter().skip(1).map(|a| a.to_string_lossy().into_owned()).collect();
    // `play runs [PLAYBOOK] [RUN_ID]`: the journals, not a playbook run.
    if command_line.first().map(String::as_str) == Some("runs") && !std::path::Path::new("runs").is_file() {
        return runs_command(&command_line[1..]);
    }
    let opts = match cli::parse_args(args) {
        Ok(o) => o,
        Err(e) => {
            let _ = e.print();
            return cli::exit_status(&e);
        }
    };
    let env = match Environment::from_process() {
        Ok(env) => env,
        Err(e) => return fail(status::ENGINE_ERROR, format!("cannot read the environment: {e}")),
    };
    let rc = match RunConfig::load(opts, &env) {
        Ok(rc) => rc,
        Err(e) => return fail(status::BAD_OPTIONS, e),
    };
    init_logging(rc.verbosity);
    for w in &rc.warnings {
        warn(w);
    }
    if rc.listing.any() {
        return match compile_run(&rc, &env) {
            Ok(compiled) => report(&rc, &compiled.plans),
            Err((code, message)) => fail(code, message),
        };
    }
    // As ansible-playbook: the SSH and become passwords are asked first, then the vault's.
    let mut prompt = |p: &str| vault::prompt_password(p);
    let passwords = match cli::ask_passwords(&rc, &mut prompt) {
        Ok(p) => p,
        Err(e) => return fail(status::BAD_OPTIONS, e),
    };
    match compile_run(&rc, &env) {
        Ok(compiled) => execute(&rc, compiled, passwords, &command_line),
        Err((code, message)) => fail(code, message),
    }
}

/// Everything a run needs once the input is loaded and compiled.
struct Compiled {
    plans: Vec<PlaybookPlan>,
    inventory: RunInventory,
    extra_vars: crate::value::Map,
    secrets: vault::VaultSecrets,
}

/// Run the compiled plays on their hosts.
fn execute(rc: &RunConfig, compiled: Compiled, passwords: cli::Passwords, command_line: &[String]) -> i32 {
    match crate::executor::preflight::check(&compiled.plans) {
        Ok(warnings) => warnings.iter().for_each(warn),
        Err(problems) => return fail(status::ENGINE_ERROR, problems),
    }
    let secret = |s: &Option<vault::Secret>| {
        s.as_ref()
            .map(|s| crate::connection::options::Secret::new(String::from_utf8_lossy(s.expose()).into_owned()))
    };
    let opts = RunOptions {
        vault: compiled.secrets.clone(),
        forks: rc.forks,
        check: rc.check,
        diff: rc.diff,
        verbosity: rc.verbosity,
        start_at_task: rc.start_at_task.clone(),
        force_handlers: rc.force_handlers,
        connection: rc.connection.clone(),
        remote_user: rc.remote_user.clone(),
        private_key_file: rc.private_key_file.clone(),
        ssh_args: rc.ssh_args.clone(),
        ssh_common_args: rc.ssh_common_args.clone(),
        ssh_extra_args: rc.ssh_extra_args.clone(),
        host_key_checking: rc.host_key_checking,
        timeout: rc.timeout,
        r#become: rc.r#become,
        become_method: rc.become_method.clone(),
        become_user: rc.become_user.clone(),
        become_password: secret(&passwords.r#become),
        connection_password: secret(&passwords.connection),
        tags: rc.tags.clone(),
        skip_tags: rc.skip_tags.clone(),
        roles_path: rc.roles_path.clone(),
        retry_files: rc.retry_files,
    };
    let user_sink: Box<dyn crate::output::events::Sink> = if rc.json_output {
        Box::new(crate::output::json_lines::JsonLines::stdout())
    } else {
        Box::new(crate::output::human::Human::stdout(rc.verbosity))
    };
    let first = rc.playbooks.first().cloned().unwrap_or_default();
    let runs_dir = journal::runs_dir(&first);
    let digests = run_digests(rc);
    let resume = match &rc.resume {
        None => ResumeState::default(),
        Some(id) => match load_resume(&runs_dir, &first.display().to_string(), id, &digests, rc.force_resume) {
            Ok(r) => r,
            Err(message) => return fail(status::ENGINE_ERROR, message),
        },
    };
    let run_id = journal::new_run_id();
    let mut header = crate::value::Map::new();
    header.insert(
        "playbooks".into(),
        crate::value::Value::List(
            rc.playbooks
                .iter()
                .map(|p| crate::value::Value::str(p.display().to_string()))
                .collect(),
        ),
    );
    header.insert("digests".into(), crate::value::Value::Map(digests));
    header.insert(
        "extra_vars".into(),
        crate::value::Value::Map(journal::redact_vars(&compiled.extra_vars)),
    );
    if let Some(from) = &resume.from {
        header.insert("resumes".into(), crate::value::Value::str(from.display().to_string()));
    }
    let (sink, journal_path): (Box<dyn crate::output::events::Sink>, Option<PathBuf>) =
        match journal::Journal::create(&runs_dir, &run_id, header) {
            Ok(j) => {
                let path = j.path.clone();
                (Box::new(journal::Tee(vec![user_sink, Box::new(j)])), Some(path))
            }
            Err(e) => {
                warn(&format!(
                    "cannot write the run journal in {}: {e}; this run cannot be resumed",
                    runs_dir.display()
                ));
                (user_sink, None)
            }
        };
    let templar = Templar::new(TemplarContext::default());
    let shared = std::sync::Arc::new(Shared {
        templar,
        inventory: compiled.inventory,
        state: Default::default(),
        extra_vars: std::sync::Arc::new(compiled.extra_vars),
        opts,
        conns: ConnectionPool::new(crate::connection::options::LocalEnv::from_process()),
        reporter: Reporter::new(sink),
        jobs: Default::default(),
        stop: Default::default(),
        custom_stats: Default::default(),
        resume,
    });
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => return fail(status::ENGINE_ERROR, format!("cannot start the async runtime: {e}")),
    };
    let code = runtime.block_on(crate::executor::run(&compiled.plans, shared));
    if let Some(path) = journal_path {
        journal::append_end(&path, code);
        eprintln!("journal: {}", path.display());
        if code != status::OK {
            eprintln!(
                "to continue where this run stopped: play {} --resume {run_id}",
                resume_command(command_line)
            );
        }
    }
    code
}

/// `play runs [PLAYBOOK] [RUN_ID]`: list the playbook's recent runs, or show one.
fn runs_command(args: &[String]) -> i32 {
    let playbook = args
        .first()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("site.yml"));
    let dir = journal::runs_dir(&playbook);
    let name = playbook.display().to_string();
    match args.get(1) {
        None => print!("{}", crate::output::runs_view::runs_table(&dir, &name)),
        Some(id) if id == "latest" => match crate::output::runs_view::runs_of(&dir, &name).first() {
            Some(p) => print!("{}", crate::output::runs_view::run_detail(p)),
            None => return fail(status::BAD_OPTIONS, format!("no runs of {name} in {}", dir.display())),
        },
        Some(id) => match resume::find(&dir, id) {
            Some(p) => print!("{}", crate::output::runs_view::run_detail(&p)),
            None => return fail(status::BAD_OPTIONS, format!("no run '{id}' in {}", dir.display())),
        },
    }
    status::OK
}

/// Stands for an `-e` value that names a secret: the hint must not print a password given
/// on the command line (the user gives it again).
const HIDDEN_EXTRA_VARS: &str = "<hidden: give this -e again>";

/// The command line as given, without an earlier `--resume`, quoted for a shell; inline
/// `-e` values that look like they hold a secret are replaced by [`HIDDEN_EXTRA_VARS`].
fn resume_command(args: &[String]) -> String {
    let mut out = Vec::new();
    let mut skip_value = false;
    let mut extra_value = false;
    let hide = |v: &str| !v.starts_with('@') && journal::looks_secret(v);
    for a in args {
        if std::mem::take(&mut extra_value) && hide(a) {
            out.push(quote_arg(HIDDEN_EXTRA_VARS));
            continue;
        }
        if skip_value {
            skip_value = false;
            if !a.starts_with('-') {
                continue;
            }
        }
        if a == "--resume" {
            skip_value = true;
            continue;
        }
        if a.starts_with("--resume=") || a == "--force-resume" {
            continue;
        }
        if a == "-e" || a == "--extra-vars" {
            extra_value = true;
        }
        let inline = a
            .strip_prefix("--extra-vars=")
            .map(|v| ("--extra-vars=", v))
            .or_else(|| a.strip_prefix("-e").filter(|v| !v.is_empty()).map(|v| ("-e", v)));
        match inline {
            Some((flag, v)) if hide(v) => out.push(format!("{flag}{}", quote_arg(HIDDEN_EXTRA_VARS))),
            _ => out.push(quote_arg(a)),
        }
    }
    out.join(" ")
}

fn quote_arg(a: &str) -> String {
    crate::connection::quote::quote(a).unwrap_or_else(|_| a.to_string())
}

/// sha256 of every playbook and inventory file, keyed by path.
fn run_digests(rc: &RunConfig) -> crate::value::Map {
    let mut m = crate::value::Map::new();
    let files = rc
        .playbooks
        .iter()
        .cloned()
        .chain(rc.inventories.iter().filter_map(|s| match s {
            cli::InventorySource::Path(p) if p.is_file() => Some(p.clone()),
            _ => None,
        }));
    for f in files {
        m.insert(f.display().to_string(), crate::value::Value::Str(journal::digest(&f)));
    }
    m
}

/// The earlier run to continue, refusing when its playbook or inventory changed (unless
/// `--force-resume`).
fn load_resume(
    dir: &std::path::Path,
    playbook: &str,
    id: &str,
    now: &crate::value::Map,
    force: bool,
) -> Result<ResumeState, String> {
    let found = if id == "latest" {
        crate::output::runs_view::runs_of(dir, playbook).into_iter().next()
    } else {
        resume::find(dir, id)
    };
    let Some(path) = found else {
        return Err(format!(
            "--resume: no run {} in {}\n  = help: run the playbook once without --resume; journals are kept in that directory",
            if id == "latest" {
                "to resume".to_string()
            } else {
                format!("'{id}'")
            },
            dir.display()
        ));
    };
    let st = ResumeState::load(&path).map_err(|e| format!("--resume: cannot read {}: {e}", path.display()))?;
    let changed: Vec<String> = now
        .iter()
        .filter(|(k, v)| st.digests.get(*k).is_some_and(|old| old != *v))
        .map(|(k, _)| k.clone())
        .collect();
    if !changed.is_empty() && !force {
        return Err(format!(
            "--resume: {} changed since run {} was made, so what already ran may differ from what would run now\n  = help: check the change; add --force-resume to continue anyway, or run without --resume to start over",
            changed.join(", "),
            path.display()
        ));
    }
    Ok(st)
}

/// Load and compile every playbook on the command line; nothing is printed on stdout unless
/// all of them load.
fn compile_run(rc: &RunConfig, env: &Environment) -> Result<Compiled, (i32, String)> {
    let bad_input = |e: &dyn Display| (status::ENGINE_ERROR, e.to_string());
    let mut prompt = |p: &str| vault::prompt_password(p);
    let secrets = cli::vault_secrets(rc, &mut prompt).map_err(|e| (status::BAD_OPTIONS, e.to_string()))?;
    let extra =
        extra_vars::load_all(&rc.extra_vars, env, &secrets).map_err(|e| (status::BAD_OPTIONS, e.to_string()))?;

    let sources: Vec<PathBuf> = rc
        .inventories
        .iter()
        .map(|s| match s {
            cli::InventorySource::Path(p) => p.clone(),
            cli::InventorySource::HostList(h) => PathBuf::from(h),
        })
        .collect();
    let decrypt = |path: &std::path::Path, text: &str| vault::decrypt_file_text(path, text, &secrets);
    // Without a password, inline vault values stay closed (using one is the error) and an
    // encrypted vars file is refused by the loader.
    let decrypt: Option<crate::syntax::inventory::Decrypt> = (!secrets.is_empty()).then_some(&decrypt);
    let inv = inventory::load_with(&sources, &LoadOptions { decrypt }).map_err(|e| bad_input(&e))?;
    for w in &inv.warnings {
        warn(w);
    }
    let index = InventoryIndex::new(&inv);

    let limit = match &rc.limit {
        Some(text) => {
            let limit = Limit::parse(text).map_err(|e| (status::BAD_OPTIONS, e.to_string()))?;
            let reachable = patterns::resolve(&index, "all", Some(&limit)).map_err(|e| bad_input(&e))?;
            // `all` never holds the implicit localhost; a limit naming it still targets a host.
            let targets_something = !reachable.hosts.is_empty()
                || patterns::resolve(&index, &limit.patterns.join(":"), None).is_ok_and(|s| !s.hosts.is_empty());
            if !targets_something {
                return Err((
                    status::ENGINE_ERROR,
                    format!(
                        "--limit '{text}' leaves no hosts to target in the inventory\n  = help: check the pattern against `play ... --list-hosts` without --limit"
                    ),
                ));
            }
            Some(limit)
        }
        None => None,
    };
    let filter = TagFilter::new(&rc.tags, &rc.skip_tags);
    let templar = Templar::new(TemplarContext::default());
    let search = RoleSearch::new(rc.roles_path.clone());
    let input = PlanInput {
        inventory: &index,
        extra_vars: &extra,
        limit: limit.as_ref(),
        tags: &filter,
        templar: &templar,
        secrets: &secrets,
    };

    // group_vars/ and host_vars/ beside the playbooks are read now, so a broken or
    // undecryptable file fails before the run. The executor layers them per host.
    let mut dirs: Vec<PathBuf> = Vec::new();
    for p in &rc.playbooks {
        let dir = p.parent().map(PathBuf::from).unwrap_or_default();
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    let dir_refs: Vec<&std::path::Path> = dirs.iter().map(PathBuf::as_path).collect();
    let playbook_vars = PlaybookVars::load(&dir_refs, &inv, decrypt).map_err(|e| bad_input(&e))?;

    let mut plans = Vec::new();
    for path in &rc.playbooks {
        if !path.is_file() {
            return Err((
                status::ENGINE_ERROR,
                format!(
                    "the playbook {} could not be found\n  = help: give the path of a playbook file",
                    path.display()
                ),
            ));
        }
        let playbook = load_playbook_with(path, &search, secrets.clone()).map_err(|e| bad_input(&e))?;
        let plan = compile_playbook(playbook, path, &input).map_err(|e| bad_input(&e))?;
        for play in &plan.plays {
            for p in &play.unmatched {
                warn(&format!("Could not match supplied host pattern, ignoring: {p}"));
            }
        }
        plans.push(plan);
    }
    // Listings print from the plans alone; layering every host's variables is the run's work
    // (for 10,000 hosts it would double --list-hosts' time and memory).
    let inventory = if rc.listing.any() {
        RunInventory::default()
    } else {
        RunInventory::new(&index, &playbook_vars)
    };
    Ok(Compiled {
        plans,
        inventory,
        extra_vars: extra,
        secrets: secrets.clone(),
    })
}

/// Print what was asked for.
fn report(rc: &RunConfig, plans: &[PlaybookPlan]) -> i32 {
    let l = &rc.listing;
    let mut out = String::new();
    if l.syntax_check {
        for p in plans {
            out.push_str(&listing::syntax_ok(p));
        }
    } else if l.graph {
        out.push_str(&graph::graph(plans));
    } else if l.plan {
        for p in plans {
            out.push_str(&plan_view::plan_view(p));
        }
    } else if l.hosts || l.tasks || l.tags {
        let lists = listing::Lists {
            hosts: l.hosts,
            tasks: l.tasks,
            tags: l.tags,
        };
        for p in plans {
            out.push_str(&listing::listing(p, lists));
        }
    }
    print!("{out}");
    status::OK
}

fn fail(code: i32, message: impl Display) -> i32 {
    eprintln!("{} {message}", console::style("ERROR!").red().bold().for_stderr());
    code
}

fn warn(message: &(impl Display + ?Sized)) {
    eprintln!("{} {message}", console::style("[WARNING]:").magenta().for_stderr());
}

fn init_logging(verbosity: u8) {
    let level = match verbosity {
        0 => tracing::Level::WARN,
        1 => tracing::Level::INFO,
        2 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resume_hint_hides_extra_vars_that_hold_secrets() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let hidden = quote_arg(HIDDEN_EXTRA_VARS);
        let cases: Vec<(Vec<String>, String)> = vec![
            (
                args(&["site.yml", "-e", "ansible_become_password=pw1", "-e", "x=1"]),
                format!("site.yml -e {hidden} -e x=1"),
            ),
            (
                args(&[
                    "site.yml",
                    "--extra-vars",
                    r#"{"db_Password": "pw2"}"#,
                    "--resume",
                    "r1",
                ]),
                format!("site.yml --extra-vars {hidden}"),
            ),
            (
                args(&["site.yml", "-eapi_token=pw3", "--extra-vars=vault_secret=pw4"]),
                format!("site.yml -e{hidden} --extra-vars={hidden}"),
            ),
            (
                args(&["site.yml", "-e", "@secrets.yml", "-e", "n=2", "--limit", "key"]),
                "site.yml -e @secrets.yml -e n=2 --limit key".to_string(),
            ),
        ];
        for (given, want) in cases {
            let got = resume_command(&given);
            assert_eq!(got, want, "{given:?}");
            assert!(!got.contains("pw"), "{got}");
        }
    }

    /// `--list-hosts` and the other listings compile the plans but do not layer every host's
    /// variables; a run does.
    #[test]
    fn listings_do_not_layer_host_variables() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let inv = dir.path().join("hosts.ini");
        let site = dir.path().join("site.yml");
        std::fs::write(&inv, "[web]\na x=1\nb\n").unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(
            &site,
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=hi\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let env = Environment {
            cwd: dir.path().to_path_buf(),
            system_config: dir.path().join("none.cfg"),
            ..Environment::default()
        };
        for (flags, layered) in [
            (vec!["--list-hosts"], false),
            (vec!["--list-tasks"], false),
            (vec!["--syntax-check"], false),
            (vec![], true),
        ] {
            let mut args: Vec<OsString> = vec!["play".into(), site.clone().into(), "-i".into(), inv.clone().into()];
            args.extend(flags.iter().map(OsString::from));
            let opts = cli::parse_args(args).unwrap_or_else(|e| panic!("{flags:?}: {e}"));
            let rc = RunConfig::load(opts, &env).unwrap_or_else(|e| panic!("{flags:?}: {e}"));
            let compiled = compile_run(&rc, &env).unwrap_or_else(|(_, e)| panic!("{flags:?}: {e}"));
            assert_eq!(compiled.plans.len(), 1, "{flags:?}");
            let a = compiled.inventory.host("a");
            assert_eq!(a.is_some(), layered, "{flags:?}");
            if let Some(a) = a {
                assert_eq!(a.vars.get("x").map(|v| v.to_string()), Some("1".into()), "{flags:?}");
            }
        }
    }
}
