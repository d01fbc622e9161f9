//! The command line and its configuration: arguments as `ansible-playbook` spells them,
//! `ansible.cfg` and `ANSIBLE_*` settings merged under them, extra vars, and vault passwords,
//! validated into one [`RunConfig`] that later stages read.

mod args;
pub mod config;
pub mod error;
pub mod extra_vars;
mod passwords;
mod run_config;
mod settings;

pub use args::{Options, exit_status, parse_args};
pub use config::Environment;
pub use error::{Error, ErrorKind, Result};
pub use passwords::{Passwords, Prompt, ask_passwords, vault_secrets};
pub use run_config::{InventorySource, Listing, RunConfig};
