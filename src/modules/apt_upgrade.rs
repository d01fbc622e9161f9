//! `apt: upgrade=dist|full|safe|yes`: the whole-system upgrade, run as ansible-core runs it:
//! `apt-get dist-upgrade` for dist (and for full/safe/yes when aptitude is missing or
//! `force_apt_get` is set: `dist-upgrade` / `upgrade --with-new-pkgs`), aptitude's
//! `full-upgrade` / `safe-upgrade` otherwise. Changed unless apt reports zero upgrades.

use super::Outcome;
use super::args::Args;
use super::context::{Diff, ModuleCtx};
use super::sys_common as sc;
use crate::connection::{self, ExecOutput};
use crate::value::Value;

const APT_GET_ZERO: &str = "\n0 upgraded, 0 newly installed, 0 to remove";
const APTITUDE_ZERO: &str = "\n0 packages upgraded, 0 newly installed, 0 to remove";
const MODES: &[&str] = &["dist", "full", "no", "safe", "yes"];

/// The options of the apt task that shape the upgrade command.
pub struct UpgradeOpts {
    pub dpkg_options: String,
    pub force: bool,
    pub unauthenticated: bool,
    pub downgrade: bool,
    pub autoremove: bool,
    pub default_release: Option<String>,
    pub force_apt_get: bool,
}

/// The requested mode, `None` for no upgrade. Booleans read as yes/no, as Ansible reads them.
pub fn mode(a: &Args<'_>) -> Result<Option<String>, String> {
    let m = match a.get("upgrade") {
        None => return Ok(None),
        Some(Value::Bool(b)) => if *b { "yes" } else { "no" }.to_string(),
        Some(_) => a.str("upgrade")?.unwrap_or_default(),
    };
    let m = match m.as_str() {
        "true" | "True" => "yes".to_string(),
        "false" | "False" => "no".to_string(),
        _ => m,
    };
    if !MODES.contains(&m.as_str()) {
        return Err(format!(
            "value of upgrade must be one of: {}, got: {m}",
            MODES.join(", ")
        ));
    }
    Ok((m != "no").then_some(m))
}

/// The tool and argv for `mode`, given whether aptitude is installed.
pub fn command(mode: &str, aptitude: bool, o: &UpgradeOpts, check: bool) -> (&'static str, Vec<String>) {
    let use_apt_get = o.force_apt_get || !aptitude;
    let (tool, verb): (&str, &[&str]) = match mode {
        "dist" => ("apt-get", &["dist-upgrade"]),
        "full" if use_apt_get => ("apt-get", &["dist-upgrade"]),
        "full" => ("aptitude", &["full-upgrade"]),
        _ if use_apt_get => ("apt-get", &["upgrade", "--with-new-pkgs"]),
        _ => ("aptitude", &["safe-upgrade"]),
    };
    let mut argv: Vec<String> = vec![tool.into(), "-y".into()];
    for opt in o.dpkg_options.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        argv.extend(["-o".into(), format!("Dpkg::Options::=--{opt}")]);
    }
    if o.force {
        if tool == "apt-get" {
            argv.push("--force-yes".into());
        } else {
            argv.extend(["--assume-yes".into(), "--allow-untrusted".into()]);
        }
    }
    if o.unauthenticated {
        argv.push("--allow-unauthenticated".into());
    }
    if o.downgrade && tool == "apt-get" {
        argv.push("--allow-downgrades".into());
    }
    if check {
        argv.push("--simulate".into());
    }
    argv.extend(verb.iter().map(|s| s.to_string()));
    if o.autoremove && tool == "apt-get" {
        argv.push("--auto-remove".into());
    }
    if let Some(r) = &o.default_release {
        argv.extend(["-t".into(), r.clone()]);
    }
    (tool, argv)
}

/// Whether the upgrade's output says something changed.
pub fn changed(tool: &str, stdout: &str) -> bool {
    let zero = if tool == "apt-get" { APT_GET_ZERO } else { APTITUDE_ZERO };
    !stdout.contains(zero)
}

pub async fn run(ctx: &ModuleCtx<'_>, mode: &str, o: &UpgradeOpts, env: &str) -> connection::Result<Outcome> {
    let aptitude = sc::run_line(ctx, "command -v aptitude >/dev/null 2>&1").await?.rc == 0;
    let (tool, argv) = command(mode, aptitude, o, ctx.check);
    let line = match sc::line(&argv) {
        Ok(l) => l,
        Err(e) => return Ok(Outcome::fail(e)),
    };
    let out: ExecOutput = sc::run_line(ctx, &format!("{env} {line}")).await?;
    let (stdout, stderr) = (out.stdout_lossy(), out.stderr_lossy());
    if out.rc != 0 {
        let verb: Vec<&str> = argv
            .iter()
            .map(String::as_str)
            .skip_while(|a| !a.ends_with("upgrade"))
            .collect();
        return Ok(
            Outcome::fail(format!("'{tool} {}' failed: {}", verb.join(" "), stderr.trim_end()))
                .with("stdout", stdout)
                .with("rc", i64::from(out.rc)),
        );
    }
    let changed = changed(tool, &stdout);
    let mut res = Outcome::changed(changed)
        .with("msg", stdout.clone())
        .with("stdout", stdout.clone())
        .with("stderr", stderr);
    if changed && ctx.diff {
        res.diff.push(Diff {
            before_header: String::new(),
            after_header: String::new(),
            before: String::new(),
            after: stdout,
        });
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> UpgradeOpts {
        UpgradeOpts {
            dpkg_options: "force-confdef,force-confold".into(),
            force: false,
            unauthenticated: false,
            downgrade: false,
            autoremove: false,
            default_release: None,
            force_apt_get: false,
        }
    }

    #[test]
    fn commands_per_mode_as_ansible_builds_them() {
        let dpkg = "-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold";
        let cases: &[(&str, bool, bool, &str)] = &[
            ("dist", true, false, "apt-get -y DPKG dist-upgrade"),
            ("dist", false, true, "apt-get -y DPKG --simulate dist-upgrade"),
            ("full", true, false, "aptitude -y DPKG full-upgrade"),
            ("full", false, false, "apt-get -y DPKG dist-upgrade"),
            ("yes", true, false, "aptitude -y DPKG safe-upgrade"),
            ("safe", false, false, "apt-get -y DPKG upgrade --with-new-pkgs"),
        ];
        for (mode, aptitude, check, want) in cases {
            let (_, argv) = command(mode, *aptitude, &opts(), *check);
            assert_eq!(argv.join(" "), want.replace("DPKG", dpkg), "{mode} aptitude={aptitude}");
        }
        let o = UpgradeOpts {
            autoremove: true,
            force: true,
            default_release: Some("bookworm-backports".into()),
            force_apt_get: true,
            ..opts()
        };
        let (tool, argv) = command("yes", true, &o, false);
        assert_eq!(tool, "apt-get");
        assert_eq!(
            argv.join(" "),
            format!("apt-get -y {dpkg} --force-yes upgrade --with-new-pkgs --auto-remove -t bookworm-backports")
        );
    }

    #[test]
    fn zero_upgrades_is_not_a_change() {
        let none = "Reading package lists...\nCalculating upgrade...\n0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n";
        let some = "The following packages will be upgraded:\n  openssl\n1 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n";
        assert!(!changed("apt-get", none));
        assert!(changed("apt-get", some));
        assert!(!changed(
            "aptitude",
            "x\n0 packages upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n"
        ));
    }

    #[test]
    fn modes_are_checked_and_booleans_read_as_yes_and_no() {
        let cases: &[(Value, Result<Option<&str>, &str>)] = &[
            (Value::str("dist"), Ok(Some("dist"))),
            (Value::str("no"), Ok(None)),
            (Value::Bool(true), Ok(Some("yes"))),
            (Value::Bool(false), Ok(None)),
            (
                Value::str("everything"),
                Err("value of upgrade must be one of: dist, full, no, safe, yes, got: everything"),
            ),
        ];
        for (v, want) in cases {
            let mut m = crate::value::Map::new();
            m.insert("upgrade".into(), v.clone());
            let a = Args::new("apt", &m);
            match (mode(&a), want) {
                (Ok(got), Ok(w)) => assert_eq!(got.as_deref(), *w, "{v:?}"),
                (Err(e), Err(w)) => assert_eq!(e, *w),
                (got, w) => panic!("{v:?}: got {got:?}, want {w:?}"),
            }
        }
    }
}
