//! The one place events go during a run: shared by every task future, printed in order.

use super::events::{Event, Sink};
use std::sync::{Arc, Mutex};

#[derive(Clone)]
pub struct Reporter {
    sink: Arc<Mutex<Box<dyn Sink>>>,
}

impl Reporter {
    pub fn new(sink: Box<dyn Sink>) -> Reporter {
        Reporter {
            sink: Arc::new(Mutex::new(sink)),
        }
    }

    pub fn emit(&self, event: Event) {
        // A poisoned lock means a printer panicked; keep printing rather than lose the run.
        let mut guard = self.sink.lock().unwrap_or_else(|p| p.into_inner());
        guard.emit(&event);
    }
}
