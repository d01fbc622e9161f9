//! `group`: a local group made, changed (`gid`) or removed with groupadd/groupmod/groupdel,
//! after reading `getent group` so only what differs is changed.

use super::Outcome;
use super::args::Args;
use super::context::ModuleCtx;
use super::sys_common::{self as sc, choice, try_arg};
use crate::connection::{self, BoxFuture};
use crate::value::Value;

const KNOWN: &[&str] = &[
    "name",
    "gid",
    "system",
    "state",
    "local",
    "non_unique",
    "force",
    "gid_min",
    "gid_max",
];

/// `name:x:gid:members` from `getent group NAME`, or `None` when there is no such group.
pub async fn getent_group(
    ctx: &ModuleCtx<'_>,
    name: &str,
) -> connection::Result<Result<Option<(i64, Vec<String>)>, String>> {
    let out = match sc::run(ctx, &["getent", "group", name]).await? {
        Ok(o) => o,
        Err(e) => return Ok(Err(e)),
    };
    if out.rc == 2 {
        return Ok(Ok(None));
    }
    if out.rc != 0 {
        return Ok(Err(format!("getent group {name} failed: {}", sc::both(&out))));
    }
    let text = out.stdout_lossy();
    let fields: Vec<&str> = text.trim_end().splitn(4, ':').collect();
    let gid = fields.get(2).and_then(|g| g.parse().ok()).unwrap_or(-1);
    let members = fields
        .get(3)
        .map(|m| m.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect())
        .unwrap_or_default();
    Ok(Ok(Some((gid, members))))
}

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let a = Args::new("group", ctx.args);
        try_arg!(a.only(KNOWN));
        let name = try_arg!(a.required_str("name"));
        let present =
            try_arg!(choice(&a, "state", Some("present"), &["present", "absent"])).as_deref() == Some("present");
        let gid = try_arg!(a.int("gid"));
        let system = try_arg!(a.bool("system", false));
        let non_unique = try_arg!(a.bool("non_unique", false));
        let force = try_arg!(a.bool("force", false));
        if try_arg!(a.bool("local", false)) {
            return Ok(Outcome::fail("local: true (lgroupadd) is not supported"));
        }
        if non_unique && gid.is_none() {
            return Ok(Outcome::fail("missing required arguments: gid (non_unique is true)"));
        }
        let current = try_arg!(getent_group(ctx, &name).await?);
        let mut o = Outcome::ok()
            .with("name", name.clone())
            .with("state", if present { "present" } else { "absent" });
        let argv: Option<Vec<String>> = match (present, &current) {
            (false, None) => None,
            (false, Some(_)) => {
                let mut v = vec!["groupdel".to_string()];
                if force {
                    v.push("-f".into());
                }
                v.push(name.clone());
                Some(v)
            }
            (true, None) => {
                let mut v = vec!["groupadd".to_string()];
                if let Some(g) = gid {
                    v.extend(["-g".into(), g.to_string()]);
                    if non_unique {
                        v.push("-o".into());
                    }
                }
                if system {
                    v.push("-r".into());
                }
                for (k, flag) in [("gid_min", "GID_MIN"), ("gid_max", "GID_MAX")] {
                    if let Some(n) = try_arg!(a.int(k)) {
                        v.extend(["-K".into(), format!("{flag}={n}")]);
                    }
                }
                v.push(name.clone());
                Some(v)
            }
            (true, Some((have, _))) => match gid {
                Some(g) if g != *have => {
                    let mut v = vec!["groupmod".to_string(), "-g".into(), g.to_string()];
                    if non_unique {
                        v.push("-o".into());
                    }
                    v.push(name.clone());
                    Some(v)
                }
                _ => None,
            },
        };
        if let Some(argv) = argv {
            o.changed = true;
            if !ctx.check {
                let out = try_arg!(sc::run(ctx, &argv).await?);
                if out.rc != 0 {
                    return Ok(Outcome::fail(sc::both(&out))
                        .with("name", name.clone())
                        .with("rc", i64::from(out.rc)));
                }
            }
        }
        if present {
            o = o.with("system", system);
            let now = if ctx.check {
                None
            } else {
                try_arg!(getent_group(ctx, &name).await?)
            };
            let g = now.map(|(g, _)| g).or(gid).or(current.map(|(g, _)| g));
            if let Some(g) = g {
                o = o.with("gid", Value::Int(g));
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

    /// Real groupadd/groupmod/groupdel through a real sshd; the name is unique to this run and
    /// removed at the end.
    #[test]
    fn group_lifecycle_over_ssh() {
        let lab = SysLab::new(&[]);
        let name = format!("pt-g{}", std::process::id());
        let _ = lab.sh(&format!("groupdel {name} 2>/dev/null"));
        let a = args(&[("name", Value::str(name.clone())), ("gid", Value::Int(34901))]);
        let o = lab.run(super::run, &a, true);
        assert!(o.changed && !o.failed, "{o:?}");
        assert_eq!(
            lab.sh(&format!("getent group {name}")).0,
            2,
            "check mode made the group"
        );
        let o = lab.run(super::run, &a, false);
        assert!(o.changed && !o.failed, "{o:?}");
        assert_eq!(o.data.get("gid"), Some(&Value::Int(34901)));
        assert_eq!(o.data.get("system"), Some(&Value::Bool(false)));
        assert!(!lab.run(super::run, &a, false).changed);
        let moved = args(&[("name", Value::str(name.clone())), ("gid", Value::Int(34902))]);
        assert!(lab.run(super::run, &moved, false).changed);
        assert!(lab.sh(&format!("getent group {name}")).1.contains(":34902:"));
        let gone = args(&[("name", Value::str(name.clone())), ("state", Value::str("absent"))]);
        let o = lab.run(super::run, &gone, false);
        assert!(o.changed && !o.data.contains_key("gid"), "{o:?}");
        assert!(!lab.run(super::run, &gone, false).changed);
        let o = lab.run(
            super::run,
            &args(&[("name", Value::str(name)), ("state", Value::str("gone"))]),
            false,
        );
        assert!(
            o.failed
                && o.msg
                    .unwrap_or_default()
                    .contains("value of state must be one of: present, absent")
        );
    }
}
