//! `async: N` with `poll: 0`: the module keeps running in the background (its connection
//! stays open on the controller) and the task moves on at once with an `ansible_job_id`;
//! `async_status` reads the job's state. Jobs live as long as the run.

use crate::value::{Map, Value};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub struct Jobs {
    next: AtomicU64,
    state: Mutex<HashMap<String, Option<Map>>>,
}

impl Jobs {
    /// A new job, running.
    pub fn start(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let jid = format!("j{n}.{}", std::process::id());
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(jid.clone(), None);
        jid
    }

    pub fn finish(&self, jid: &str, result: Map) {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(jid.to_string(), Some(result));
    }

    /// What `async_status` returns for `jid`.
    pub fn status(&self, jid: &str, cleanup: bool) -> Map {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Map::new();
        out.insert("ansible_job_id".into(), Value::str(jid));
        match guard.get(jid) {
            None => {
                out.insert("failed".into(), Value::Bool(true));
                out.insert("finished".into(), Value::Int(1));
                out.insert("started".into(), Value::Int(1));
                out.insert(
                    "msg".into(),
                    Value::str(format!(
                        "could not find job {jid}: async jobs live only as long as the run that started them"
                    )),
                );
            }
            Some(None) => {
                out.insert("started".into(), Value::Int(1));
                out.insert("finished".into(), Value::Int(0));
                out.insert("changed".into(), Value::Bool(false));
            }
            Some(Some(result)) => {
                for (k, v) in result {
                    out.insert(k.clone(), v.clone());
                }
                out.insert("started".into(), Value::Int(1));
                out.insert("finished".into(), Value::Int(1));
                out.insert("ansible_job_id".into(), Value::str(jid));
            }
        }
        if cleanup {
            guard.remove(jid);
            out.insert("erased".into(), Value::str(jid));
        }
        out
    }
}
