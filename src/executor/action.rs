//! Calling a task's module on a host: arguments templated, the connection chosen (the host's,
//! a delegate's, or local), `environment` and `become` applied, check/diff mode, `timeout` and
//! `async` enforced. Whatever happens becomes a result map.

use super::connections::is_local_name;
use super::env_connection::{EnvConnection, PoolConnection};
use super::shared::Shared;
use super::task::{TaskRun, failed_result, task_place, unreachable_result};
use super::vars::{PlayVars, host_scope};
use crate::connection::local::LocalConnection;
use crate::connection::{self, BoxFuture, Connection, ExecOutput, ExecRequest, PutFile};
use crate::modules::table::implementation;
use crate::modules::{ModuleCtx, Outcome};
use crate::output::events::Event;
use crate::template::{MapVars, Vars, strip_omit};
use crate::value::{Map, Value};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct ActionCall<'a> {
    pub shared: &'a Arc<Shared>,
    pub play: &'a Arc<PlayVars>,
    pub run: &'a TaskRun<'a>,
    pub host: &'a str,
    pub delegated: Option<&'a str>,
}

/// For modules that run on the controller: any use of the host is a bug, reported as such.
struct NoConnection(String);

impl Connection for NoConnection {
    fn host(&self) -> &str {
        &self.0
    }
    fn exec<'a>(&'a self, _req: &'a ExecRequest) -> BoxFuture<'a, connection::Result<ExecOutput>> {
        Box::pin(async move {
            Err(connection::Error::channel(
                &self.0,
                "this module runs on the controller only",
            ))
        })
    }
    fn put_file<'a>(&'a self, _file: &'a PutFile) -> BoxFuture<'a, connection::Result<()>> {
        Box::pin(async move {
            Err(connection::Error::channel(
                &self.0,
                "this module runs on the controller only",
            ))
        })
    }
    fn get_file<'a>(&'a self, _remote: &'a str) -> BoxFuture<'a, connection::Result<Vec<u8>>> {
        Box::pin(async move {
            Err(connection::Error::channel(
                &self.0,
                "this module runs on the controller only",
            ))
        })
    }
    fn close<'a>(&'a self) -> BoxFuture<'a, connection::Result<()>> {
        Box::pin(async move { Ok(()) })
    }
}

pub async fn call_module(call: &ActionCall<'_>, vars: &Arc<dyn Vars>) -> Map {
    let task = &call.run.task.task;
    let action = &task.action;
    let name = action.module.name;
    if name == "async_status" {
        return async_status(call, vars);
    }
    let Some(code) = implementation(name) else {
        return failed_result(format!(
            "the module '{}' is not implemented by play yet (task at {})",
            action.written,
            task_place(call.run.task)
        ));
    };
    let args = match call.shared.templar.render_value(&Value::Map(action.args.clone()), vars) {
        Ok(v) => match strip_omit(v) {
            Value::Map(m) => m,
            _ => Map::new(),
        },
        Err(e) => {
            return failed_result(format!(
                "The task includes an option that cannot be templated: {e} (task at {})",
                task_place(call.run.task)
            ));
        }
    };
    let check = match call.run.keyword("check_mode") {
        Some(v) => call
            .shared
            .templar
            .render_value(&v.value, vars)
            .ok()
            .and_then(|v| v.as_bool_loose())
            .unwrap_or(call.shared.opts.check),
        None => call.shared.opts.check,
    };
    let diff = match call.run.keyword("diff") {
        Some(v) => call
            .shared
            .templar
            .render_value(&v.value, vars)
            .ok()
            .and_then(|v| v.as_bool_loose())
            .unwrap_or(call.shared.opts.diff),
        None => call.shared.opts.diff,
    };

    let conn: Arc<dyn Connection> = if action.module.on_controller {
        Arc::new(NoConnection(call.host.to_string()))
    } else if name == "wait_for_connection" || name == "reboot" {
        // Polls until the host answers again, reconnecting as it goes.
        Arc::new(PoolConnection {
            shared: call.shared.clone(),
            host: call.delegated.unwrap_or(call.host).to_string(),
            vars: vars.clone(),
        })
    } else {
        match connect(call, vars).await {
            Ok(c) => c,
            Err(r) => return r,
        }
    };
    let conn = match with_environment(call, vars, conn) {
        Ok(c) => c,
        Err(e) => return failed_result(e),
    };
    let conn = match super::become_::wrap(call, vars, conn) {
        Ok(c) => c,
        Err(e) => return failed_result(e),
    };

    let limit = match time_limit(call, vars) {
        Ok(l) => l,
        Err(e) => return failed_result(e),
    };
    let conn: Arc<dyn Connection> = match limit.map(Limit::secs) {
        Some(secs) => Arc::new(
            EnvConnection::new(conn, Vec::new()).with_deadline(tokio::time::Instant::now() + Duration::from_secs(secs)),
        ),
        None => conn,
    };
    let search_dirs = search_dirs(call);
    if let Some(Limit::Background(secs)) = limit {
        return start_job(call, code, args, conn, vars, search_dirs, (check, diff), secs);
    }
    let ctx = ModuleCtx {
        host: call.host,
        conn: conn.as_ref(),
        args: &args,
        check,
        diff,
        templar: &call.shared.templar,
        vars,
        search_dirs: &search_dirs,
    };

    let started = Instant::now();
    let outcome = match limit {
        None | Some(Limit::Background(_)) => code(&ctx).await,
        Some(Limit::Wait { secs, poll }) => {
            let fut = code(&ctx);
            tokio::pin!(fut);
            // The commands themselves stop at `secs` and kill what they started on the host;
            // this later backstop must not cut that kill short.
            let deadline = tokio::time::sleep(Duration::from_secs(secs) + KILL_GRACE);
            tokio::pin!(deadline);
            let mut ticker = tokio::time::interval(Duration::from_secs(poll.max(1)));
            ticker.tick().await;
            loop {
                tokio::select! {
                    r = &mut fut => break r,
                    _ = &mut deadline => {
                        return failed_result(format!(
                            "The task timed out after {secs} seconds on {} (task at {})",
                            call.host,
                            task_place(call.run.task)
                        ));
                    }
                    _ = ticker.tick(), if poll > 0 => {
                        call.shared.reporter.emit(Event::Progress {
                            host: call.host.to_string(),
                            message: format!("{}: still running after {}s", call.run.label, started.elapsed().as_secs()),
                        });
                    }
                }
            }
        }
    };
    match outcome {
        Ok(o) if name == "include_vars" => open_included_vaults(engine_fields(with_diff(o), call), call),
        Ok(o) => engine_fields(with_diff(o), call),
        Err(e) if e.is_unreachable() => unreachable_result(e.to_string()),
        Err(e) => failed_result(e.to_string()),
    }
}

/// `include_vars` hands back inline `!vault` values closed (no password reaches a module);
/// they open here, and one that no password opens fails the task.
fn open_included_vaults(mut r: Map, call: &ActionCall<'_>) -> Map {
    let files: Vec<String> = match r.get("ansible_included_var_files") {
        Some(Value::List(l)) => l.iter().map(|f| f.to_string()).collect(),
        _ => Vec::new(),
    };
    let Some(facts) = r.get_mut("ansible_facts") else {
        return r;
    };
    let what = format!("a vault value in {}", files.join(", "));
    match crate::syntax::vault::open_value(facts, &call.shared.opts.vault, &what) {
        Ok(()) => r,
        Err(e) => failed_result(format!("{e} (task at {})", task_place(call.run.task))),
    }
}

fn with_diff(o: Outcome) -> Map {
    let mut r = o.to_result();
    if !o.diff.is_empty() {
        let diffs: Vec<Value> = o
            .diff
            .iter()
            .map(|d| {
                let mut m = Map::new();
                m.insert("before_header".into(), Value::str(d.before_header.clone()));
                m.insert("after_header".into(), Value::str(d.after_header.clone()));
                m.insert("before".into(), Value::str(d.before.clone()));
                m.insert("after".into(), Value::str(d.after.clone()));
                Value::Map(m)
            })
            .collect();
        r.insert("diff".into(), Value::List(diffs));
    }
    r
}

/// How long a timed-out command gets to be killed on the host before the task stops waiting.
const KILL_GRACE: Duration = Duration::from_secs(3);

/// How long a task may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Limit {
    /// `async` with `poll: 0`: start a job and move on.
    Background(u64),
    /// `async` with a poll interval, or `timeout`: wait, and fail the task at the limit.
    /// `poll` 0 reports no progress.
    Wait { secs: u64, poll: u64 },
}

impl Limit {
    fn secs(self) -> u64 {
        match self {
            Limit::Background(s) | Limit::Wait { secs: s, .. } => s,
        }
    }

    /// From the `async`, `poll` and `timeout` keywords; `async` wins, as in Ansible.
    fn from_keywords(async_: Option<u64>, poll: Option<u64>, timeout: Option<u64>) -> Option<Limit> {
        match (async_.filter(|a| *a > 0), poll.unwrap_or(15)) {
            (Some(a), 0) => Some(Limit::Background(a)),
            (Some(a), p) => Some(Limit::Wait { secs: a, poll: p }),
            (None, _) => timeout.filter(|t| *t > 0).map(|t| Limit::Wait { secs: t, poll: 0 }),
        }
    }
}

/// `timeout:` (kill after N seconds) or `async:` (allow N seconds, report every `poll`).
fn time_limit(call: &ActionCall<'_>, vars: &Arc<dyn Vars>) -> Result<Option<Limit>, String> {
    let int = |name: &str| -> Result<Option<u64>, String> {
        match call.run.keyword(name) {
            None => Ok(None),
            Some(v) => {
                let r = call
                    .shared
                    .templar
                    .render_value(&v.value, vars)
                    .map_err(|e| format!("cannot template '{name}': {e}"))?;
                let n = match r {
                    Value::Int(i) => i.max(0) as u64,
                    other => other
                        .to_string()
                        .trim()
                        .parse()
                        .map_err(|_| format!("'{name}' must be a number of seconds, got '{other}'"))?,
                };
                Ok(Some(n))
            }
        }
    };
    Ok(Limit::from_keywords(int("async")?, int("poll")?, int("timeout")?))
}

/// The connection for this call: the host's own, a delegate's, or this machine.
async fn connect(call: &ActionCall<'_>, vars: &Arc<dyn Vars>) -> Result<Arc<dyn Connection>, Map> {
    let task = &call.run.task.task;
    let target = call.delegated.unwrap_or(call.host);
    let conn_kw = call
        .run
        .keyword("connection")
        .and_then(|v| call.shared.templar.render_value(&v.value, vars).ok())
        .map(|v| v.to_string());
    if task.action.local || conn_kw.as_deref() == Some("local") {
        return Ok(Arc::new(LocalConnection::new(call.host)));
    }
    let known = call.shared.inventory.host(target).is_some();
    let target_vars: Arc<dyn Vars> = if target == call.host {
        vars.clone()
    } else if known {
        Arc::new(host_scope(call.shared, call.play, target, None, &[]))
    } else if is_local_name(target) {
        return Ok(Arc::new(LocalConnection::new(target)));
    } else {
        // A delegate outside the inventory: reached by name, with the task host's settings.
        let mut m = Map::new();
        m.insert("ansible_host".into(), Value::str(target));
        Arc::new(MapVars::over(vars.clone(), m))
    };
    call.shared
        .conns
        .get(target, &target_vars, &call.shared.templar, &call.shared.opts)
        .await
        .map_err(unreachable_result)
}

/// `environment:` on the task or around it: exported for every command the module runs.
fn with_environment(
    call: &ActionCall<'_>,
    vars: &Arc<dyn Vars>,
    conn: Arc<dyn Connection>,
) -> Result<Arc<dyn Connection>, String> {
    let Some(env) = call.run.keyword("environment") else {
        return Ok(conn);
    };
    let rendered = call
        .shared
        .templar
        .render_value(&env.value, vars)
        .map_err(|e| format!("cannot template 'environment': {e}"))?;
    let mut pairs = Vec::new();
    let maps: Vec<Value> = match rendered {
        Value::List(l) => l,
        other => vec![other],
    };
    for m in maps {
        match m {
            Value::Map(m) => {
                for (k, v) in m {
                    let v = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
                    pairs.push((k, v));
                }
            }
            Value::Null => {}
            other => return Err(format!("'environment' must be a mapping, got a {}", other.type_name())),
        }
    }
    if pairs.is_empty() {
        return Ok(conn);
    }
    Ok(Arc::new(EnvConnection::new(conn, pairs)))
}

/// Where a relative `src:` is looked for: the role, the file the task is in, the play.
fn search_dirs(call: &ActionCall<'_>) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(r) = &call.run.task.role {
        dirs.push(r.role.path.clone());
    }
    if let Some(d) = call.run.task.task.span.source.path.parent() {
        // Absolute, so a template's own includes resolve whatever the working directory.
        let d = if d.as_os_str().is_empty() {
            std::path::Path::new(".")
        } else {
            d
        };
        let d = std::path::absolute(d).unwrap_or_else(|_| d.to_path_buf());
        if !dirs.contains(&d) {
            dirs.push(d);
        }
    }
    if let Some(Value::Str(p)) = call.play.magic.get("playbook_dir") {
        let d = PathBuf::from(p);
        if !dirs.contains(&d) {
            dirs.push(d);
        }
    }
    dirs
}

/// Fields a module leaves for the engine: `_verbosity` (debug: skip below that `-v`), and
/// `warnings` (shown once, as Ansible does); neither is registered.
fn engine_fields(mut r: Map, call: &ActionCall<'_>) -> Map {
    r.shift_remove("_ansible_facts_cacheable");
    if let Some(v) = r.shift_remove("_verbosity") {
        let needed = match v {
            Value::Int(i) => i,
            _ => 0,
        };
        if needed > i64::from(call.shared.opts.verbosity) {
            let mut skipped = Map::new();
            skipped.insert("changed".into(), Value::Bool(false));
            skipped.insert("skipped_reason".into(), Value::str("Verbosity threshold not met."));
            skipped.insert("skipped".into(), Value::Bool(true));
            return skipped;
        }
    }
    if let Some(Value::List(warnings)) = r.shift_remove("warnings") {
        for w in warnings {
            call.shared.reporter.emit(Event::Warning(w.to_string()));
        }
    }
    r
}

/// `poll: 0`: run the module in the background and answer with its job id at once.
#[allow(clippy::too_many_arguments)]
fn start_job(
    call: &ActionCall<'_>,
    code: crate::modules::ModuleFn,
    args: Map,
    conn: Arc<dyn Connection>,
    vars: &Arc<dyn Vars>,
    search_dirs: Vec<PathBuf>,
    (check, diff): (bool, bool),
    secs: u64,
) -> Map {
    let shared = call.shared.clone();
    let jid = shared.jobs.start();
    let host = call.host.to_string();
    let vars = vars.clone();
    let job = jid.clone();
    tokio::spawn(async move {
        let ctx = ModuleCtx {
            host: &host,
            conn: conn.as_ref(),
            args: &args,
            check,
            diff,
            templar: &shared.templar,
            vars: &vars,
            search_dirs: &search_dirs,
        };
        let result = match tokio::time::timeout(Duration::from_secs(secs), code(&ctx)).await {
            Ok(Ok(o)) => o.to_result(),
            Ok(Err(e)) if e.is_unreachable() => unreachable_result(e.to_string()),
            Ok(Err(e)) => failed_result(e.to_string()),
            Err(_) => failed_result(format!(
                "async task did not complete within the requested time - {secs}s"
            )),
        };
        shared.jobs.finish(&job, result);
    });
    let mut r = Map::new();
    r.insert("ansible_job_id".into(), Value::str(jid));
    r.insert("started".into(), Value::Int(1));
    r.insert("finished".into(), Value::Int(0));
    r.insert("changed".into(), Value::Bool(true));
    r
}

/// `async_status: jid=...` (and `mode: cleanup`).
fn async_status(call: &ActionCall<'_>, vars: &Arc<dyn Vars>) -> Map {
    let args = match call
        .shared
        .templar
        .render_value(&Value::Map(call.run.task.task.action.args.clone()), vars)
    {
        Ok(Value::Map(m)) => m,
        Ok(_) => Map::new(),
        Err(e) => return failed_result(format!("async_status: {e}")),
    };
    let Some(jid) = args
        .get("jid")
        .map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
    else {
        return failed_result("async_status: missing required arguments: jid".into());
    };
    let cleanup = args.get("mode").is_some_and(|m| m.to_string() == "cleanup");
    call.shared.jobs.status(&jid, cleanup)
}

#[cfg(test)]
mod tests {
    use super::Limit;

    #[test]
    fn timeout_waits_and_only_async_with_poll_zero_runs_in_the_background() {
        // (async, poll, timeout, limit)
        type Row = (Option<u64>, Option<u64>, Option<u64>, Option<Limit>);
        let table: &[Row] = &[
            (None, None, None, None),
            (None, None, Some(3), Some(Limit::Wait { secs: 3, poll: 0 })),
            (None, Some(0), Some(3), Some(Limit::Wait { secs: 3, poll: 0 })),
            (None, None, Some(0), None),
            (Some(60), Some(0), None, Some(Limit::Background(60))),
            (Some(60), None, None, Some(Limit::Wait { secs: 60, poll: 15 })),
            (Some(60), Some(5), Some(3), Some(Limit::Wait { secs: 60, poll: 5 })),
            (Some(0), Some(0), Some(3), Some(Limit::Wait { secs: 3, poll: 0 })),
        ];
        for (a, p, t, want) in table {
            assert_eq!(
                Limit::from_keywords(*a, *p, *t),
                *want,
                "async {a:?} poll {p:?} timeout {t:?}"
            );
        }
    }
}
