//! Ctrl-C and SIGTERM: the first lets running tasks finish and starts nothing new (the run
//! ends with status 130 and says how to resume); the second stops at once. The journal is
//! flushed line by line, so either way it stays usable.

use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Default)]
pub struct StopFlag {
    flag: AtomicBool,
}

impl StopFlag {
    pub fn requested(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }

    /// Returns true when a stop had already been asked for (this is the second signal).
    pub fn request(&self) -> bool {
        self.flag.swap(true, Ordering::AcqRel)
    }
}

/// Wait for SIGINT or SIGTERM.
pub async fn next_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
            return std::future::pending().await;
        };
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
