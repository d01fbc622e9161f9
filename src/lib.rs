//! # play
//!
//! An agentless playbook engine. Input flows one way:
//! `syntax` reads inventory, playbooks and roles into trees that keep every position;
//! `template` renders Jinja expressions with Ansible's filters, tests and lazy variables;
//! `plan` resolves hosts, expands roles, layers variables and cuts plays into batches;
//! `executor` runs the plan: batches, forks, handlers, health gates, the run journal; it does
//! what a task says through `modules`, which reach hosts only through `connection` (russh
//! sessions, bastions, become); `output` reports every stage to the user (people or JSON
//! lines). `cli` turns arguments into a run configuration.

pub mod cli;
pub mod connection;
pub mod executor;
pub mod fuzz;
pub mod modules;
pub mod output;
pub mod plan;
mod run;
pub mod syntax;
pub mod template;
pub mod value;

/// Run the command line; returns the process exit status.
pub fn run(args: Vec<std::ffi::OsString>) -> i32 {
    run::run(args)
}
