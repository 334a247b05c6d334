//! The worker every serving node runs: it claims due messages (woken at once by a message this
//! node queued, otherwise polling for those queued elsewhere), sends up to
//! `delivery.max_in_flight` at a time, and records each outcome while it still holds the lease.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use super::{Channel, Failure};
use crate::audit::{Origin, Record, event};
use crate::state::AppState;
use crate::store::outbox::{self, Claimed};

/// Runs until `stop` turns true, then lets the sends in flight finish (the caller bounds how
/// long it waits; a send cut off is taken over by another node once its lease runs out).
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let cfg = state.config.delivery.clone();
    let slots = Arc::new(Semaphore::new(cfg.max_in_flight));
    let mut sending = JoinSet::new();
    let mut poll = tokio::time::interval(Duration::from_millis(cfg.poll_interval_ms));
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        // Claim while there are free slots and due messages.
        while slots.available_permits() > 0 {
            let free = slots.available_permits();
            let batch = match claim(&state, free).await {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming messages to deliver failed");
                    break;
                }
            };
            let full = batch.len() == free;
            for msg in batch {
                let permit = slots.clone().try_acquire_owned().expect("claimed no more than the free slots");
                let state = state.clone();
                sending.spawn(async move {
                    deliver(&state, msg).await;
                    drop(permit);
                });
            }
            if !full {
                break;
            }
        }
        tokio::select! {
            _ = state.delivery.wake.notified() => {}
            _ = poll.tick() => {}
            Some(_) = sending.join_next(), if !sending.is_empty() => {}
            _ = stop.changed() => break,
        }
    }
    while sending.join_next().await.is_some() {}
}

/// Gives up what expired, then claims up to `limit` due messages for this node.
async fn claim(state: &AppState, limit: usize) -> crate::error::AppResult<Vec<Claimed>> {
    let now = state.now();
    if !outbox::has_due(&state.db, now).await? {
        return Ok(Vec::new());
    }
    for gone in outbox::give_up_expired(&state.db, now).await? {
        tracing::warn!(message_id = %gone.id, channel = %gone.channel, purpose = %gone.purpose, "a message expired before it could be delivered");
        audit_failure(
            state,
            &gone.id,
            gone.channel,
            &gone.purpose,
            &gone.recipient,
            gone.user_id.as_deref(),
            gone.last_error.as_deref(),
        )
        .await;
    }
    let lease_until = now + state.config.delivery.lease_seconds;
    outbox::claim(&state.db, &state.delivery.node, now, lease_until, limit as i64).await
}

/// One attempt at one message, and its outcome recorded.
async fn deliver(state: &AppState, msg: Claimed) {
    let d = &state.delivery;
    let result = match tokio::time::timeout(d.attempt_timeout, attempt(state, &msg)).await {
        Ok(r) => r,
        Err(_) => Err(Failure::Transient(format!("no answer within {} s", d.attempt_timeout.as_secs()))),
    };
    let now = state.now();
    let count = |outcome| state.metrics.delivery(msg.channel.as_str(), outcome);
    let recorded = match &result {
        Ok(()) => {
            count("sent");
            tracing::info!(message_id = %msg.id, channel = %msg.channel, purpose = %msg.purpose, attempt = msg.attempts, "message delivered");
            outbox::mark_sent(&state.db, &msg.id, &d.node, msg.attempts, now).await
        }
        Err(Failure::Transient(e)) => {
            let next = now + backoff(msg.attempts);
            if next < msg.expires_at {
                count("retry");
                tracing::warn!(message_id = %msg.id, channel = %msg.channel, attempt = msg.attempts, retry_in = next - now, error = %e, "delivery failed; will try again");
                outbox::retry_later(&state.db, &msg.id, &d.node, msg.attempts, next, &bounded(e)).await
            } else {
                count("failed");
                give_up(state, &msg, e, now).await
            }
        }
        Err(Failure::Permanent(e)) => {
            count("failed");
            give_up(state, &msg, e, now).await
        }
    };
    match recorded {
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            message_id = %msg.id,
            outcome = result.as_ref().err().map_or("sent", |f| f.text()),
            "this node's lease on the message ran out before the outcome was recorded; another node may send it again"
        ),
        Err(e) => {
            tracing::error!(message_id = %msg.id, error = %e, "recording a delivery outcome failed; the message will be tried again after its lease")
        }
    }
}

async fn attempt(state: &AppState, msg: &Claimed) -> Result<(), Failure> {
    let sealed = msg.payload.as_deref().ok_or_else(|| Failure::Permanent("the message has no body".into()))?;
    let payload = super::open(&state.master_key, &msg.id, sealed)
        .map_err(|e| Failure::Permanent(format!("cannot open the message (another master key?): {e}")))?;
    let lang = payload.lang.as_deref().and_then(crate::web::i18n::Lang::parse).unwrap_or_default();
    let rendered = crate::web::i18n::sync_scope(lang, || payload.content.render(msg.channel, state.issuer()))
        .map_err(|e| Failure::Permanent(format!("cannot render the message: {e}")))?;
    let d = &state.delivery;
    match msg.channel {
        Channel::Email => match &d.email {
            Some(t) => t.send(&msg.id, &payload.to, &rendered).await,
            None => Err(Failure::Permanent("email.transport is off".into())),
        },
        Channel::Sms => match &d.sms {
            Some(t) => t.send(&msg.id, &payload.to, &rendered.text).await,
            None => Err(Failure::Permanent("sms.transport is off".into())),
        },
        Channel::Webhook => {
            super::webhooks::send(state, d.webhook_client()?, &msg.id, &payload.to, &rendered.text).await
        }
    }
}

async fn give_up(state: &AppState, msg: &Claimed, error: &str, now: i64) -> crate::error::AppResult<bool> {
    tracing::warn!(message_id = %msg.id, channel = %msg.channel, purpose = %msg.purpose, attempts = msg.attempts, error, "delivery given up");
    let error = bounded(error);
    let done = outbox::mark_failed(&state.db, &msg.id, &state.delivery.node, msg.attempts, &error, now).await?;
    if done {
        audit_failure(state, &msg.id, msg.channel, &msg.purpose, &msg.recipient, msg.user_id.as_deref(), Some(&error))
            .await;
    }
    Ok(done)
}

/// `delivery.failed`, filed under the user the message was for, so an admin looking at that
/// user sees that a message never reached them.
async fn audit_failure(
    state: &AppState,
    id: &str,
    channel: Channel,
    purpose: &str,
    recipient: &str,
    user_id: Option<&str>,
    error: Option<&str>,
) {
    let detail = serde_json::json!({
        "message_id": id, "channel": channel, "purpose": purpose, "recipient": recipient, "error": error,
    })
    .to_string();
    let written =
        Record::new(event::DELIVERY_FAILED, user_id, None, &Origin::default(), Some(&detail)).write(state).await;
    if let Err(e) = written {
        tracing::error!(message_id = id, error = %e, "writing the audit record of a failed delivery failed");
    }
}

/// Seconds before attempt `n + 1`: 5, 10, 20, … up to five minutes, with a fifth of jitter so
/// messages failed together do not all come back together.
fn backoff(attempts: i64) -> i64 {
    let base = 5i64.saturating_mul(1 << attempts.clamp(1, 7).saturating_sub(1)).min(300);
    let jitter = (crate::crypto::random_bytes::<1>()[0] as i64 * base) / (255 * 5);
    base + jitter
}

/// An error text bounded for the database and the admin's screen.
fn bounded(e: &str) -> String {
    e.chars().take(500).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_grows_and_is_capped() {
        let b: Vec<i64> = (1..=10).map(super::backoff).collect();
        assert!((5..=6).contains(&b[0]), "{b:?}");
        assert!((10..=12).contains(&b[1]), "{b:?}");
        assert!(b.iter().all(|&s| s <= 360), "{b:?}");
        assert!(b[9] >= 300, "{b:?}");
    }
}
