//! The only stage that touches YAML: files become typed trees whose every node knows its
//! file, line and column. Nothing here knows about hosts, plans or execution.

pub mod error;
pub mod inventory;
pub mod node;
pub mod playbook;
pub mod role;
pub mod span;
pub mod vault;
pub mod yaml;

pub use error::{Error, ErrorKind, Result};
pub use node::{Node, NodeKind};
pub use span::{SourceFile, Span};
