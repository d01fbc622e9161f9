//! `apt`: Debian packages by name, `name=version` or `name=1.29.*`, with apt-get and
//! DEBIAN_FRONTEND=noninteractive. What is installed is read first with `dpkg-query`, wildcard
//! versions are resolved against `apt-cache madison`, and apt-get runs only for what differs.
//! `upgrade=` (the whole system) is in `apt_upgrade.rs`.

use super::Outcome;
use super::args::Args;
use super::context::{Diff, ModuleCtx};
use super::sys_common::{self as sc, choice, try_arg};
use crate::connection::{self, BoxFuture};
use crate::value::Value;

const KNOWN: &[&str] = &[
    "name",
    "pkg",
    "package",
    "state",
    "update_cache",
    "update-cache",
    "cache_valid_time",
    "install_recommends",
    "install-recommends",
    "allow_downgrade",
    "allow-downgrade",
    "allow_downgrades",
    "allow-downgrades",
    "force",
    "purge",
    "autoremove",
    "default_release",
    "default-release",
    "dpkg_options",
    "allow_unauthenticated",
    "allow-unauthenticated",
    "allow_change_held_packages",
    "upgrade",
    "lock_timeout",
    "force_apt_get",
];
const APT_ENV: &str = "DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true";
const STAMP: &str = "/var/lib/apt/periodic/update-success-stamp";

/// One requested package: `name`, an optional version (maybe with `*`).
#[derive(Debug, PartialEq)]
pub struct Spec {
    pub name: String,
    pub version: Option<String>,
}

pub fn parse_spec(s: &str) -> Spec {
    match s.split_once('=') {
        Some((n, v)) if !v.is_empty() => Spec {
            name: n.trim().to_string(),
            version: Some(v.trim().to_string()),
        },
        _ => Spec {
            name: s.trim().trim_end_matches('=').to_string(),
            version: None,
        },
    }
}

/// Shell-style match of a version pattern (`*`, `?`), as fnmatch does.
pub fn version_matches(pattern: &str, version: &str) -> bool {
    fn go(p: &[char], v: &[char]) -> bool {
        match p.split_first() {
            None => v.is_empty(),
            Some(('*', rest)) => (0..=v.len()).any(|i| v.get(i..).is_some_and(|t| go(rest, t))),
            Some((c, rest)) => v
                .split_first()
                .is_some_and(|(h, t)| (*c == '?' || c == h) && go(rest, t)),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = version.chars().collect();
    go(&p, &v)
}

struct Opts {
    state: String,
    recommends: Option<bool>,
    downgrade: bool,
    force: bool,
    purge: bool,
    autoremove: bool,
    held: bool,
    unauthenticated: bool,
    default_release: Option<String>,
    dpkg_options: String,
}

fn bool_any(a: &Args<'_>, keys: &[&str], default: bool) -> Result<bool, String> {
    for k in keys {
        if a.get(k).is_some() {
            return a.bool(k, default);
        }
    }
    Ok(default)
}

/// Installed versions by `dpkg-query` (only packages whose status is "installed").
async fn installed(ctx: &ModuleCtx<'_>, names: &[&str]) -> connection::Result<Result<Vec<Option<String>>, String>> {
    let mut argv = vec!["dpkg-query", "-W", "-f", "${Package}\\t${Status}\\t${Version}\\n"];
    argv.extend(names.iter().copied());
    let out = match sc::run(ctx, &argv).await? {
        Ok(o) => o,
        Err(e) => return Ok(Err(e)),
    };
    let text = out.stdout_lossy();
    Ok(Ok(names
        .iter()
        .map(|n| {
            text.lines().find_map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                match f.as_slice() {
                    [p, status, v] if p == n && status.ends_with(" installed") => Some(v.to_string()),
                    _ => None,
                }
            })
        })
        .collect()))
}

/// The versions apt knows for a package, best first, from `apt-cache madison`.
async fn available(ctx: &ModuleCtx<'_>, name: &str) -> connection::Result<Result<Vec<String>, String>> {
    let out = match sc::run(ctx, &["apt-cache", "madison", name]).await? {
        Ok(o) => o,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(out
        .stdout_lossy()
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('|').map(str::trim).collect();
            (f.first() == Some(&name))
                .then(|| f.get(1).map(|v| v.to_string()))
                .flatten()
        })
        .fold(Vec::new(), |mut acc, v| {
            if !acc.contains(&v) {
                acc.push(v);
            }
            acc
        })))
}

/// `apt-cache policy` candidate version.
async fn candidate(ctx: &ModuleCtx<'_>, name: &str) -> connection::Result<Option<String>> {
    let out = match sc::run(ctx, &["apt-cache", "policy", name]).await? {
        Ok(o) => o,
        Err(_) => return Ok(None),
    };
    Ok(out
        .stdout_lossy()
        .lines()
        .find_map(|l| l.trim().strip_prefix("Candidate:").map(|v| v.trim().to_string()))
        .filter(|v| v != "(none)"))
}

/// Runs `apt-get update` when asked and the cache is older than `valid` seconds; returns
/// (updated, the stamp's mtime).
async fn update_cache(
    ctx: &ModuleCtx<'_>,
    wanted: bool,
    valid: i64,
) -> connection::Result<Result<(bool, i64), String>> {
    let probe = format!("stat -c %Y {STAMP} /var/lib/apt/lists 2>/dev/null | head -n1; date +%s");
    let out = sc::run_line(ctx, &probe).await?;
    let nums: Vec<i64> = out
        .stdout_lossy()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    let (mtime, now) = match nums.as_slice() {
        [m, n] => (*m, *n),
        [n] => (0, *n),
        _ => (0, 0),
    };
    if !wanted || (valid > 0 && now - mtime < valid) {
        return Ok(Ok((false, mtime)));
    }
    if ctx.check {
        return Ok(Ok((true, mtime)));
    }
    let out = sc::run_line(
        ctx,
        &format!("{APT_ENV} apt-get update -q && mkdir -p /var/lib/apt/periodic && touch {STAMP} && date +%s"),
    )
    .await?;
    if out.rc != 0 {
        return Ok(Err(format!("Failed to update apt cache: {}", sc::both(&out))));
    }
    let t = out
        .stdout_lossy()
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(now);
    Ok(Ok((true, t)))
}

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let a = Args::new("apt", ctx.args);
        try_arg!(a.only(KNOWN));
        let names = try_arg!(a.list("name"))
            .or(try_arg!(a.list("pkg")))
            .or(try_arg!(a.list("package")))
            .unwrap_or_default();
        let state = try_arg!(choice(
            &a,
            "state",
            Some("present"),
            &["absent", "build-dep", "latest", "present", "fixed"]
        ))
        .unwrap_or_default();
        if matches!(state.as_str(), "build-dep" | "fixed") {
            return Ok(Outcome::fail(format!("state={state} is not supported")));
        }
        let upgrade = try_arg!(super::apt_upgrade::mode(&a));
        if upgrade.is_some() && !names.is_empty() {
            return Ok(Outcome::fail("parameters are mutually exclusive: deb|package|upgrade"));
        }
        let o = Opts {
            state,
            recommends: if a.get("install_recommends").is_some() || a.get("install-recommends").is_some() {
                Some(try_arg!(bool_any(
                    &a,
                    &["install_recommends", "install-recommends"],
                    true
                )))
            } else {
                None
            },
            downgrade: try_arg!(bool_any(
                &a,
                &[
                    "allow_downgrade",
                    "allow-downgrade",
                    "allow_downgrades",
                    "allow-downgrades"
                ],
                false
            )),
            force: try_arg!(a.bool("force", false)),
            purge: try_arg!(a.bool("purge", false)),
            autoremove: try_arg!(a.bool("autoremove", false)),
            held: try_arg!(a.bool("allow_change_held_packages", false)),
            unauthenticated: try_arg!(bool_any(&a, &["allow_unauthenticated", "allow-unauthenticated"], false)),
            default_release: try_arg!(a.str("default_release")).or(try_arg!(a.str("default-release"))),
            dpkg_options: try_arg!(a.str("dpkg_options")).unwrap_or_else(|| "force-confdef,force-confold".into()),
        };
        let update = try_arg!(bool_any(&a, &["update_cache", "update-cache"], false));
        let valid = try_arg!(a.int("cache_valid_time")).unwrap_or(0);
        let (updated, time) = try_arg!(update_cache(ctx, update || valid > 0, valid).await?);
        let base = |changed: bool| {
            Outcome::changed(changed)
                .with("cache_updated", updated)
                .with("cache_update_time", time)
        };
        if let Some(mode) = &upgrade {
            let u = super::apt_upgrade::UpgradeOpts {
                dpkg_options: o.dpkg_options.clone(),
                force: o.force,
                unauthenticated: o.unauthenticated,
                downgrade: o.downgrade,
                autoremove: o.autoremove,
                default_release: o.default_release.clone(),
                force_apt_get: try_arg!(a.bool("force_apt_get", false)),
            };
            return super::apt_upgrade::run(ctx, mode, &u, APT_ENV).await;
        }
        if names.is_empty() {
            return Ok(base(updated));
        }
        let specs: Vec<Spec> = names.iter().map(|n| parse_spec(n)).collect();
        if o.state == "latest"
            && let Some(s) = specs.iter().find(|s| s.version.is_some())
        {
            return Ok(Outcome::fail(format!(
                "version number inconsistent with state=latest: {}={}",
                s.name,
                s.version.clone().unwrap_or_default()
            )));
        }
        let name_refs: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        let have = try_arg!(installed(ctx, &name_refs).await?);
        let mut todo: Vec<String> = Vec::new();
        for (s, cur) in specs.iter().zip(&have) {
            match (o.state.as_str(), cur) {
                ("absent", None) => {}
                ("absent", Some(v)) => {
                    if s.version.as_ref().is_none_or(|p| version_matches(p, v)) {
                        todo.push(s.name.clone());
                    }
                }
                ("latest", cur) => {
                    let cand = candidate(ctx, &s.name).await?;
                    match (cand, cur) {
                        (None, None) => {
                            return Ok(Outcome::fail(format!("No package matching '{}' is available", s.name)));
                        }
                        (Some(c), Some(v)) if c == *v => {}
                        (None, Some(_)) => {}
                        _ => todo.push(s.name.clone()),
                    }
                }
                (_, cur) => match &s.version {
                    None if cur.is_some() => {}
                    Some(p) if cur.as_ref().is_some_and(|v| version_matches(p, v)) => {}
                    None => todo.push(s.name.clone()),
                    Some(p) => {
                        let versions = try_arg!(available(ctx, &s.name).await?);
                        match versions.iter().find(|v| version_matches(p, v)) {
                            Some(v) => todo.push(format!("{}={v}", s.name)),
                            None => {
                                return Ok(Outcome::fail(format!(
                                    "No package matching '{}={p}' is available",
                                    s.name
                                )));
                            }
                        }
                    }
                },
            }
        }
        if todo.is_empty() {
            return Ok(base(false));
        }
        let mut argv: Vec<String> = vec!["apt-get".into(), "-y".into()];
        for opt in o.dpkg_options.split(',').filter(|s| !s.is_empty()) {
            argv.extend(["-o".into(), format!("Dpkg::Options::=--{}", opt.trim())]);
        }
        if ctx.check {
            argv.push("--simulate".into());
        }
        if o.state == "absent" {
            if o.purge {
                argv.push("--purge".into());
            }
            if o.autoremove {
                argv.push("--auto-remove".into());
            }
            argv.push("remove".into());
        } else {
            match o.recommends {
                Some(true) => argv.push("--install-recommends".into()),
                Some(false) => argv.push("--no-install-recommends".into()),
                None => {}
            }
            if o.downgrade {
                argv.push("--allow-downgrades".into());
            }
            if o.held {
                argv.push("--allow-change-held-packages".into());
            }
            if o.force {
                argv.extend([
                    "--allow-downgrades".into(),
                    "--allow-remove-essential".into(),
                    "--allow-change-held-packages".into(),
                ]);
            }
            if o.force || o.unauthenticated {
                argv.push("--allow-unauthenticated".into());
            }
            if let Some(r) = &o.default_release {
                argv.extend(["-t".into(), r.clone()]);
            }
            if o.autoremove {
                argv.push("--auto-remove".into());
            }
            argv.push("install".into());
        }
        argv.extend(todo.iter().cloned());
        let line = try_arg!(sc::line(&argv));
        let out = sc::run_line(ctx, &format!("{APT_ENV} {line}")).await?;
        let stdout = out.stdout_lossy();
        let stderr = out.stderr_lossy();
        if out.rc != 0 {
            let verb = if o.state == "absent" { "remove" } else { "install" };
            return Ok(Outcome::fail(format!("'{line}' failed: {}", stderr.trim_end()))
                .with("rc", i64::from(out.rc))
                .with("stdout", stdout)
                .with("stderr", stderr.clone())
                .with("cache_updated", updated)
                .with("cache_update_time", time)
                .msg(format!("'{line}' failed to {verb}: {}", stderr.trim_end())));
        }
        let lines = |t: &str| Value::List(t.lines().map(Value::str).collect());
        let mut res = base(true)
            .with("stdout", stdout.clone())
            .with("stderr", stderr.clone())
            .with("stdout_lines", lines(&stdout))
            .with("stderr_lines", lines(&stderr));
        if ctx.diff {
            res.diff.push(Diff {
                before_header: String::new(),
                after_header: String::new(),
                before: String::new(),
                after: stdout,
            });
        }
        Ok(res)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_and_wildcards() {
        assert_eq!(
            parse_spec("kubeadm=1.29.4-1.1"),
            Spec {
                name: "kubeadm".into(),
                version: Some("1.29.4-1.1".into())
            }
        );
        assert_eq!(
            parse_spec("curl"),
            Spec {
                name: "curl".into(),
                version: None
            }
        );
        assert!(version_matches("1.29.*", "1.29.4-1.1"));
        assert!(!version_matches("1.29.*", "1.30.0-1.1"));
        assert!(version_matches("1.0-1", "1.0-1") && !version_matches("1.0", "1.0-1"));
    }
}
