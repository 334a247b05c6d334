//! SQLite's WAL checkpointed beside the writer, on a connection of its own.
//!
//! SQLite's automatic checkpoint runs on the connection that commits, inside that commit: it
//! syncs the WAL, copies its pages into the database and syncs the database, while every write
//! waits behind it. Under a flood of refreshes that was a stall of about 19 ms five times a
//! second on the one writer (two syncs of a 4 MiB WAL and of the pages it held), and the
//! slowest tenth of all refreshes waited through one.
//!
//! Here a task does that work as it goes: every `BUSY_PAUSE` while the WAL grows it copies
//! what is new (a passive checkpoint, which never waits for the writer nor holds it up: the
//! writer goes on appending meanwhile) and syncs the database file, which SQLite leaves for
//! the checkpoint that copies the whole WAL. Syncing early only makes written pages durable
//! sooner. The writer keeps an automatic checkpoint, less often (`WRITER_AUTOCHECKPOINT`): the
//! WAL starts over from its beginning only after a checkpoint that left nothing newer to copy,
//! which under a steady flood is the writer's own, and by then it has the last few pages to
//! copy and little left to sync.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};
use tokio::sync::mpsc;

/// The WAL pages after which the writer checkpoints by itself (SQLite's default is 1,000): with
/// the task copying as it goes, the writer's checkpoint is what lets the WAL start over, and
/// each costs it two syncs however few pages are left, so it comes a quarter as often.
pub const WRITER_AUTOCHECKPOINT: &str = "4000";
/// The pause between checkpoints while the WAL grows.
const BUSY_PAUSE: Duration = Duration::from_millis(20);
/// The pause while nothing is written.
const IDLE_PAUSE: Duration = Duration::from_secs(1);

/// The handle the task runs for; it ends when the last clone goes.
#[derive(Clone, Debug)]
pub struct Checkpointer {
    _alive: mpsc::Sender<()>,
    /// Checkpoints the task ran while the WAL grew.
    pub checkpoints: Arc<AtomicU64>,
}

impl Checkpointer {
    /// Starts the task on the current runtime, with a connection opened with `opts` (the
    /// writer's, so it syncs as the writer would).
    pub fn start(opts: SqliteConnectOptions) -> Checkpointer {
        let (alive, gone) = mpsc::channel(1);
        // The database file, to sync; none for a database in memory.
        let file = std::fs::File::open(opts.get_filename()).ok().map(Arc::new);
        let checkpoints = Arc::default();
        // A checkpoint that meets another (the writer's) gives way at once.
        tokio::spawn(run(opts.busy_timeout(Duration::ZERO), file, Arc::clone(&checkpoints), gone));
        Checkpointer { _alive: alive, checkpoints }
    }
}

async fn run(
    opts: SqliteConnectOptions,
    file: Option<Arc<std::fs::File>>,
    checkpoints: Arc<AtomicU64>,
    mut gone: mpsc::Receiver<()>,
) {
    let mut conn = match SqliteConnection::connect_with(&opts).await {
        Ok(c) => c,
        Err(e) => {
            // The writer still checkpoints by itself; only its stalls come back.
            tracing::warn!(error = %e, "cannot open the WAL checkpoint connection");
            return;
        }
    };
    let (mut pause, mut last_size) = (IDLE_PAUSE, -1);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            // No message is ever sent: `None` says the last handle went.
            _ = gone.recv() => break,
        }
        // (busy, pages in the WAL, pages of it now in the database)
        let outcome = sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)").fetch_all(&mut conn).await;
        pause = match outcome.as_deref() {
            Ok([(_, size, copied)]) => {
                let idle = size == copied && *size == last_size;
                last_size = *size;
                if idle {
                    IDLE_PAUSE
                } else {
                    checkpoints.fetch_add(1, Ordering::Relaxed);
                    if let Some(file) = file.clone() {
                        // Off the runtime's workers: a sync takes milliseconds.
                        let synced = tokio::task::spawn_blocking(move || file.sync_data()).await;
                        if let Ok(Err(e)) = synced {
                            tracing::warn!(error = %e, "syncing the database file failed");
                        }
                    }
                    BUSY_PAUSE
                }
            }
            Ok(_) => IDLE_PAUSE,
            Err(e) => {
                tracing::warn!(error = %e, "a WAL checkpoint failed");
                IDLE_PAUSE
            }
        };
    }
    let _ = conn.close().await;
}
