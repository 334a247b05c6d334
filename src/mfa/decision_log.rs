//! The plugin decision log's writer (DESIGN §3). A login hands its runs to a bounded queue
//! and goes on; one task per node writes them in batches, one transaction per batch, so the
//! login's path carries no write and concurrent logins do not queue behind each other's
//! inserts (on SQLite every write takes the one write lock).
//!
//! Nothing is dropped: a full queue makes the login wait for room (backpressure, not loss);
//! a failed batch is retried; readers on this node call `flush` first and see every run that
//! came before; shutdown writes what is queued before the database closes. A plugin's failure
//! is audited on the login's path, not here.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, mpsc, oneshot};

use crate::error::{AppError, AppResult};
use crate::plugin_host::Evaluation;
use crate::plugin_host::context::LoginContext;
use crate::store::{self, Db};

use super::policy::Verdict;

/// Runs waiting to be written; beyond this a login waits for the writer.
const QUEUE: usize = 4096;
/// Runs written in one transaction.
const BATCH: usize = 128;
/// Attempts at one batch before it is reported lost.
const ATTEMPTS: u32 = 5;

/// One plugin run, as the login left it. Serialised by the writer, not by the login.
#[derive(Debug)]
pub struct Run {
    pub login_id: String,
    pub plugin_id: String,
    pub mode: super::selector::PluginMode,
    pub context: Arc<LoginContext>,
    pub evaluation: Evaluation,
    pub applied: Verdict,
}

enum Message {
    Run(Box<Run>),
    /// Acknowledged once every run queued before it is written.
    Flush(oneshot::Sender<()>),
    /// Write what is queued, acknowledge, stop.
    Close(oneshot::Sender<()>),
}

#[derive(Debug)]
pub struct DecisionLog {
    db: Db,
    queue: mpsc::Sender<Message>,
    writer: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl DecisionLog {
    /// Starts the writer task on the current runtime.
    pub fn start(db: Db) -> DecisionLog {
        let (queue, rx) = mpsc::channel(QUEUE);
        let writer = tokio::spawn(write_loop(db.clone(), rx));
        DecisionLog { db, queue, writer: Mutex::new(Some(writer)) }
    }

    /// Queues a run. After `close`, writes it directly so that it is still kept.
    pub async fn record(&self, run: Run) -> AppResult<()> {
        match self.queue.send(Message::Run(Box::new(run))).await {
            Ok(()) => Ok(()),
            Err(mpsc::error::SendError(Message::Run(run))) => write_batch(&self.db, &[*run]).await,
            Err(_) => unreachable!("a run was sent"),
        }
    }

    /// Waits until every run queued so far is written (for reads of the log on this node).
    pub async fn flush(&self) {
        let (ack, done) = oneshot::channel();
        if self.queue.send(Message::Flush(ack)).await.is_ok() {
            let _ = done.await;
        }
    }

    /// Writes what is queued and stops the writer (graceful shutdown). Later runs are written
    /// directly.
    pub async fn close(&self) {
        let (ack, done) = oneshot::channel();
        if self.queue.send(Message::Close(ack)).await.is_ok() {
            let _ = done.await;
        }
        if let Some(writer) = self.writer.lock().await.take() {
            let _ = writer.await;
        }
    }
}

async fn write_loop(db: Db, mut rx: mpsc::Receiver<Message>) {
    let mut messages = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut messages, BATCH).await > 0 {
        let mut runs = Vec::with_capacity(messages.len());
        let mut acks = vec![];
        let mut close = None;
        for m in messages.drain(..) {
            match m {
                Message::Run(r) => runs.push(*r),
                Message::Flush(ack) => acks.push(ack),
                Message::Close(ack) => close = Some(ack),
            }
        }
        if close.is_some() {
            // Refuse new messages, then take what is already queued.
            rx.close();
            while let Some(m) = rx.recv().await {
                match m {
                    Message::Run(r) => runs.push(*r),
                    Message::Flush(ack) | Message::Close(ack) => acks.push(ack),
                }
            }
        }
        write_with_retries(&db, &runs).await;
        for ack in acks {
            let _ = ack.send(());
        }
        if let Some(ack) = close {
            let _ = ack.send(());
            return;
        }
    }
}

async fn write_with_retries(db: &Db, runs: &[Run]) {
    for chunk in runs.chunks(BATCH) {
        let mut attempt = 1;
        loop {
            match write_batch(db, chunk).await {
                Ok(()) => break,
                Err(e) if attempt < ATTEMPTS => {
                    tracing::warn!(error = %e, attempt, "writing plugin decisions failed; retrying");
                    tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
                    attempt += 1;
                }
                Err(e) => {
                    tracing::error!(error = %e, lost = chunk.len(), "plugin decisions could not be written");
                    break;
                }
            }
        }
    }
}

async fn write_batch(db: &Db, runs: &[Run]) -> AppResult<()> {
    let rows = runs.iter().map(row).collect::<AppResult<Vec<_>>>()?;
    store::plugins::record_decisions(db, &rows).await
}

fn row(r: &Run) -> AppResult<store::plugins::Decision> {
    Ok(store::plugins::Decision {
        at: r.context.now,
        login_id: r.login_id.clone(),
        plugin_id: r.plugin_id.clone(),
        mode: r.mode,
        user_id: Some(r.context.user.id.clone()),
        app_id: r.context.app.as_ref().map(|a| a.id.clone()),
        context: json(&*r.context)?,
        evaluation: json(&r.evaluation)?,
        applied: json(&r.applied)?,
        error_kind: r.evaluation.outcome.as_ref().err().map(|f| f.kind.as_str().to_owned()),
        // -1: not known (a timeout), left out of the plugin's fuel figures.
        fuel_used: r.evaluation.fuel_used.map_or(-1, |f| f as i64),
        duration_us: r.evaluation.duration_us as i64,
    })
}

fn json<T: serde::Serialize>(v: &T) -> AppResult<String> {
    serde_json::to_string(v).map_err(AppError::internal)
}
