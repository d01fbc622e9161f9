//! `user`: a local account made, changed or removed with useradd/usermod/userdel. The account
//! is read first (`getent passwd`, `id -Gn`, `getent shadow`) and only what differs is passed
//! to usermod, so a second run changes nothing.

use super::Outcome;
use super::args::Args;
use super::context::ModuleCtx;
use super::group::getent_group;
use super::sys_common::{self as sc, choice, try_arg};
use crate::connection::{self, BoxFuture};
use crate::value::Value;

const KNOWN: &[&str] = &[
    "name",
    "user",
    "state",
    "uid",
    "group",
    "groups",
    "append",
    "shell",
    "home",
    "create_home",
    "createhome",
    "system",
    "password",
    "update_password",
    "remove",
    "force",
    "comment",
    "move_home",
    "non_unique",
];

struct Want {
    name: String,
    uid: Option<i64>,
    group: Option<String>,
    groups: Option<Vec<String>>,
    append: bool,
    shell: Option<String>,
    home: Option<String>,
    create_home: bool,
    system: bool,
    password: Option<String>,
    always_password: bool,
    comment: Option<String>,
    move_home: bool,
    non_unique: bool,
}

/// `getent passwd` fields: uid, gid, comment, home, shell.
struct Account {
    uid: i64,
    gid: i64,
    comment: String,
    home: String,
    shell: String,
}

fn read(a: &Args<'_>) -> Result<(Want, bool, bool, bool), String> {
    a.only(KNOWN)?;
    let name = a
        .str("name")?
        .or(a.str("user")?)
        .ok_or("missing required arguments: name")?;
    let present = choice(a, "state", Some("present"), &["present", "absent"])?.as_deref() == Some("present");
    let update = choice(a, "update_password", Some("always"), &["always", "on_create"])?;
    let create_home = match a.get("create_home") {
        Some(_) => a.bool("create_home", true)?,
        None => a.bool("createhome", true)?,
    };
    let w = Want {
        name,
        uid: a.int("uid")?,
        group: a.str("group")?,
        groups: a.list("groups")?,
        append: a.bool("append", false)?,
        shell: a.str("shell")?,
        home: a.str("home")?,
        create_home,
        system: a.bool("system", false)?,
        password: a.str("password")?,
        always_password: update.as_deref() == Some("always"),
        comment: a.str("comment")?,
        move_home: a.bool("move_home", false)?,
        non_unique: a.bool("non_unique", false)?,
    };
    Ok((w, present, a.bool("remove", false)?, a.bool("force", false)?))
}

async fn account(ctx: &ModuleCtx<'_>, name: &str) -> connection::Result<Result<Option<Account>, String>> {
    let out = match sc::run(ctx, &["getent", "passwd", name]).await? {
        Ok(o) => o,
        Err(e) => return Ok(Err(e)),
    };
    if out.rc == 2 {
        return Ok(Ok(None));
    }
    if out.rc != 0 {
        return Ok(Err(format!("failed to look up user name: {name}")));
    }
    let text = out.stdout_lossy();
    let f: Vec<&str> = text.trim_end_matches('\n').split(':').collect();
    let field = |i: usize| f.get(i).copied().unwrap_or_default().to_string();
    Ok(Ok(Some(Account {
        uid: field(2).parse().unwrap_or(-1),
        gid: field(3).parse().unwrap_or(-1),
        comment: field(4),
        home: field(5),
        shell: field(6),
    })))
}

/// The gid of a group given by name or number, or the failure Ansible reports.
async fn gid_of(ctx: &ModuleCtx<'_>, group: &str) -> connection::Result<Result<i64, String>> {
    Ok(match getent_group(ctx, group).await? {
        Ok(Some((gid, _))) => Ok(gid),
        Ok(None) => Err(format!("Group {group} does not exist")),
        Err(e) => Err(e),
    })
}

/// The user's supplementary groups (all groups but the primary one).
async fn supplementary(
    ctx: &ModuleCtx<'_>,
    name: &str,
    primary: i64,
) -> connection::Result<Result<Vec<String>, String>> {
    let line = match sc::line(&["id", "-G", "-n", name]) {
        Ok(l) => l,
        Err(e) => return Ok(Err(e)),
    };
    let prim = match sc::line(&["getent", "group", &primary.to_string()]) {
        Ok(l) => l,
        Err(e) => return Ok(Err(e)),
    };
    let out = sc::run_line(ctx, &format!("{line}; echo; {prim} | cut -d: -f1")).await?;
    let text = out.stdout_lossy();
    let mut lines = text.lines();
    let groups = lines.next().unwrap_or_default();
    let primary_name = lines.find(|l| !l.is_empty()).unwrap_or_default().trim().to_string();
    Ok(Ok(groups
        .split_whitespace()
        .filter(|g| *g != primary_name)
        .map(str::to_string)
        .collect()))
}

async fn shadow_hash(ctx: &ModuleCtx<'_>, name: &str) -> connection::Result<Option<String>> {
    let out = match sc::run(ctx, &["getent", "shadow", name]).await? {
        Ok(o) if o.rc == 0 => o,
        _ => return Ok(None),
    };
    Ok(out.stdout_lossy().split(':').nth(1).map(str::to_string))
}

/// Every requested group must exist before useradd/usermod is asked to use it.
async fn check_groups(ctx: &ModuleCtx<'_>, w: &Want) -> connection::Result<Result<(), String>> {
    for g in w.groups.iter().flatten() {
        if let Err(e) = gid_of(ctx, g).await? {
            return Ok(Err(e));
        }
    }
    Ok(Ok(()))
}

fn create_argv(w: &Want, same_name_group: bool) -> Vec<String> {
    let mut v = vec!["useradd".to_string()];
    let mut opt = |flag: &str, val: &Option<String>| {
        if let Some(x) = val {
            v.push(flag.to_string());
            v.push(x.clone());
        }
    };
    opt("-u", &w.uid.map(|u| u.to_string()));
    opt("-g", &w.group);
    opt("-G", &w.groups.as_ref().map(|g| g.join(",")));
    opt("-c", &w.comment);
    opt("-d", &w.home);
    opt("-s", &w.shell);
    opt("-p", &w.password);
    if w.uid.is_some() && w.non_unique {
        v.push("-o".into());
    }
    if w.group.is_none() && same_name_group {
        // useradd would try to make a group named after the user and fail on the existing one.
        v.push("-N".into());
    }
    v.push(if w.create_home { "-m" } else { "-M" }.into());
    if w.system {
        v.push("-r".into());
    }
    v.push(w.name.clone());
    v
}

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let (w, present, remove, force) = try_arg!(read(&Args::new("user", ctx.args)));
        let current = try_arg!(account(ctx, &w.name).await?);
        let state = if present { "present" } else { "absent" };
        let mut o = Outcome::ok().with("name", w.name.clone()).with("state", state);
        let mut argv: Option<Vec<String>> = None;
        match (&current, present) {
            (None, false) => return Ok(o),
            (Some(_), false) => {
                let mut v = vec!["userdel".to_string()];
                if force {
                    v.push("-f".into());
                }
                if remove {
                    v.push("-r".into());
                }
                v.push(w.name.clone());
                argv = Some(v);
                o = o.with("force", force).with("remove", remove);
            }
            (None, true) => {
                if let Some(g) = &w.group {
                    try_arg!(gid_of(ctx, g).await?);
                }
                try_arg!(check_groups(ctx, &w).await?);
                let same = w.group.is_none() && try_arg!(getent_group(ctx, &w.name).await?).is_some();
                argv = Some(create_argv(&w, same));
                o = o.with("system", w.system).with("create_home", w.create_home);
            }
            (Some(acc), true) => {
                let mut v = vec!["usermod".to_string()];
                if let Some(u) = w.uid.filter(|u| *u != acc.uid) {
                    v.extend(["-u".into(), u.to_string()]);
                    if w.non_unique {
                        v.push("-o".into());
                    }
                }
                if let Some(g) = &w.group {
                    let gid = try_arg!(gid_of(ctx, g).await?);
                    if gid != acc.gid {
                        v.extend(["-g".into(), g.clone()]);
                    }
                }
                if let Some(want) = &w.groups {
                    try_arg!(check_groups(ctx, &w).await?);
                    let have = try_arg!(supplementary(ctx, &w.name, acc.gid).await?);
                    let wanted: Vec<&String> = want.iter().filter(|g| !g.is_empty()).collect();
                    let missing = wanted.iter().any(|g| !have.contains(g));
                    let extra = !w.append && have.iter().any(|g| !wanted.contains(&g));
                    if missing || extra {
                        if w.append {
                            v.push("-a".into());
                        }
                        v.extend(["-G".into(), want.join(",")]);
                    }
                }
                for (flag, want, have) in [("-c", &w.comment, &acc.comment), ("-s", &w.shell, &acc.shell)] {
                    if let Some(x) = want.as_ref().filter(|x| *x != have) {
                        v.extend([flag.to_string(), x.clone()]);
                    }
                }
                if let Some(h) = w.home.as_ref().filter(|h| **h != acc.home) {
                    v.extend(["-d".into(), h.clone()]);
                    if w.move_home {
                        v.push("-m".into());
                    }
                }
                if let Some(p) = w.password.as_ref().filter(|_| w.always_password)
                    && shadow_hash(ctx, &w.name).await?.as_deref() != Some(p.as_str())
                {
                    v.extend(["-p".into(), p.clone()]);
                }
                if v.len() > 1 {
                    v.push(w.name.clone());
                    argv = Some(v);
                }
                o = o.with("append", w.append).with("move_home", w.move_home);
            }
        }
        if let Some(argv) = argv {
            o.changed = true;
            if !ctx.check {
                let out = try_arg!(sc::run(ctx, &argv).await?);
                if out.rc != 0 {
                    return Ok(Outcome::fail(out.stderr_lossy().trim_end().to_string())
                        .with("name", w.name.clone())
                        .with("rc", i64::from(out.rc)));
                }
                for (k, text) in [("stdout", out.stdout_lossy()), ("stderr", out.stderr_lossy())] {
                    if !text.is_empty() {
                        let lines: Vec<Value> = text.lines().map(Value::str).collect();
                        o = o.with(k, text.clone()).with(&format!("{k}_lines"), Value::List(lines));
                    }
                }
            }
        }
        if !present {
            return Ok(o);
        }
        if w.password.is_some() {
            o = o.with("password", "NOT_LOGGING_PASSWORD");
        }
        if let Some(acc) = try_arg!(account(ctx, &w.name).await?) {
            o = o
                .with("uid", acc.uid)
                .with("group", acc.gid)
                .with("comment", acc.comment)
                .with("home", acc.home)
                .with("shell", acc.shell);
            if let Some(g) = &w.groups {
                o = o.with("groups", g.join(","));
            }
        }
        Ok(o)
    })
}

#[cfg(test)]
mod tests {
    use crate::modules::sys_lab::SysLab;
    use crate::modules::test_support::args;
    use crate::value::Value;

    /// Real useradd/usermod/userdel through a real sshd, with names unique to this run.
    #[test]
    fn user_lifecycle_over_ssh() {
        let lab = SysLab::new(&[]);
        let pid = std::process::id();
        let (user, g1, g2) = (format!("pt-u{pid}"), format!("pt-ua{pid}"), format!("pt-ub{pid}"));
        let home = lab.lab.dir.path().join("home");
        lab.sh(&format!("userdel -r {user} 2>/dev/null; groupadd {g1}; groupadd {g2}"));
        let a = args(&[
            ("name", Value::str(user.clone())),
            ("uid", Value::Int(34911)),
            ("group", Value::str(g1.clone())),
            ("groups", Value::List(vec![Value::str(g2.clone())])),
            ("shell", Value::str("/bin/sh")),
            ("home", Value::str(home.display().to_string())),
            ("password", Value::str("$6$salt$hash")),
        ]);
        let o = lab.run(super::run, &a, true);
        assert!(o.changed && !o.failed, "{o:?}");
        assert_eq!(
            lab.sh(&format!("getent passwd {user}")).0,
            2,
            "check mode made the user"
        );
        let o = lab.run(super::run, &a, false);
        assert!(o.changed && !o.failed, "{o:?}");
        let gid = lab
            .sh(&format!("getent group {g1} | cut -d: -f3"))
            .1
            .trim()
            .parse::<i64>()
            .unwrap_or(-1);
        assert_eq!(o.data.get("uid"), Some(&Value::Int(34911)));
        assert_eq!(o.data.get("group"), Some(&Value::Int(gid)));
        assert_eq!(o.data.get("groups"), Some(&Value::str(g2.clone())));
        assert_eq!(o.data.get("password"), Some(&Value::str("NOT_LOGGING_PASSWORD")));
        assert_eq!(o.data.get("create_home"), Some(&Value::Bool(true)));
        assert!(home.is_dir());
        assert!(lab.sh(&format!("getent shadow {user}")).1.contains("$6$salt$hash"));
        let o = lab.run(super::run, &a, false);
        assert!(!o.changed && !o.failed, "{o:?}");
        assert_eq!(o.data.get("append"), Some(&Value::Bool(false)));
        let shell = args(&[("name", Value::str(user.clone())), ("shell", Value::str("/bin/bash"))]);
        assert!(lab.run(super::run, &shell, false).changed);
        assert!(
            lab.sh(&format!("getent passwd {user}"))
                .1
                .trim_end()
                .ends_with(":/bin/bash")
        );
        // groups without append replaces the list: g2 leaves.
        let only = args(&[("name", Value::str(user.clone())), ("groups", Value::List(vec![]))]);
        assert!(lab.run(super::run, &only, false).changed);
        assert!(!lab.sh(&format!("id -Gn {user}")).1.contains(&g2));
        let bad = args(&[
            ("name", Value::str(user.clone())),
            ("group", Value::str("pt-no-such-group")),
        ]);
        let o = lab.run(super::run, &bad, false);
        assert!(o.failed && o.msg.unwrap_or_default() == "Group pt-no-such-group does not exist");
        let gone = args(&[
            ("name", Value::str(user.clone())),
            ("state", Value::str("absent")),
            ("remove", Value::Bool(true)),
        ]);
        let o = lab.run(super::run, &gone, false);
        assert!(o.changed && o.data.get("remove") == Some(&Value::Bool(true)), "{o:?}");
        assert!(!home.exists());
        let o = lab.run(super::run, &gone, false);
        assert!(!o.changed && !o.data.contains_key("remove"), "{o:?}");
        lab.sh(&format!("groupdel {g1}; groupdel {g2}"));
    }
}
