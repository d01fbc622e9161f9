//! `--list-hosts`, `--list-tasks`, `--list-tags` and `--syntax-check`, printed exactly as
//! ansible-playbook prints them (hosts in inventory order and play tags in written order where
//! ansible prints Python set order).

use crate::plan::compile::PlaybookPlan;
use std::collections::BTreeSet;
use std::fmt::Write;

/// Which listings to print.
#[derive(Clone, Copy, Debug, Default)]
pub struct Lists {
    pub hosts: bool,
    pub tasks: bool,
    pub tags: bool,
}

/// The listing of one playbook.
pub fn listing(plan: &PlaybookPlan, lists: Lists) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\nplaybook: {}", plan.path.display());
    for play in &plan.plays {
        let _ = writeln!(
            out,
            "\n  play #{} ({}): {}\tTAGS: [{}]",
            play.number,
            play.hosts_label(),
            play.name,
            play.tags.join(",")
        );
        if lists.hosts {
            let pattern: Vec<String> = play.patterns.iter().map(|p| python_str(p)).collect();
            let _ = writeln!(out, "    pattern: [{}]", pattern.join(", "));
            let _ = writeln!(out, "    hosts ({}):", play.hosts.len());
            for h in &play.hosts {
                let _ = writeln!(out, "      {h}");
            }
        }
        let selected: Vec<_> = play.tree.listed_tasks().into_iter().filter(|t| t.selected).collect();
        if lists.tasks {
            let _ = writeln!(out, "    tasks:");
            for t in &selected {
                let tags: Vec<&str> = t.tags.iter().map(String::as_str).collect();
                let _ = writeln!(out, "      {}\tTAGS: [{}]", t.label, tags.join(", "));
            }
        }
        if lists.tags {
            let mut all: BTreeSet<&str> = play.tags.iter().map(String::as_str).collect();
            for t in &selected {
                all.extend(t.tags.iter().map(String::as_str));
            }
            let all: Vec<&str> = all.into_iter().collect();
            let _ = writeln!(out, "      TASK TAGS: [{}]", all.join(", "));
        }
    }
    out
}

/// `--syntax-check`: the playbook line only.
pub fn syntax_ok(plan: &PlaybookPlan) -> String {
    format!("\nplaybook: {}\n", plan.path.display())
}

/// A string as Python's `repr` prints it inside a list.
fn python_str(s: &str) -> String {
    if s.contains('\'') && !s.contains('"') {
        format!("\"{s}\"")
    } else {
        format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

#[cfg(test)]
mod tests {
    use super::python_str;

    #[test]
    fn patterns_print_as_python_reprs() {
        assert_eq!(python_str("web:&prod"), "'web:&prod'");
        assert_eq!(python_str("it's"), "\"it's\"");
    }
}
