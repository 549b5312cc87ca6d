//! The workers a process runs, per lane: counted for readiness, told to stop, and awaited.
//! What each worker does is in `worker.rs`.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::domain::Lane;

/// The workers this process runs.
pub(super) struct Crew {
    /// How many were started; zero in a process that runs none by design.
    started: AtomicUsize,
    /// The lanes this process runs workers for.
    lanes: Mutex<Vec<Lane>>,
    /// How many are running now.
    live: Arc<AtomicUsize>,
    /// Turns true when they must stop.
    stop: watch::Sender<bool>,
    handles: Mutex<Vec<JoinHandle<()>>>,
}

impl Default for Crew {
    fn default() -> Self {
        Crew {
            started: AtomicUsize::new(0),
            lanes: Mutex::default(),
            live: Arc::default(),
            stop: watch::channel(false).0,
            handles: Mutex::default(),
        }
    }
}

/// Counts a worker as live for as long as it exists, however its task ends.
struct LiveWorker(Arc<AtomicUsize>);

impl LiveWorker {
    fn new(live: &Arc<AtomicUsize>) -> LiveWorker {
        live.fetch_add(1, Ordering::SeqCst);
        LiveWorker(live.clone())
    }
}

impl Drop for LiveWorker {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Crew {
    /// Spawns a worker of `lane` on the current runtime. It is counted before it first runs,
    /// so readiness never sees a worker still starting as missing.
    pub(super) fn spawn(&self, lane: Lane, work: impl Future<Output = ()> + Send + 'static) {
        self.started.fetch_add(1, Ordering::SeqCst);
        let mut lanes = self.lanes.lock().unwrap_or_else(|p| p.into_inner());
        if !lanes.contains(&lane) {
            lanes.push(lane);
        }
        let live = LiveWorker::new(&self.live);
        let handle = tokio::spawn(async move {
            let _live = live;
            work.await
        });
        self.handles
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(handle);
    }

    /// Turns true when the workers must stop.
    pub(super) fn stopping(&self) -> watch::Receiver<bool> {
        self.stop.subscribe()
    }

    /// The lanes this process runs workers for.
    pub(super) fn lanes(&self) -> Vec<Lane> {
        self.lanes.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Whether workers were started and none is running any more (they stopped or died).
    pub(super) fn none_left(&self) -> bool {
        self.started.load(Ordering::SeqCst) > 0 && self.live.load(Ordering::SeqCst) == 0
    }

    pub(super) fn running(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    /// Tells every worker to stop and waits until each has.
    pub(super) async fn stop(&self) {
        self.stop.send_replace(true);
        let handles = std::mem::take(&mut *self.handles.lock().unwrap_or_else(|p| p.into_inner()));
        for handle in handles {
            if let Err(e) = handle.await {
                tracing::error!(error = %e, "a job worker ended abnormally");
            }
        }
    }
}
