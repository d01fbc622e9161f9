//! `systemd` / `systemd_service` (and `service` on systemd hosts): reads the unit with
//! `systemctl show`, then masks/unmasks, enables/disables and starts/stops only what differs.
//! `status` in the result is the `show` output as a map, as Ansible returns it.

use super::Outcome;
use super::args::Args;
use super::context::{Diff, ModuleCtx};
use super::sys_common::{self as sc, choice, try_arg};
use crate::connection::{self, BoxFuture};
use crate::value::{Map, Value};

const KNOWN: &[&str] = &[
    "name",
    "unit",
    "service",
    "state",
    "enabled",
    "daemon_reload",
    "daemon-reload",
    "daemon_reexec",
    "daemon-reexec",
    "masked",
    "no_block",
    "force",
    "scope",
];
const STATES: &[&str] = &["started", "stopped", "restarted", "reloaded"];

/// What a `systemd` run asks for; `service` fills it from its own arguments.
pub struct Request {
    pub name: Option<String>,
    pub state: Option<String>,
    pub enabled: Option<bool>,
    pub masked: Option<bool>,
    pub daemon_reload: bool,
    pub daemon_reexec: bool,
    pub no_block: bool,
    pub force: bool,
}

fn read(a: &Args<'_>) -> Result<Request, String> {
    a.only(KNOWN)?;
    if choice(a, "scope", Some("system"), &["system", "user", "global"])?.as_deref() != Some("system") {
        return Err("scope: user and global are not supported".into());
    }
    let opt_bool = |k: &str| -> Result<Option<bool>, String> {
        Ok(match a.get(k) {
            Some(_) => Some(a.bool(k, false)?),
            None => None,
        })
    };
    let r = Request {
        name: a.str("name")?.or(a.str("unit")?).or(a.str("service")?),
        state: choice(a, "state", None, STATES)?,
        enabled: opt_bool("enabled")?,
        masked: opt_bool("masked")?,
        daemon_reload: a.bool("daemon_reload", false)? || a.bool("daemon-reload", false)?,
        daemon_reexec: a.bool("daemon_reexec", false)? || a.bool("daemon-reexec", false)?,
        no_block: a.bool("no_block", false)?,
        force: a.bool("force", false)?,
    };
    if r.name.is_none() && (r.state.is_some() || r.enabled.is_some() || r.masked.is_some()) {
        return Err("missing parameter(s) required by 'state': name".into());
    }
    if r.name.is_none() && !r.daemon_reload && !r.daemon_reexec {
        return Err("one of the following is required: name, daemon_reload, daemon_reexec".into());
    }
    Ok(r)
}

/// `KEY=value` lines as a map; values continued on lines starting with a space are joined.
pub fn parse_show(text: &str) -> Map {
    let mut m = Map::new();
    for line in text.lines() {
        if let Some((k, v)) = line.split_once('=')
            && !k.is_empty()
            && !k.contains(' ')
        {
            m.insert(k.to_string(), Value::str(v));
        }
    }
    m
}

fn field<'m>(m: &'m Map, k: &str) -> &'m str {
    m.get(k).and_then(Value::as_str).unwrap_or_default()
}

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let r = try_arg!(read(&Args::new("systemd", ctx.args)));
        apply(ctx, r).await
    })
}

async fn systemctl(
    ctx: &ModuleCtx<'_>,
    r: &Request,
    verb: &str,
    unit: &str,
) -> connection::Result<Result<crate::connection::ExecOutput, String>> {
    let mut argv = vec!["systemctl"];
    if r.no_block {
        argv.push("--no-block");
    }
    if r.force {
        argv.push("--force");
    }
    argv.push(verb);
    if !unit.is_empty() {
        argv.push(unit);
    }
    sc::run(ctx, &argv).await
}

pub async fn apply(ctx: &ModuleCtx<'_>, r: Request) -> connection::Result<Outcome> {
    let probe = sc::run_line(ctx, "command -v systemctl >/dev/null 2>&1 && echo yes").await?;
    if probe.stdout_lossy().trim() != "yes" {
        return Ok(Outcome::fail(
            "Failed to find required executable \"systemctl\" in paths",
        ));
    }
    for (wanted, verb) in [(r.daemon_reexec, "daemon-reexec"), (r.daemon_reload, "daemon-reload")] {
        if wanted && !ctx.check {
            let out = try_arg!(systemctl(ctx, &r, verb, "").await?);
            if out.rc != 0 {
                return Ok(Outcome::fail(format!(
                    "failure {} during {verb}: {}",
                    out.rc,
                    out.stderr_lossy()
                )));
            }
        }
    }
    let Some(unit) = r.name.clone() else {
        return Ok(Outcome::ok());
    };
    if unit.contains(['*', '?', '[']) {
        return Ok(Outcome::fail(
            "This module does not currently support using glob patterns, found '*' in service name",
        ));
    }
    let mut o = Outcome::ok().with("name", unit.clone());
    let show = try_arg!(systemctl(ctx, &r, "show", &unit).await?);
    if show.rc != 0 {
        return Ok(Outcome::fail(format!(
            "failure {} running systemctl show for '{unit}': {}",
            show.rc,
            sc::both(&show)
        )));
    }
    let status = parse_show(&show.stdout_lossy());
    let load = field(&status, "LoadState").to_string();
    let found = !load.is_empty() && load != "not-found";
    let masked_now = load == "masked";
    if found && !masked_now && status.contains_key("LoadError") {
        return Ok(Outcome::fail(format!(
            "Error loading unit file '{unit}': {}",
            field(&status, "LoadError")
        )));
    }
    let missing = || Outcome::fail(format!("Could not find the requested service {unit}: host"));
    let mut before = Vec::new();
    let mut after = Vec::new();
    if let Some(want) = r.masked {
        let out = try_arg!(systemctl(ctx, &r, "is-enabled", &unit).await?);
        let is = out.stdout_lossy().trim() == "masked";
        if is != want {
            o.changed = true;
            before.push(format!("masked: {is}"));
            after.push(format!("masked: {want}"));
            if !ctx.check {
                let verb = if want { "mask" } else { "unmask" };
                let out = try_arg!(systemctl(ctx, &r, verb, &unit).await?);
                if out.rc != 0 {
                    if !found {
                        return Ok(missing());
                    }
                    return Ok(Outcome::fail(format!(
                        "Unable to {verb} service {unit}: {}",
                        out.stderr_lossy()
                    )));
                }
            }
        }
    }
    if let Some(want) = r.enabled {
        if !found {
            return Ok(missing());
        }
        let out = try_arg!(systemctl(ctx, &r, "is-enabled", &unit).await?);
        let lines: Vec<String> = out.stdout_lossy().lines().map(str::to_string).collect();
        let is = out.rc == 0 && lines != ["indirect"] && lines != ["alias"];
        o = o.with("enabled", is);
        if is != want {
            o.changed = true;
            before.push(format!("enabled: {is}"));
            after.push(format!("enabled: {want}"));
            if !ctx.check {
                let verb = if want { "enable" } else { "disable" };
                let out = try_arg!(systemctl(ctx, &r, verb, &unit).await?);
                if out.rc != 0 {
                    return Ok(Outcome::fail(format!(
                        "Unable to {verb} service {unit}: {}",
                        sc::both(&out)
                    )));
                }
            }
            o = o.with("enabled", want);
        }
    }
    if let Some(state) = &r.state {
        if !found {
            return Ok(missing());
        }
        o = o.with("state", state.clone());
        let active = field(&status, "ActiveState");
        let running = matches!(active, "active" | "activating");
        let action = match state.as_str() {
            "started" => (!running).then_some("start"),
            "stopped" => (running || active == "deactivating").then_some("stop"),
            other => {
                o = o.with("state", "started");
                Some(if !running {
                    "start"
                } else if other == "restarted" {
                    "restart"
                } else {
                    "reload"
                })
            }
        };
        if let Some(verb) = action {
            o.changed = true;
            before.push(format!("state: {active}"));
            after.push(format!("state: {verb}"));
            if !ctx.check {
                let out = try_arg!(systemctl(ctx, &r, verb, &unit).await?);
                if out.rc != 0 {
                    return Ok(Outcome::fail(format!(
                        "Unable to {verb} service {unit}: {}",
                        out.stderr_lossy()
                    )));
                }
            }
        }
    }
    if o.changed && ctx.diff {
        o.diff.push(Diff {
            before_header: unit.clone(),
            after_header: unit.clone(),
            before: before.join("\n") + "\n",
            after: after.join("\n") + "\n",
        });
    }
    Ok(o.with("status", Value::Map(status)))
}

#[cfg(test)]
mod tests {
    use crate::modules::sys_lab::{SYSTEMCTL, SysLab};
    use crate::modules::test_support::args;
    use crate::value::Value;

    fn status<'a>(o: &'a crate::modules::Outcome, k: &str) -> &'a str {
        match o.data.get("status") {
            Some(Value::Map(m)) => m.get(k).and_then(Value::as_str).unwrap_or_default(),
            _ => "",
        }
    }

    /// Through a real sshd with the systemctl stand-in first on PATH (no systemd here).
    #[test]
    fn unit_lifecycle_over_ssh() {
        let lab = SysLab::new(&[SYSTEMCTL]);
        let units = lab.state.join("units");
        std::fs::create_dir_all(&units).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(units.join("web.service"), "[Service]\nExecStart=/bin/true\n").unwrap_or_else(|e| panic!("{e}"));
        let s = |pairs: &[(&str, Value)]| args(pairs);
        let a = s(&[
            ("name", Value::str("web")),
            ("state", Value::str("started")),
            ("enabled", Value::Bool(true)),
        ]);
        let o = lab.run_diff(super::run, &a, true, true);
        assert!(o.changed && o.diff.len() == 1, "{o:?}");
        assert!(!lab.state.join("active/web.service").exists());
        let o = lab.run(super::run, &a, false);
        assert!(o.changed && !o.failed, "{o:?}");
        assert_eq!(o.data.get("enabled"), Some(&Value::Bool(true)));
        assert_eq!(o.data.get("state"), Some(&Value::str("started")));
        assert_eq!(
            status(&o, "ActiveState"),
            "inactive",
            "status is read before the change"
        );
        let o = lab.run(super::run, &a, false);
        assert!(!o.changed && status(&o, "ActiveState") == "active", "{o:?}");
        // reload needs ExecReload= on a real systemd too.
        let reload = s(&[("name", Value::str("web")), ("state", Value::str("reloaded"))]);
        let o = lab.run(super::run, &reload, false);
        assert!(o.failed && o.msg.unwrap_or_default().contains("Job type reload is not applicable"));
        // a changed unit file is picked up only through daemon_reload.
        std::fs::write(
            units.join("web.service"),
            "[Service]\nExecStart=/bin/true\nExecReload=/bin/true\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let o = lab.run(super::run, &reload, false);
        assert!(o.failed, "{o:?}");
        let with_reload = s(&[
            ("name", Value::str("web")),
            ("state", Value::str("reloaded")),
            ("daemon_reload", Value::Bool(true)),
        ]);
        let o = lab.run(super::run, &with_reload, false);
        assert!(o.changed && !o.failed, "{o:?}");
        let stop = s(&[
            ("name", Value::str("web.service")),
            ("state", Value::str("stopped")),
            ("masked", Value::Bool(true)),
        ]);
        assert!(lab.run(super::run, &stop, false).changed);
        assert!(!lab.run(super::run, &stop, false).changed);
        let o = lab.run(super::run, &a, false);
        assert!(
            o.failed && o.msg.unwrap_or_default().contains("masked"),
            "starting a masked unit must fail"
        );
        let missing = s(&[("name", Value::str("nope")), ("state", Value::str("started"))]);
        let o = lab.run(super::run, &missing, false);
        assert_eq!(
            o.msg.as_deref(),
            Some("Could not find the requested service nope: host")
        );
        let o = lab.run(super::run, &s(&[("state", Value::str("started"))]), false);
        assert!(o.failed, "{o:?}");
        let o = lab.run(
            super::run,
            &s(&[("name", Value::str("web")), ("state", Value::str("up"))]),
            false,
        );
        assert!(o.failed && o.msg.unwrap_or_default().contains("must be one of"));
    }
}
