//! The plan: hosts resolved from patterns, roles expanded, variables layered, plays cut into
//! batches, and the whole run compiled into an immutable task graph before any host is contacted.

pub mod error;
mod fnmatch;
pub mod inventory_index;
pub mod inventory_vars;
pub mod patterns;

pub use error::{Error, ErrorKind, Result};
