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
pub mod apt;
#[cfg(test)]
mod apt_tests;
pub mod apt_upgrade;
pub mod assert;
pub mod blockinfile;
mod cmd_common;
pub mod command;
pub mod copy;
pub mod copy_tree;
pub mod debug;
pub mod dpkg_selections;
pub mod fail;
pub mod fetch;
pub mod file;
pub mod file_attrs;
mod file_link;
mod file_recurse;
#[cfg(test)]
mod file_tests;
pub mod find;
pub mod find_walk;
pub mod get_url;
pub mod group;
pub mod group_by;
pub mod hostname;
pub mod http_client;
pub mod include_vars;
pub mod lineinfile;
pub mod lineinfile_edit;
pub mod modprobe;
pub mod mount;
#[cfg(test)]
mod net_ssh_tests;
pub mod package;
pub mod pause;
pub mod ping;
pub mod py_re;
pub mod raw;
pub mod reboot;
pub mod remote_file;
pub mod replace;
pub mod script;
pub mod service;
pub mod set_fact;
pub mod set_stats;
pub mod setup;
mod setup_facts;
mod setup_local;
pub mod shell;
pub mod slurp;
#[cfg(test)]
mod ssh_module_tests;
pub mod stat;
mod sys_common;
#[cfg(test)]
mod sys_lab;
pub mod sysctl;
pub mod systemd;
pub mod tempfile;
pub mod template;
pub mod template_vars;
#[cfg(test)]
mod test_http;
#[cfg(test)]
mod test_support;
pub mod text_edit;
#[cfg(test)]
mod text_ssh_tests;
pub mod unarchive;
pub mod uri;
pub mod user;
pub mod validate;
pub mod wait_for;
pub mod wait_for_connection;
pub mod write_file;
#[cfg(test)]
mod write_file_trips;
