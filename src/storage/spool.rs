//! A file written on a blocking thread while its upload streams in. The async worker only
//! hands chunks over a bounded channel (a slow disk slows the upload, not the memory), so
//! file creation, writes, hashing and `sync_all` never stall the other requests it serves.

use std::io::Write;
use std::path::PathBuf;
use std::thread::ThreadId;

use actix_web::web::Bytes;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Chunks in flight between the network and the disk (actix hands over up to 64 KiB each).
const IN_FLIGHT: usize = 16;

enum Message {
    Data(Bytes),
    Done,
}

/// A file written whole and synced.
#[derive(Debug)]
pub struct Spooled {
    pub sha256: String,
    pub size: u64,
    /// The thread that wrote it: never an async worker (a test checks it).
    pub writer: ThreadId,
}

pub struct Spool {
    tx: Option<mpsc::Sender<Message>>,
    done: JoinHandle<std::io::Result<Spooled>>,
}

impl Spool {
    /// Starts writing `path` (its folder is created if needed) on the blocking pool.
    pub fn create(path: PathBuf) -> Spool {
        let (tx, rx) = mpsc::channel(IN_FLIGHT);
        let done = tokio::task::spawn_blocking(move || write(&path, rx));
        Spool { tx: Some(tx), done }
    }

    /// Hands a chunk to the writer; an error means the writer stopped, and `finish` says why.
    pub async fn write(&mut self, chunk: Bytes) -> std::io::Result<()> {
        let sent = match &self.tx {
            Some(tx) => tx.send(Message::Data(chunk)).await.is_ok(),
            None => false,
        };
        if !sent {
            self.tx = None;
            return Err(std::io::Error::other("upload writer stopped"));
        }
        Ok(())
    }

    /// Waits until the file is written and synced.
    pub async fn finish(mut self) -> std::io::Result<Spooled> {
        if let Some(tx) = self.tx.take() {
            // A writer that already stopped returns its own error below.
            let _ = tx.send(Message::Done).await;
        }
        self.done
            .await
            .map_err(|e| std::io::Error::other(format!("upload writer: {e}")))?
    }

    /// Stops and waits until the partial file is removed.
    pub async fn abort(mut self) {
        self.tx = None;
        let _ = self.done.await;
    }
}

fn write(path: &std::path::Path, mut rx: mpsc::Receiver<Message>) -> std::io::Result<Spooled> {
    let result = (|| {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = std::fs::File::create(path)?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        loop {
            match rx.blocking_recv() {
                Some(Message::Data(chunk)) => {
                    hasher.update(&chunk);
                    file.write_all(&chunk)?;
                    size += chunk.len() as u64;
                }
                Some(Message::Done) => break,
                None => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::Interrupted,
                        "upload abandoned",
                    ));
                }
            }
        }
        file.sync_all()?;
        Ok(Spooled {
            sha256: crate::base::digest::hex(&hasher.finalize()),
            size,
            writer: std::thread::current().id(),
        })
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(path);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worker() -> tokio::runtime::Runtime {
        // One thread, like each actix worker.
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    }

    #[test]
    fn chunks_are_written_hashed_and_synced_off_the_async_thread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tmp").join("a.part");
        let written = worker().block_on(async {
            let mut spool = Spool::create(path.clone());
            for part in [&b"%PDF-1.4\n"[..], b"hello"] {
                spool.write(Bytes::copy_from_slice(part)).await.unwrap();
            }
            spool.finish().await.unwrap()
        });
        assert_ne!(written.writer, std::thread::current().id());
        assert_eq!(written.size, 14);
        assert_eq!(std::fs::read(&path).unwrap(), b"%PDF-1.4\nhello");
        let expected = crate::base::digest::sha256_hex(b"%PDF-1.4\nhello");
        assert_eq!(written.sha256, expected);
    }

    #[test]
    fn an_abandoned_file_is_removed_before_abort_returns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.part");
        worker().block_on(async {
            let mut spool = Spool::create(path.clone());
            spool.write(Bytes::from_static(b"half")).await.unwrap();
            spool.abort().await;
        });
        assert!(!path.exists());
    }
}
