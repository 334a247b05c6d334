//! Running the server: background upkeep and graceful shutdown.

use std::future::Future;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::state::AppState;

/// Serves `state` on `listener` until `shutdown` resolves, then drains in-flight requests.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let upkeep = tokio::spawn(upkeep(state.clone()));
    let app = crate::app(state.clone());
    let result = axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await;
    upkeep.abort();
    state.decisions.close().await;
    state.db.close().await;
    result.map_err(Into::into)
}

/// Periodic work every node does: pick up rotated keys, purge expired rows.
async fn upkeep(state: AppState) {
    let reload_every = Duration::from_secs(state.config.tokens.key_reload_seconds);
    let mut keys = tokio::time::interval(reload_every);
    let mut purge = tokio::time::interval(Duration::from_secs(300));
    keys.tick().await;
    loop {
        tokio::select! {
            _ = keys.tick() => {
                if let Err(e) = state.reload_keys().await {
                    tracing::warn!(error = %e, "reloading signing keys failed");
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
                let window = state.config.limits.window_seconds;
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

/// Process-wide allocator tuning, called once at start-up by the binary. Argon2 allocates
/// `password.memory_kib` (19 MiB) per hash on blocking threads; with glibc's dynamic mmap
/// threshold those blocks end up in per-thread arenas that are never given back, so resident
/// memory grows with every hashing thread. A fixed threshold makes each large block its own
/// mapping, returned to the system when the hash is done.
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
