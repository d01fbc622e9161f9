//! What the user sees: listings, plans, graphs and errors.

pub mod graph;
pub mod listing;
pub mod plan_view;
