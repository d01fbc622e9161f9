//! `--graph`: the run as a DOT graph (plays, their batches in order, and the tasks each batch
//! runs), built with petgraph.

use crate::plan::compile::PlaybookPlan;
use crate::plan::tree::PlanNode;
use petgraph::dot::{Config, Dot};
use petgraph::graph::{DiGraph, NodeIndex};

pub fn graph(plans: &[PlaybookPlan]) -> String {
    let mut g: DiGraph<String, String> = DiGraph::new();
    let mut previous: Option<NodeIndex> = None;
    for plan in plans {
        for play in &plan.plays {
            let play_node = g.add_node(format!("play #{} {}", play.number, play.name));
            if let Some(p) = previous {
                g.add_edge(p, play_node, "then".into());
            }
            // The tasks once, as a chain; every batch enters at the first task.
            let mut first_task = None;
            let mut last_task: Option<NodeIndex> = None;
            let mut chain = |g: &mut DiGraph<String, String>, label: String| {
                let n = g.add_node(label);
                match last_task {
                    Some(prev) => {
                        g.add_edge(prev, n, String::new());
                    }
                    None => first_task = Some(n),
                }
                last_task = Some(n);
            };
            for (_, nodes) in &play.tree.sections {
                walk(nodes, &mut |label| chain(&mut g, label));
            }
            let mut prev = play_node;
            for (i, batch) in play.batches.iter().enumerate() {
                let b = g.add_node(format!("batch {}: {}", i + 1, batch.join(" ")));
                g.add_edge(prev, b, if i == 0 { "first".into() } else { "after batch".into() });
                if let Some(t) = first_task {
                    g.add_edge(b, t, "runs".into());
                }
                prev = b;
            }
            previous = Some(prev);
        }
    }
    format!("{}", Dot::with_config(&g, &[Config::EdgeNoLabel]))
}

fn walk(nodes: &[PlanNode], f: &mut dyn FnMut(String)) {
    for n in nodes {
        match n {
            PlanNode::Task(t) if t.selected => f(t.label.clone()),
            PlanNode::Task(_) => {}
            PlanNode::Block(b) => {
                walk(&b.block, f);
                walk(&b.rescue, f);
                walk(&b.always, f);
            }
        }
    }
}
