//! What a task does. Each module is controller logic plus remote shell commands sent through
//! the [`Connection`](crate::connection::Connection) trait: no Python on the hosts.
//!
//! [`registry`] names every module a task may write; [`table`] maps the implemented ones to
//! their code. A module first asks the host what is there, then changes only what differs, so
//! check mode and `changed` fall out of the same code path.

pub mod arg_specs;
pub mod args;
pub mod context;
pub mod registry;
pub mod table;

pub use context::{ModuleCtx, ModuleFn, Outcome};

pub mod add_host;
pub mod assert;
mod cmd_common;
pub mod command;
pub mod copy;
pub mod copy_tree;
pub mod debug;
pub mod fail;
pub mod file;
pub mod file_attrs;
mod file_link;
mod file_recurse;
#[cfg(test)]
mod file_tests;
pub mod group_by;
pub mod include_vars;
pub mod lineinfile;
pub mod lineinfile_edit;
pub mod pause;
pub mod ping;
pub mod raw;
pub mod remote_file;
pub mod script;
pub mod set_fact;
pub mod setup;
mod setup_facts;
pub mod shell;
#[cfg(test)]
mod ssh_module_tests;
pub mod stat;
pub mod template;
pub mod template_vars;
#[cfg(test)]
mod test_support;
pub mod validate;
pub mod wait_for_connection;
pub mod write_file;
