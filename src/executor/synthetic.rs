//! Tasks the engine adds itself (fact gathering), built like written ones so they run, print
//! and count the same way.

use crate::modules::registry;
use crate::plan::tree::PlanTask;
use crate::syntax::Span;
use crate::syntax::playbook::{Action, Keywords, Spanned, Task, Vars};
use crate::value::{Map, Value};
use std::sync::Arc;

pub fn synthetic_task(name: &str, module: &str, args: Map, span: &Span) -> PlanTask {
    let spec =
        registry::lookup(module).unwrap_or_else(|| registry::lookup("debug").unwrap_or_else(|| unreachable_spec()));
    let task = Task {
        span: span.clone(),
        name: Some(Spanned {
            value: Value::str(name),
            span: span.clone(),
        }),
        action: Action {
            module: spec,
            written: module.to_string(),
            span: span.clone(),
            args,
            local: false,
        },
        keywords: Keywords::default(),
        when: Vec::new(),
        vars: Vars::new(),
        looping: None,
        loop_control: Keywords::default(),
        notify: Vec::new(),
        listen: Vec::new(),
    };
    PlanTask {
        task: Arc::new(task),
        label: name.to_string(),
        tags: ["always".to_string()].into_iter().collect(),
        selected: true,
        inherited_when: Vec::new(),
        role: None,
        inherited: Arc::new(Keywords::default()),
        block_vars: Vec::new(),
    }
}

fn unreachable_spec() -> &'static registry::ModuleSpec {
    // The registry always holds `debug`; this is only here so no path can panic.
    static FALLBACK: registry::ModuleSpec = registry::ModuleSpec {
        name: "debug",
        short: "debug",
        raw_params: registry::RawParams::No,
        on_controller: true,
    };
    &FALLBACK
}
