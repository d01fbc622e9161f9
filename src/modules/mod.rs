//! What a task does. Each module is controller logic plus remote shell commands sent through
//! the [`Connection`](crate::connection::Connection) trait: no Python on the hosts.
//!
//! [`registry`] names every module a task may write; [`table`] maps the implemented ones to
//! their code. A module first asks the host what is there, then changes only what differs, so
//! check mode and `changed` fall out of the same code path.

pub mod args;
pub mod context;
pub mod registry;
pub mod table;

pub use context::{ModuleCtx, ModuleFn, Outcome};

mod add_host;
mod assert;
mod cmd_common;
mod command;
mod debug;
mod fail;
mod group_by;
mod include_vars;
mod pause;
mod ping;
mod raw;
mod script;
mod set_fact;
mod setup;
mod setup_facts;
mod shell;
#[cfg(test)]
mod ssh_module_tests;
#[cfg(test)]
mod test_support;
mod wait_for_connection;
