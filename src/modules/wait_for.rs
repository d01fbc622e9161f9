//! `wait_for`: poll a port or a path ON the host until a condition holds or `timeout` passes.
//! The whole loop is one shell script on the host (the deadline is enforced there and again by
//! the exec timeout), so it never hangs longer than asked. Ports are tried with bash's
//! `/dev/tcp` (or `nc -z`); without either, `started`/`stopped` read `/proc/net/tcp*` for a
//! listening socket. `drained` counts active connections to the port in `/proc/net/tcp*`.

use super::args::Args;
use super::{ModuleCtx, Outcome};
use crate::connection::quote::quote;
use crate::connection::{self, BoxFuture, ExecRequest};
use crate::value::{Map, Value};
use std::time::Duration;

const KNOWN: &[&str] = &[
    "host",
    "port",
    "path",
    "search_regex",
    "state",
    "timeout",
    "delay",
    "sleep",
    "connect_timeout",
    "msg",
];

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let plan = match parse(ctx) {
            Ok(p) => p,
            Err(msg) => return Ok(Outcome::fail(msg).with("elapsed", 0i64)),
        };
        if ctx.check {
            let mut out = Outcome::ok().msg("remote module (wait_for) does not support check mode");
            out.skipped = true;
            return Ok(out);
        }
        wait(ctx, plan).await
    })
}

#[derive(Debug)]
struct Plan {
    host: String,
    port: Option<i64>,
    path: Option<String>,
    regex: Option<String>,
    state: String,
    timeout: i64,
    delay: i64,
    sleep: i64,
    connect_timeout: i64,
    msg: Option<String>,
}

fn parse(ctx: &ModuleCtx<'_>) -> Result<Plan, String> {
    let args = Args::new("wait_for", ctx.args);
    args.only(KNOWN)?;
    let state = args.str("state")?.unwrap_or_else(|| "started".into());
    if !["started", "stopped", "present", "absent", "drained"].contains(&state.as_str()) {
        return Err(format!(
            "value of state must be one of: absent, drained, present, started, stopped, got: {state}"
        ));
    }
    let plan = Plan {
        host: args.str("host")?.unwrap_or_else(|| "127.0.0.1".into()),
        port: args.int("port")?,
        path: args.str("path")?,
        regex: args.str("search_regex")?,
        state,
        timeout: args.int("timeout")?.unwrap_or(300).max(0),
        delay: args.int("delay")?.unwrap_or(0).max(0),
        sleep: args.int("sleep")?.unwrap_or(1).max(1),
        connect_timeout: args.int("connect_timeout")?.unwrap_or(5).max(1),
        msg: args.str("msg")?,
    };
    if let Some(r) = &plan.regex {
        regex::Regex::new(r).map_err(|e| format!("Invalid regular expression: {e}"))?;
    }
    if plan.port.is_some() && plan.path.is_some() {
        return Err("port and path parameter can not both be passed to wait_for".into());
    }
    if plan.path.is_some() && plan.state == "stopped" {
        return Err("state=stopped should only be used for checking a port in the wait_for module".into());
    }
    if plan.path.is_some() && plan.state == "drained" {
        return Err("state=drained should only be used for checking a port in the wait_for module".into());
    }
    Ok(plan)
}

/// The shell test for one try; exit 0 when the condition holds. Port searches leave what was
/// read in `$d`.
fn check(plan: &Plan) -> Result<String, String> {
    let q = |s: &str| quote(s).map_err(|e| e.to_string());
    let ct = plan.connect_timeout;
    let grep = "{ if echo | grep -qP '' 2>/dev/null; then grep -qP -- \"$re\"; else grep -qE -- \"$re\"; fi; }";
    if let Some(path) = &plan.path {
        let p = q(path)?;
        return Ok(match (plan.state.as_str(), &plan.regex) {
            ("absent", _) => format!("! [ -e {p} ]"),
            (_, Some(_)) => format!("[ -r {p} ] && {grep} < {p}"),
            _ => format!("[ -e {p} ]"),
        });
    }
    let Some(port) = plan.port else {
        return Ok("false".into());
    };
    let (h, hexport) = (q(&plan.host)?, format!("{port:04X}"));
    let proc_state = |states: &str| {
        format!(
            "awk -v p={hexport} -v s='{states}' 'FNR>1 {{ split($2,a,\":\"); if (a[2]==p && index(s, $4)) f=1 }} \
             END {{ exit !f }}' /proc/net/tcp /proc/net/tcp6 2>/dev/null"
        )
    };
    let connect = format!(
        "if command -v bash >/dev/null 2>&1; then timeout {ct} bash -c 'exec 3<>\"/dev/tcp/$0/$1\"' {h} {port} 2>/dev/null; \
         elif command -v nc >/dev/null 2>&1; then nc -z -w {ct} {h} {port} 2>/dev/null; \
         else {}; fi",
        proc_state("0A")
    );
    Ok(match (plan.state.as_str(), &plan.regex) {
        ("stopped" | "absent", _) => format!("! {{ {connect}; }}"),
        ("drained", _) => format!("! {}", proc_state("01 02 03 04 05 06")),
        (_, Some(_)) => format!(
            "d=$(timeout {ct} bash -c 'exec 3<>\"/dev/tcp/$0/$1\"; cat <&3' {h} {port} 2>/dev/null); \
             printf '%s' \"$d\" | {grep}"
        ),
        _ => connect,
    })
}

/// The host loop: prints `OK <elapsed>` (then, for a port search, the data read) or
/// `TIMEOUT <elapsed>`.
fn script(plan: &Plan) -> Result<String, String> {
    let re = quote(plan.regex.as_deref().unwrap_or("")).map_err(|e| e.to_string())?;
    let test = check(plan)?;
    let (t, delay, sleep) = (plan.timeout, plan.delay, plan.sleep);
    if plan.port.is_none() && plan.path.is_none() && plan.state != "drained" {
        return Ok(format!("sleep {t}; echo OK {t}"));
    }
    Ok(format!(
        "re={re}; d=; start=$(date +%s); end=$((start + {t})); sleep {delay}; \
         while :; do \
           if {test}; then echo OK $(( $(date +%s) - start )); printf '%s' \"$d\"; exit 0; fi; \
           now=$(date +%s); if [ \"$now\" -ge \"$end\" ]; then echo TIMEOUT $((now - start)); exit 0; fi; \
           left=$((end - now)); if [ {sleep} -lt \"$left\" ]; then sleep {sleep}; else sleep \"$left\"; fi; \
         done"
    ))
}

fn timeout_msg(plan: &Plan) -> String {
    let (host, port) = (&plan.host, plan.port.map(|p| p.to_string()).unwrap_or_default());
    let path = plan.path.clone().unwrap_or_default();
    let re = plan.regex.clone().unwrap_or_default();
    match (plan.state.as_str(), plan.port.is_some()) {
        ("stopped", _) | ("absent", true) => format!("Timeout when waiting for {host}:{port} to stop."),
        ("absent", false) => format!("Timeout when waiting for {path} to be absent."),
        ("drained", _) => format!("Timeout when waiting for {host}:{port} to drain"),
        (_, true) if plan.regex.is_some() => {
            format!("Timeout when waiting for search string {re} in {host}:{port}")
        }
        (_, true) => format!("Timeout when waiting for {host}:{port}"),
        _ if plan.regex.is_some() => format!("Timeout when waiting for search string {re} in {path}"),
        _ => format!("Timeout when waiting for file {path}"),
    }
}

async fn wait(ctx: &ModuleCtx<'_>, plan: Plan) -> connection::Result<Outcome> {
    let line = match script(&plan) {
        Ok(l) => l,
        Err(e) => return Ok(Outcome::fail(e)),
    };
    let guard = (plan.timeout + plan.delay + plan.connect_timeout + 30) as u64;
    let out = ctx
        .conn
        .exec(&ExecRequest::new(line).timeout(Duration::from_secs(guard)))
        .await?;
    let text = out.stdout_lossy();
    let (first, rest) = text.split_once('\n').unwrap_or((text.as_str(), ""));
    let elapsed = first
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or(0);
    if !first.starts_with("OK") {
        if out.rc != 0 || !first.starts_with("TIMEOUT") {
            return Ok(Outcome::fail(format!(
                "wait_for could not run on the host: {}",
                out.stderr_lossy().trim()
            )));
        }
        let msg = plan.msg.clone().unwrap_or_else(|| timeout_msg(&plan));
        return Ok(Outcome::fail(msg).with("elapsed", elapsed));
    }
    // The groups of the first match, found here with the same pattern.
    let (mut groups, mut named) = (Vec::new(), Map::new());
    if let Some(r) = &plan.regex {
        let haystack = match (&plan.path, plan.port) {
            (Some(p), _) => String::from_utf8_lossy(&ctx.conn.get_file(p).await?).into_owned(),
            _ => rest.to_string(),
        };
        if let Ok(re) = regex::Regex::new(&format!("(?m){r}"))
            && let Some(c) = re.captures(&haystack)
        {
            for m in c.iter().skip(1) {
                groups.push(m.map(|m| Value::str(m.as_str())).unwrap_or(Value::Null));
            }
            for name in re.capture_names().flatten() {
                let v = c.name(name).map(|m| Value::str(m.as_str())).unwrap_or(Value::Null);
                named.insert(name.to_string(), v);
            }
        }
    }
    let opt = |v: Option<String>| v.map(Value::Str).unwrap_or(Value::Null);
    let mut out = Outcome::ok()
        .with("state", plan.state.as_str())
        .with("port", plan.port.map(Value::Int).unwrap_or(Value::Null))
        .with("search_regex", opt(plan.regex.clone()))
        .with("match_groups", Value::List(groups))
        .with("match_groupdict", Value::Map(named))
        .with("path", opt(plan.path.clone()))
        .with("elapsed", elapsed);
    // Ansible adds an existing `path`'s attributes to the result, `state` included.
    if let Some(p) = &plan.path
        && let Ok(Some(st)) = super::remote_file::stat(ctx, p, Default::default()).await?
    {
        super::remote_file::attr_fields(&st, &mut out.data);
        let state = match st.kind {
            super::remote_file::Kind::Dir => "directory",
            super::remote_file::Kind::Link => "link",
            _ => "file",
        };
        out.data.insert("state".into(), Value::str(state));
    }
    Ok(out)
}

#[cfg(test)]
#[path = "wait_for_tests.rs"]
mod tests;
