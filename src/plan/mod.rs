//! The plan: hosts resolved from patterns, roles expanded, variables layered, plays cut into
//! batches, and the whole run compiled into an immutable task graph before any host is contacted.

pub mod compile;
pub mod error;
mod fnmatch;
pub mod inventory_index;
pub mod inventory_vars;
pub mod patterns;
pub mod roles;
pub mod scope;
pub mod serial;
pub mod tags;
pub mod tree;

pub use error::{Error, ErrorKind, Result};
