//! `loop:` and `with_<lookup>:`: the items a task runs over, and the variables each item sets
//! (`item` or `loop_control.loop_var`, `index_var`, `ansible_loop` when `extended`).

use crate::syntax::playbook::{Keywords, Loop, LoopKind};
use crate::template::{MapVars, Templar, Vars};
use crate::value::{Map, Value};
use std::sync::Arc;

pub struct LoopItem {
    pub value: Value,
    pub var_name: String,
    /// The variables this item adds.
    pub vars: Arc<Map>,
    /// `loop_control.label`, unrendered.
    pub label: Option<Value>,
}

pub fn loop_items(
    templar: &Templar,
    l: &Loop,
    control: &Keywords,
    vars: &Arc<dyn Vars>,
) -> Result<Vec<LoopItem>, String> {
    let rendered = templar
        .render_value(&l.items.value, vars)
        .map_err(|e| format!("cannot template the loop: {e}"))?;
    let values = match &l.kind {
        LoopKind::Loop => match rendered {
            Value::List(items) => items,
            Value::Null => Vec::new(),
            other => {
                return Err(format!(
                    "Invalid data passed to 'loop', it requires a list, got this instead: {other}. Hint: If you passed a list/dict of just one element, try adding wantlist=True to your lookup invocation or use q/query instead of lookup."
                ));
            }
        },
        LoopKind::With(name) => with_lookup(templar, name, rendered, vars)?,
    };
    // Items are template or lookup output (often a host's): never templated again.
    let values: Vec<Value> = values.into_iter().map(crate::template::untrusted).collect();
    let var_name = control
        .get("loop_var")
        .map(|v| v.value.to_string())
        .unwrap_or_else(|| "item".into());
    let index_var = control.get("index_var").map(|v| v.value.to_string());
    let extended = control
        .get("extended")
        .and_then(|v| v.value.as_bool_loose())
        .unwrap_or(false);
    let label = control.get("label").map(|v| v.value.clone());
    let n = values.len();
    Ok(values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let mut m = Map::new();
            m.insert(var_name.clone(), v.clone());
            m.insert("ansible_loop_var".into(), Value::str(var_name.clone()));
            if let Some(iv) = &index_var {
                m.insert(iv.clone(), Value::Int(i as i64));
                m.insert("ansible_index_var".into(), Value::str(iv.clone()));
            }
            if extended {
                let mut l = Map::new();
                l.insert("index".into(), Value::Int(i as i64 + 1));
                l.insert("index0".into(), Value::Int(i as i64));
                l.insert("revindex".into(), Value::Int((n - i) as i64));
                l.insert("revindex0".into(), Value::Int((n - i - 1) as i64));
                l.insert("first".into(), Value::Bool(i == 0));
                l.insert("last".into(), Value::Bool(i + 1 == n));
                l.insert("length".into(), Value::Int(n as i64));
                if i > 0 {
                    l.insert("previtem".into(), values.get(i - 1).cloned().unwrap_or_default());
                }
                if i + 1 < n {
                    l.insert("nextitem".into(), values.get(i + 1).cloned().unwrap_or_default());
                }
                m.insert("ansible_loop".into(), Value::Map(l));
            }
            LoopItem {
                value: v.clone(),
                var_name: var_name.clone(),
                vars: Arc::new(m),
                label: label.clone(),
            }
        })
        .collect())
}

/// `with_<name>: terms` is `query('<name>', terms...)`; the common ones are done here.
fn with_lookup(templar: &Templar, name: &str, terms: Value, vars: &Arc<dyn Vars>) -> Result<Vec<Value>, String> {
    let as_list = |v: Value| match v {
        Value::List(l) => l,
        Value::Null => Vec::new(),
        other => vec![other],
    };
    match name {
        "items" => Ok(as_list(terms).into_iter().flat_map(as_list).collect()),
        "list" => Ok(as_list(terms)),
        "indexed_items" => Ok(as_list(terms)
            .into_iter()
            .flat_map(as_list)
            .enumerate()
            .map(|(i, v)| Value::List(vec![Value::Int(i as i64), v]))
            .collect()),
        "dict" => match terms {
            Value::Map(m) => Ok(m
                .into_iter()
                .map(|(k, v)| {
                    let mut e = Map::new();
                    e.insert("key".into(), Value::Str(k));
                    e.insert("value".into(), v);
                    Value::Map(e)
                })
                .collect()),
            other => Err(format!("with_dict expects a dict, got a {}", other.type_name())),
        },
        other => {
            let mut m = Map::new();
            m.insert("__play_with_terms".into(), terms);
            let scoped: Arc<dyn Vars> = Arc::new(MapVars::over(vars.clone(), m));
            let expr = format!("{{{{ query('{other}', __play_with_terms) }}}}");
            templar
                .render_str(&expr, &scoped)
                .map(as_list)
                .map_err(|e| format!("with_{other}: {e}"))
        }
    }
}
