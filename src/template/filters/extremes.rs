//! `min` and `max` with Jinja's keyword arguments: `attribute` (dotted, `'age'` or
//! `'spec.size'`) picks what to compare and `case_sensitive` (default false) folds strings.
//! The engine's own builtins take neither, and roles use `max(attribute=...)`.

use super::{fail, require};
use minijinja::value::{Kwargs, Value as MjValue};
use minijinja::{Environment, Error as MjError};

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("max", |v: MjValue, kw: Kwargs| extreme("max", v, kw));
    env.add_filter("min", |v: MjValue, kw: Kwargs| extreme("min", v, kw));
}

fn extreme(name: &str, value: MjValue, kwargs: Kwargs) -> Result<MjValue, MjError> {
    let attribute: Option<String> = kwargs.get("attribute")?;
    let case_sensitive = kwargs.get::<Option<bool>>("case_sensitive")?.unwrap_or(false);
    kwargs.assert_all_used()?;
    require(&value)?;
    let items = value
        .try_iter()
        .map_err(|_| fail(name, format!("expected a list, got {}", value.kind())))?;
    let mut best: Option<(MjValue, MjValue)> = None;
    for item in items {
        let key = sort_key(&item, attribute.as_deref(), case_sensitive)?;
        let better = match &best {
            None => true,
            Some((best_key, _)) if name == "max" => key > *best_key,
            Some((best_key, _)) => key < *best_key,
        };
        if better {
            best = Some((key, item));
        }
    }
    Ok(best.map(|(_, item)| item).unwrap_or(MjValue::UNDEFINED))
}

fn sort_key(item: &MjValue, attribute: Option<&str>, case_sensitive: bool) -> Result<MjValue, MjError> {
    let mut key = item.clone();
    if let Some(path) = attribute {
        for part in path.split('.') {
            key = match part.parse::<usize>() {
                Ok(index) => key.get_item(&MjValue::from(index))?,
                Err(_) => key.get_attr(part)?,
            };
        }
    }
    Ok(match key.as_str() {
        Some(s) if !case_sensitive => MjValue::from(s.to_lowercase()),
        _ => key,
    })
}
