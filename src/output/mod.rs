//! What the user sees: listings, plans, graphs, and the events of a run (printed for people by
//! [`human`], or one JSON object per line by [`json_lines`]).

pub mod events;
pub mod graph;
pub mod human;
pub mod json_lines;
pub mod listing;
pub mod plan_view;
pub mod pyjson;
pub mod reporter;
pub mod runs_view;
