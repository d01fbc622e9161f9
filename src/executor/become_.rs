//! `become`: which user a task's commands run as, resolved from the task, what surrounds it,
//! the host's `ansible_become*` variables and the command line; applied by wrapping the
//! connection.

use super::action::ActionCall;
use crate::connection::options::Secret;
use crate::connection::{BecomeConnection, BecomeMethod, BecomeSpec, Connection};
use crate::template::Vars;
use std::sync::Arc;

/// The settings in force for one task on one host.
#[derive(Clone, Debug)]
pub struct BecomeSettings {
    pub method: String,
    pub user: String,
    pub flags: Option<String>,
    pub exe: Option<String>,
    /// From `ansible_become_password` (or `_pass`), else `-K`. Never printed.
    pub password: Option<Secret>,
}

/// Resolve `become` for this call; `None` when the task does not become another user.
pub fn resolve(call: &ActionCall<'_>, vars: &Arc<dyn Vars>) -> Result<Option<BecomeSettings>, String> {
    let templar = &call.shared.templar;
    let opts = &call.shared.opts;
    let text = |kw: &str, var: &str| -> Result<Option<String>, String> {
        let raw = match call.run.keyword(kw) {
            Some(v) => Some(v.value.clone()),
            None => vars.get(var),
        };
        match raw {
            None | Some(crate::value::Value::Null) => Ok(None),
            Some(v) => templar
                .render_value(&v, vars)
                .map(|v| Some(v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
                .map_err(|e| format!("cannot template '{kw}': {e}")),
        }
    };
    let on = match text("become", "ansible_become")? {
        Some(v) => crate::value::Value::str(v).as_bool_loose().unwrap_or(false),
        None => opts.r#become,
    };
    if !on {
        return Ok(None);
    }
    Ok(Some(BecomeSettings {
        method: text("become_method", "ansible_become_method")?.unwrap_or_else(|| opts.become_method.clone()),
        user: text("become_user", "ansible_become_user")?.unwrap_or_else(|| opts.become_user.clone()),
        flags: text("become_flags", "ansible_become_flags")?,
        exe: text("become_exe", "ansible_become_exe")?,
        password: match text("ansible_become_password", "ansible_become_password")?
            .or(text("ansible_become_pass", "ansible_become_pass")?)
        {
            Some(p) => Some(Secret::new(p)),
            None => opts.become_password.clone(),
        },
    }))
}

pub fn wrap(
    call: &ActionCall<'_>,
    vars: &Arc<dyn Vars>,
    conn: Arc<dyn Connection>,
) -> Result<Arc<dyn Connection>, String> {
    if call.run.task.task.action.module.on_controller {
        return Ok(conn);
    }
    match resolve(call, vars)? {
        None => Ok(conn),
        Some(s) => {
            let Some(method) = BecomeMethod::parse(&s.method) else {
                return Err(format!("become_method '{}' is not supported; use sudo or su", s.method));
            };
            let mut spec = BecomeSpec::new(method).user(s.user);
            spec.flags = s.flags;
            spec.exe = s.exe;
            spec.password = s.password;
            Ok(Arc::new(BecomeConnection::new(conn, spec)))
        }
    }
}
