//! The one runtime the storage client runs on. Callers are blocking threads (the database
//! closures, `web::block`, the CLI): each call hands its future to this runtime and waits,
//! so the HTTP client's connections live on one runtime whoever calls, and an actix worker's
//! single-threaded runtime is never asked to drive them.

use std::future::Future;
use std::io;
use std::sync::OnceLock;

static RUNTIME: OnceLock<io::Result<tokio::runtime::Runtime>> = OnceLock::new();

fn handle() -> io::Result<tokio::runtime::Handle> {
    let rt = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("parcours-objects")
            .enable_all()
            .build()
    });
    match rt {
        Ok(rt) => Ok(rt.handle().clone()),
        Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
    }
}

/// Runs `fut` on the storage runtime and waits for it. Blocking: never call it on an async
/// worker (it would hold the worker while the file moves).
pub(super) fn run<T: Send + 'static>(
    fut: impl Future<Output = io::Result<T>> + Send + 'static,
) -> io::Result<T> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    handle()?.spawn(async move {
        let _ = tx.send(fut.await);
    });
    rx.recv()
        .map_err(|_| io::Error::other("object storage task stopped"))?
}
