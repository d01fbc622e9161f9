//! `--plan`: each play's hosts cut into batches, and the tasks every batch runs, without
//! contacting any host.

use crate::plan::compile::PlaybookPlan;
use crate::plan::tree::{PlanNode, PlanTask};
use std::fmt::Write;

pub fn plan_view(plan: &PlaybookPlan) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "playbook: {}", plan.path.display());
    for play in &plan.plays {
        let _ = writeln!(out, "\nplay #{} ({}): {}", play.number, play.hosts_label(), play.name);
        let serial = match &play.serial {
            Some(v) => format!("serial {v}"),
            None => "no serial".to_string(),
        };
        let sizes: Vec<String> = play.batches.iter().map(|b| b.len().to_string()).collect();
        let _ = writeln!(
            out,
            "  {} hosts, {serial}: {} batch{} ({})",
            play.hosts.len(),
            play.batches.len(),
            if play.batches.len() == 1 { "" } else { "es" },
            sizes.join(", ")
        );
        for (i, batch) in play.batches.iter().enumerate() {
            let _ = writeln!(out, "  batch {}/{}: {}", i + 1, play.batches.len(), batch.join(" "));
        }
        let _ = writeln!(out, "  each batch runs:");
        for (_, nodes) in &play.tree.sections {
            write_nodes(&mut out, nodes, 2);
        }
        if !play.tree.handlers.is_empty() {
            let _ = writeln!(out, "  handlers (when notified, at the end of each batch):");
            write_nodes(&mut out, &play.tree.handlers, 2);
        }
        if !play.tree.gate_checks.is_empty() && play.batches.len() > 1 {
            let _ = writeln!(
                out,
                "  health gate (after each batch but the last; the next batch waits for it):"
            );
            write_nodes(&mut out, &play.tree.gate_checks, 2);
        }
    }
    out
}

fn write_nodes(out: &mut String, nodes: &[PlanNode], depth: usize) {
    let pad = "  ".repeat(depth);
    for node in nodes {
        match node {
            PlanNode::Task(t) => write_task(out, t, &pad),
            PlanNode::Block(b) => {
                let _ = writeln!(
                    out,
                    "{pad}block{}:",
                    b.name.as_ref().map(|n| format!(" {n}")).unwrap_or_default()
                );
                write_nodes(out, &b.block, depth + 1);
                if !b.rescue.is_empty() {
                    let _ = writeln!(out, "{pad}rescue:");
                    write_nodes(out, &b.rescue, depth + 1);
                }
                if !b.always.is_empty() {
                    let _ = writeln!(out, "{pad}always:");
                    write_nodes(out, &b.always, depth + 1);
                }
            }
        }
    }
}

fn write_task(out: &mut String, t: &PlanTask, pad: &str) {
    let mut notes = Vec::new();
    if !t.selected {
        notes.push("skipped by tags".to_string());
    }
    if t.role.as_ref().is_some_and(|r| r.duplicate) {
        notes.push("role already ran in this play".to_string());
    }
    if t.task
        .keywords
        .get("run_once")
        .is_some_and(|v| v.value.as_bool_loose() == Some(true))
    {
        notes.push("once per batch".to_string());
    }
    if let Some(d) = t.task.keywords.get("delegate_to") {
        notes.push(format!("on {}", d.value));
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!("  ({})", notes.join("; "))
    };
    let _ = writeln!(out, "{pad}- {}{notes}", t.label);
}
