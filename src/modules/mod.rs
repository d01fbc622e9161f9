//! What a task does. For now: the registry of every module and action a task may name.

pub mod registry;
