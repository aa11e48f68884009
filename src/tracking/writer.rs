//! Group commit of heartbeats: requests hand their beat to one writer thread, which credits
//! everything waiting in a single transaction and answers each request after the commit.

use tokio::sync::{mpsc, oneshot};

use super::rules::CreditSettings;
use super::store::{self, Beat, BeatAnswer};
use crate::db::Pool;
use crate::web::{AppError, AppResult};

const MAX_BATCH: usize = 512;

struct Job {
    beat: Beat,
    reply: oneshot::Sender<Result<BeatAnswer, String>>,
}

pub struct BeatWriter {
    tx: mpsc::Sender<Job>,
}

impl BeatWriter {
    pub fn start(pool: Pool, settings: CreditSettings) -> anyhow::Result<BeatWriter> {
        let (tx, mut rx) = mpsc::channel::<Job>(16 * 1024);
        std::thread::Builder::new()
            .name("beat-writer".into())
            .spawn(move || {
                while let Some(first) = rx.blocking_recv() {
                    let mut jobs = vec![first];
                    while jobs.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(j) => jobs.push(j),
                            Err(_) => break,
                        }
                    }
                    let beats: Vec<Beat> = jobs.iter().map(|j| j.beat.clone()).collect();
                    let result = pool
                        .get()
                        .map_err(|e| e.to_string())
                        .and_then(|mut c| {
                            store::apply_beats(&mut c, &beats, &settings).map_err(|e| e.to_string())
                        });
                    match result {
                        Ok(outcomes) => {
                            for (job, outcome) in jobs.into_iter().zip(outcomes) {
                                let _ = job.reply.send(Ok(outcome));
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, batch = beats.len(), "heartbeat batch failed");
                            for job in jobs {
                                let _ = job.reply.send(Err(e.clone()));
                            }
                        }
                    }
                }
            })?;
        Ok(BeatWriter { tx })
    }

    /// Credits one beat; returns once it is committed.
    pub async fn submit(&self, beat: Beat) -> AppResult<BeatAnswer> {
        let (reply, answer) = oneshot::channel();
        let busy = || AppError::Unavailable("Enregistrement momentanément indisponible.".into());
        self.tx
            .send(Job { beat, reply })
            .await
            .map_err(|_| busy())?;
        answer.await.map_err(|_| busy())?.map_err(|e| {
            tracing::warn!(error = %e, "heartbeat not credited");
            busy()
        })
    }
}
