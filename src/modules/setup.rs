//! `setup`: gathers facts with one shell script in one round trip; its `@@section` output is
//! parsed by [`super::setup_facts`]. Facts are returned under `ansible_facts` without the
//! `ansible_` prefix; the executor also exposes each as `ansible_<name>`.

use super::Outcome;
use super::args::Args;
use super::context::ModuleCtx;
use super::setup_facts as facts;
use crate::connection::{self, BoxFuture, ExecRequest};
use crate::value::{Map, Value};
use regex::Regex;

/// The probe. Every tool is optional: a missing one leaves its section empty.
const PROBE: &str = r#"exec 2>/dev/null
echo @@uname; uname -s; uname -r; uname -v; uname -m; uname -n
echo @@fqdn; h=$(hostname || uname -n); set -- $(getent hosts "$h"); [ -n "$1" ] && getent hosts "$1"
echo @@os_release; cat /etc/os-release || cat /usr/lib/os-release
echo @@debian_version; cat /etc/debian_version
echo @@long_bit; getconf LONG_BIT
echo @@date; date +'%Y|%m|%d|%H|%M|%S|%Z|%z|%s|%N|%A|%w|%W'
echo @@id; id -un; id -u; id -g; id -ru; id -rg
echo @@passwd; getent passwd "$(id -un)" || grep "^$(id -un):" /etc/passwd
echo @@machine_id; cat /etc/machine-id || cat /var/lib/dbus/machine-id
echo @@pid1; cat /proc/1/comm
echo @@systemd; [ -d /run/systemd/system ] && echo yes
echo @@initd; [ -d /etc/init.d ] && echo yes
echo @@bins; for b in apt-get dnf5 dnf yum zypper pacman apk emerge openrc; do command -v "$b"; done
echo @@meminfo; grep -E '^(MemTotal|MemFree|Buffers|Cached|SwapTotal|SwapFree|SwapCached):' /proc/meminfo
echo @@cpuinfo; grep -E '^(processor|physical id|cpu cores|siblings)[[:space:]]*:' /proc/cpuinfo
echo @@nproc; nproc
echo @@uptime; cat /proc/uptime
echo @@route; ip -4 route get 8.8.8.8
echo @@addr; ip -4 -o addr show
echo @@links; for d in /sys/class/net/*; do echo "${d##*/} $(cat "$d/address") $(cat "$d/mtu")"; done
echo @@env; env -0 || env
echo; echo @@end
exit 0
"#;

const KNOWN_SUBSETS: [&str; 7] = ["all", "min", "hardware", "network", "virtual", "facter", "local"];

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let a = Args::new("setup", ctx.args);
        let read = || -> Result<_, String> {
            a.only(&["gather_subset", "filter", "gather_timeout", "fact_path"])?;
            let subset = a.list("gather_subset")?.unwrap_or_else(|| vec!["all".into()]);
            let filters = a.list("filter")?.unwrap_or_default();
            let filters = filters.iter().map(|p| glob_regex(p)).collect::<Result<Vec<_>, _>>()?;
            let fact_path = a
                .str("fact_path")?
                .unwrap_or_else(|| super::setup_local::DEFAULT_FACT_PATH.to_string());
            Ok((subset, filters, super::setup_local::script(&fact_path)?))
        };
        let (subset, filters, local) = match read() {
            Ok(r) => r,
            Err(msg) => return Ok(Outcome::fail(msg)),
        };
        let (hardware, network) = match wanted(&subset) {
            Ok(w) => w,
            Err(msg) => return Ok(Outcome::fail(msg)),
        };
        // After the environment, which `env -0` leaves without a final newline.
        let probe = PROBE.replace("echo; echo @@end", &format!("echo; {local}echo @@end"));
        let out = ctx.conn.exec(&ExecRequest::new(probe)).await?;
        let text = out.stdout_lossy();
        if !text.contains("@@end") {
            return Ok(Outcome::fail(format!(
                "fact gathering did not complete (rc {}): {}",
                out.rc,
                out.stderr_lossy().trim()
            )));
        }
        let mut f = gather(&text, hardware, network);
        f.insert(
            "gather_subset".into(),
            Value::List(subset.iter().cloned().map(Value::Str).collect()),
        );
        f.insert("module_setup".into(), Value::Bool(true));
        if !filters.is_empty() {
            f.retain(|k, _| {
                filters
                    .iter()
                    .any(|r| r.is_match(k) || r.is_match(&format!("ansible_{k}")))
            });
        }
        Ok(Outcome::ok().with("ansible_facts", Value::Map(f)))
    })
}

/// Which optional groups `gather_subset` asks for: (hardware, network). The minimal facts
/// (platform, distribution, date_time, env, user, service and package manager) always come.
fn wanted(subset: &[String]) -> Result<(bool, bool), String> {
    let (mut hw, mut net) = (false, false);
    for item in subset {
        let (neg, name) = match item.strip_prefix('!') {
            Some(n) => (true, n),
            None => (false, item.as_str()),
        };
        if !KNOWN_SUBSETS.contains(&name) {
            return Err(format!(
                "Bad subset '{name}' given to Ansible. gather_subset options allowed: {}",
                KNOWN_SUBSETS.join(", ")
            ));
        }
        match (name, neg) {
            ("all", false) => (hw, net) = (true, true),
            ("all", true) => (hw, net) = (false, false),
            ("hardware", v) => hw = !v,
            ("network", v) => net = !v,
            _ => {}
        }
    }
    Ok((hw, net))
}

/// All facts from the probe's output.
pub fn gather(text: &str, hardware: bool, network: bool) -> Map {
    let sec = facts::sections(text);
    let mut f = Map::new();
    facts::platform(&sec, &mut f);
    facts::distribution(&sec, &mut f);
    facts::date_time(&sec, &mut f);
    facts::user(&sec, &mut f);
    facts::env(&sec, &mut f);
    facts::service_mgr(&sec, &mut f);
    facts::pkg_mgr(&sec, &mut f);
    let local = sec
        .get("local")
        .map(|s| super::setup_local::parse(s))
        .unwrap_or_default();
    f.insert("local".into(), Value::Map(local));
    if hardware {
        facts::hardware(&sec, &mut f);
    }
    if network {
        facts::network(&sec, &mut f);
    }
    f
}

/// A shell-style pattern (`*`, `?`, `[...]`) as an anchored regex, as Python's fnmatch.
fn glob_regex(pattern: &str) -> Result<Regex, String> {
    let mut re = String::from("^");
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            '[' => {
                let mut class = String::new();
                let mut closed = false;
                for d in chars.by_ref() {
                    if d == ']' && !class.is_empty() {
                        closed = true;
                        break;
                    }
                    class.push(d);
                }
                if closed {
                    let class = class.strip_prefix('!').map(|c| format!("^{c}")).unwrap_or(class);
                    re.push('[');
                    re.push_str(&class.replace('\\', "\\\\"));
                    re.push(']');
                } else {
                    re.push_str(&regex::escape(&format!("[{class}")));
                }
            }
            other => re.push_str(&regex::escape(&other.to_string())),
        }
    }
    re.push('$');
    Regex::new(&re).map_err(|e| format!("invalid filter '{pattern}': {e}"))
}

#[cfg(test)]
mod tests;
