//! Running the server: the connection loop (timeouts for slow and idle clients, a cap on open
//! connections, a bounded graceful shutdown), background upkeep.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::state::AppState;

/// Serves `app` (`crate::app(state)`, or with the demo) on `listener` until `shutdown`
/// resolves, then lets in-flight requests finish for `server.shutdown_grace_seconds` at most;
/// `state`'s upkeep runs meanwhile.
///
/// HTTP/1.1 through hyper directly (axum's `serve` has no header timeout and no connection
/// cap): a client must send its headers within `header_read_timeout_seconds` of connecting
/// or of its previous response, which also ends idle keep-alive connections; at most
/// `max_connections` are open at once, the rest wait in the kernel's accept queue.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    app: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let upkeep = tokio::spawn(upkeep(state.clone()));
    let (stop_delivery, delivery_stopped) = tokio::sync::watch::channel(false);
    let mut delivery = tokio::spawn(crate::delivery::worker::run(state.clone(), delivery_stopped));
    let sv = state.config.server.clone();
    let max_connections = fitting_connection_cap(sv.max_connections);
    let slots = Arc::new(Semaphore::new(max_connections));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(Duration::from_secs(sv.header_read_timeout_seconds));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        // A slot first: at the cap, connections wait in the kernel's queue, not in ours.
        let slot = tokio::select! {
            s = slots.clone().acquire_owned() => s.expect("the connection semaphore is never closed"),
            _ = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of descriptors or a reset before accept: back off briefly, go on.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let svc = app.clone().map_request(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            req.map(axum::body::Body::new)
        });
        let conn = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(svc));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    let grace = Duration::from_secs(sv.shutdown_grace_seconds);
    let deadline = tokio::time::Instant::now() + grace;
    if tokio::time::timeout(grace, graceful.shutdown()).await.is_err() {
        tracing::warn!(
            grace_seconds = sv.shutdown_grace_seconds,
            "requests still open after the grace period were cut off"
        );
    }
    // Messages being sent get what is left of the grace period; one cut off is sent again by
    // a node that takes it over when its lease runs out.
    let _ = stop_delivery.send(true);
    if tokio::time::timeout_at(deadline, &mut delivery).await.is_err() {
        tracing::warn!("messages still being sent at shutdown were left to their lease");
        delivery.abort();
    }
    upkeep.abort();
    state.decisions.close().await;
    state.db.close().await;
    Ok(())
}

/// The connection cap, lowered to leave descriptors for the database, files and the accept
/// itself under the process's `RLIMIT_NOFILE` (a flood of idle connections must not starve
/// the rest of the server of descriptors).
fn fitting_connection_cap(configured: usize) -> usize {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit writes into the struct we pass and reads nothing else.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 && lim.rlim_cur != libc::RLIM_INFINITY {
            let room = (lim.rlim_cur as usize).saturating_sub(256).max(16);
            if room < configured {
                tracing::warn!(
                    configured,
                    used = room,
                    fd_limit = lim.rlim_cur,
                    "server.max_connections lowered to fit the file-descriptor limit"
                );
                return room;
            }
        }
    }
    configured
}

/// Periodic work every node does: pick up rotated keys, purge expired rows.
async fn upkeep(state: AppState) {
    let reload_every = Duration::from_secs(state.config.tokens.key_reload_seconds);
    let mut keys = tokio::time::interval(reload_every);
    let mut purge = tokio::time::interval(Duration::from_secs(300));
    keys.tick().await;
    // Assigned plugins are compiled in the background at start, never on a login's path.
    if let Err(e) = crate::mfa::selector::warm_assigned(&state).await {
        tracing::warn!(error = %e, "listing plugins to compile at start failed");
    }
    loop {
        tokio::select! {
            _ = keys.tick() => {
                if let Err(e) = state.reload_keys().await {
                    tracing::warn!(error = %e, "reloading signing keys failed");
                }
                if let Err(e) = crate::mfa::selector::warm_assigned(&state).await {
                    tracing::warn!(error = %e, "listing plugins to compile failed");
                }
            }
            _ = purge.tick() => {
                let now = state.now();
                let idle = state.config.session.idle_timeout_minutes * 60;
                if let Err(e) = crate::store::sessions::purge_expired(&state.db, now, idle).await {
                    tracing::warn!(error = %e, "purging sessions failed");
                }
                if let Err(e) = crate::store::grants::purge_expired(&state.db, now).await {
                    tracing::warn!(error = %e, "purging tokens failed");
                }
                if let Err(e) = crate::store::mfa_transactions::purge_expired(&state.db, now).await {
                    tracing::warn!(error = %e, "purging MFA transactions failed");
                }
                if let Err(e) = crate::store::saml::purge_expired(&state.db, now).await {
                    tracing::warn!(error = %e, "purging SAML replay records and deliveries failed");
                }
                if let Err(e) = crate::store::passkeys::purge_challenges(&state.db, now).await {
                    tracing::warn!(error = %e, "purging WebAuthn challenges failed");
                }
                let kept = now - state.config.delivery.keep_days * 86_400;
                if let Err(e) = crate::store::outbox::purge_finished(&state.db, kept).await {
                    tracing::warn!(error = %e, "purging delivered messages failed");
                }
                if let Err(e) = crate::store::oob::purge_codes(&state.db, now).await {
                    tracing::warn!(error = %e, "purging one-time codes failed");
                }
                if let Err(e) = crate::store::links::purge(&state.db, now).await {
                    tracing::warn!(error = %e, "purging account links failed");
                }
                // Hourly sending caps share the table with the failure counters.
                let window = state.config.limits.window_seconds.max(3600);
                if let Err(e) = crate::store::audit::purge_rate_limits(&state.db, now - window, now).await {
                    tracing::warn!(error = %e, "purging rate limits failed");
                }
                let p = &state.config.plugins;
                let before = now - p.decision_log_days * 86_400;
                if let Err(e) = crate::store::plugins::purge_decisions(&state.db, before, p.decision_log_max_rows).await {
                    tracing::warn!(error = %e, "purging the plugin decision log failed");
                }
            }
        }
    }
}

/// Process-wide allocator tuning, called once at start-up by the binary. Large, short-lived
/// blocks (a plugin upload's body, a compiled component's bytes) on glibc's dynamic mmap
/// threshold end up in per-thread arenas that are never given back, so resident memory grows
/// with every thread that once held one. A fixed threshold makes each large block its own
/// mapping, returned to the system when it is freed. (Password hashing maps its memory
/// itself: `crypto::password`.)
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes allocator parameters; it is called before the runtime
        // starts any thread that allocates.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
