//! What a module's result changes in the run: facts (`setup`), `set_fact`, `include_vars`,
//! `add_host`, `group_by`.

use super::shared::Shared;
use super::task::HostOutcome;
use crate::output::events::Status;
use crate::plan::tree::PlanTask;
use crate::value::{Map, Value};
use std::sync::Arc;

/// `no_log` says, per host, whether the task hides its values: those facts still take
/// effect but are not journaled (the journal never holds what the output hid).
pub fn apply(shared: &Shared, t: &PlanTask, outcomes: &[HostOutcome], no_log: &dyn Fn(&str) -> bool) {
    let module = t.task.action.module.name;
    let delegate_facts = t
        .keyword("delegate_facts")
        .and_then(|v| v.value.as_bool_loose())
        .unwrap_or(false);
    for o in outcomes {
        if matches!(o.status, Status::Failed | Status::Unreachable | Status::Skipped) {
            continue;
        }
        // `delegate_facts: true`: facts describe the delegate, so they are its own.
        let owner = match (&o.delegated, delegate_facts) {
            (Some(d), true) if shared.inventory.host(d).is_some() => d.as_str(),
            _ => o.host.as_str(),
        };
        let hidden = no_log(&o.host);
        apply_one(shared, module, owner, &o.result, hidden);
        if let Some(Value::List(items)) = o.result.get("results") {
            for item in items {
                if let Value::Map(m) = item {
                    apply_one(shared, module, owner, m, hidden);
                }
            }
        }
    }
}

fn apply_one(shared: &Shared, module: &str, host: &str, result: &Map, no_log: bool) {
    if result.get("skipped").and_then(Value::as_bool_loose).unwrap_or(false) {
        return;
    }
    if let Some(Value::Map(facts)) = result.get("ansible_facts") {
        let layer = match module {
            "set_fact" => "set_fact",
            "include_vars" => "include_vars",
            _ => "facts",
        };
        if !no_log {
            shared.reporter.emit(crate::output::events::Event::VarsChanged {
                host: host.to_string(),
                layer,
                vars: facts.clone(),
            });
        }
        match module {
            "set_fact" => {
                for (k, v) in facts {
                    shared.state.set_var(host, k, v.clone());
                }
            }
            "include_vars" => shared.state.update(host, |s| {
                let m = Arc::make_mut(&mut s.include_vars);
                for (k, v) in facts {
                    m.insert(k.clone(), v.clone());
                }
            }),
            _ => {
                for var in shared.state.merge_facts(host, facts) {
                    shared
                        .reporter
                        .emit(crate::output::events::Event::Warning(format!(
                            "Removed restricted key from module data: {var} (a host's facts cannot change how it is reached)"
                        )));
                }
            }
        }
    }
    if let Some(Value::Map(add)) = result.get("add_host") {
        let name = add.get("host_name").map(|v| v.to_string()).unwrap_or_default();
        let groups: Vec<String> = add
            .get("groups")
            .and_then(Value::as_list)
            .map(|l| l.iter().map(|v| v.to_string()).collect())
            .unwrap_or_default();
        let vars = add
            .get("host_vars")
            .and_then(Value::as_map)
            .cloned()
            .unwrap_or_default();
        if !name.is_empty() {
            shared.inventory.add_host(&name, &groups, &vars);
        }
    }
    if let Some(group) = result.get("add_group").and_then(|v| v.as_str()) {
        let parents: Vec<String> = result
            .get("parent_groups")
            .and_then(Value::as_list)
            .map(|l| l.iter().map(|v| v.to_string()).collect())
            .unwrap_or_default();
        shared.inventory.add_to_group(host, group, &parents);
    }
}
