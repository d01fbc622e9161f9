//! `dpkg_selections`: a package's dpkg selection (`hold` keeps apt from changing it), read
//! with `dpkg --get-selections` and set with `dpkg --set-selections` only when it differs.

use super::Outcome;
use super::args::Args;
use super::context::{Diff, ModuleCtx};
use super::sys_common::{self as sc, choice, try_arg};
use crate::connection::{self, BoxFuture, ExecRequest};

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let a = Args::new("dpkg_selections", ctx.args);
        try_arg!(a.only(&["name", "selection"]));
        let name = try_arg!(a.required_str("name"));
        let selection = match try_arg!(choice(
            &a,
            "selection",
            None,
            &["install", "hold", "deinstall", "purge"]
        )) {
            Some(s) => s,
            None => return Ok(Outcome::fail("missing required arguments: selection")),
        };
        let out = try_arg!(sc::run(ctx, &["dpkg", "--get-selections", name.as_str()]).await?);
        let current = out.stdout_lossy().lines().find_map(|l| {
            let mut w = l.split_whitespace();
            let pkg = w.next()?;
            (pkg == name || pkg.split(':').next() == Some(name.as_str())).then(|| w.next().map(str::to_string))?
        });
        let Some(current) = current else {
            return Ok(Outcome::fail(format!(
                "Failed to find package '{name}' to perform selection '{selection}'."
            )));
        };
        let changed = current != selection;
        let mut o = Outcome::changed(changed)
            .with("before", current.clone())
            .with("after", selection.clone());
        if changed && ctx.diff {
            o.diff.push(Diff {
                before: format!("{current}\n"),
                after: format!("{selection}\n"),
                ..Diff::default()
            });
        }
        if changed && !ctx.check {
            let req = ExecRequest::new("LC_ALL=C dpkg --set-selections").stdin(format!("{name} {selection}\n"));
            let out = ctx.conn.exec(&req).await?;
            if out.rc != 0 {
                return Ok(Outcome::fail(sc::both(&out)));
            }
        }
        Ok(o)
    })
}
