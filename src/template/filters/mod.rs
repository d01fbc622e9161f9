//! Ansible's filters, grouped by theme. Each group registers itself; minijinja's builtins
//! (`length`, `join`, `map`, `selectattr`...) stay where Ansible's behave the same.

mod collections;
mod core;
mod encoding;
mod extremes;
mod paths;
mod regex;

pub(super) use regex::compile as compile_regex;

use super::native;
use super::vars_object::{Marker, is_undefined};
use crate::value::Value;
use minijinja::value::Value as MjValue;
use minijinja::{Environment, Error as MjError, ErrorKind as MjKind};

pub(super) fn register(env: &mut Environment<'static>) {
    core::register(env);
    regex::register(env);
    collections::register(env);
    encoding::register(env);
    extremes::register(env);
    paths::register(env);
}

/// A filter's refusal, named after the filter.
pub(super) fn fail(name: &str, msg: impl std::fmt::Display) -> MjError {
    MjError::new(MjKind::InvalidOperation, format!("{name}: {msg}"))
}

/// A template value as one of ours; undefined values are an error naming what is missing.
pub(super) fn plain(v: &MjValue) -> Result<Value, MjError> {
    if let Some(m) = v.downcast_object_ref::<Marker>() {
        m.used();
        return Err(MjError::new(MjKind::UndefinedError, m.error().message()));
    }
    native::to_value(v).map_err(|e| {
        MjError::new(
            if e.is_undefined() {
                MjKind::UndefinedError
            } else {
                MjKind::InvalidOperation
            },
            e.message(),
        )
    })
}

/// Fails on undefined input, for filters that need a real value.
pub(super) fn require(v: &MjValue) -> Result<(), MjError> {
    if let Some(m) = v.downcast_object_ref::<Marker>() {
        m.used();
        return Err(MjError::new(MjKind::UndefinedError, m.error().message()));
    }
    if v.is_undefined() {
        return Err(MjError::from(MjKind::UndefinedError));
    }
    Ok(())
}

pub(super) fn undefined(v: &MjValue) -> bool {
    is_undefined(v)
}

pub(super) fn mj(v: &Value) -> MjValue {
    native::from_value(v)
}

/// The text of a string-ish value; numbers and booleans as Python prints them.
pub(super) fn text(v: &MjValue) -> Result<String, MjError> {
    require(v)?;
    let mut s = String::new();
    match v.as_str() {
        Some(t) => s.push_str(t),
        None if v.is_none() => s.push_str("None"),
        None => native::python_repr(v, &mut s),
    }
    Ok(s)
}

#[cfg(test)]
pub(super) mod testutil {
    use crate::template::{MapVars, Templar, TemplarContext, Vars};
    use crate::value::Value;
    use std::sync::Arc;

    pub fn vars(yaml_json: &str) -> Arc<dyn Vars> {
        let v: serde_json::Value = serde_json::from_str(yaml_json).unwrap_or(serde_json::Value::Null);
        let map = match Value::from(v) {
            Value::Map(m) => m,
            _ => Default::default(),
        };
        Arc::new(MapVars::new(map))
    }

    /// Renders each template with the variables and compares the result's text.
    pub fn check(vars_json: &str, cases: &[(&str, &str)]) {
        let t = Templar::new(TemplarContext::default());
        let v = vars(vars_json);
        for (tpl, want) in cases {
            let got = t.render_str(tpl, &v).map(|v| match v {
                Value::Str(s) | Value::Unsafe(s) => s,
                other => serde_json::to_string(&other).unwrap_or_default(),
            });
            match got {
                Ok(s) => assert_eq!(&s, want, "template {tpl}"),
                Err(e) => panic!("template {tpl} failed: {e}"),
            }
        }
    }
}
