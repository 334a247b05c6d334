//! The outbox, as an administrator sees it: send a test message on a channel (to check a
//! mail server or SMS provider end to end), and read what was sent, is waiting or failed.

use serde_json::json;

use super::Admin;
use crate::audit::event;
use crate::delivery::{self, Channel, Content, Outgoing};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::outbox::{self, Status, Summary};

/// Queues a test message to `to` (an email address, or a phone number in international form)
/// and audits it. Returns the message's record, whose status the caller can follow.
pub async fn send_test(state: &AppState, admin: &Admin, channel: Channel, to: &str) -> AppResult<Summary> {
    if !state.delivery.is_available(channel) {
        return Err(AppError::BadRequest(format!("no {channel} transport is configured").into()));
    }
    let to = match channel {
        Channel::Email => delivery::normalise_email(to),
        Channel::Sms => {
            delivery::normalise_phone(to).and_then(|n| delivery::check_sms_country(&state.config.sms, &n).map(|()| n))
        }
        Channel::Webhook => {
            Err("webhook subscribers get their test event from POST /api/v1/admin/webhooks/{id}/test".into())
        }
    }
    .map_err(AppError::BadRequest)?;
    let requested_by = admin.user().map_or_else(|| "the operator".to_owned(), |u| u.username.clone());
    let msg = Outgoing {
        channel,
        to,
        user_id: admin.actor_id().map(str::to_owned),
        content: Content::Test { requested_by },
        ttl_seconds: None,
    };
    let id = delivery::enqueue(state, msg).await?;
    let summary = outbox::find(&state.db, &id).await?.ok_or(AppError::NotFound)?;
    admin
        .audit(
            state,
            event::DELIVERY_TEST,
            None,
            None,
            &json!({"message_id": id, "channel": channel, "recipient": summary.recipient}),
        )
        .await?;
    Ok(summary)
}

/// The newest `limit` messages (at most 1000), optionally only those in `status`.
pub async fn list(state: &AppState, _: &Admin, status: Option<&str>, limit: i64) -> AppResult<Vec<Summary>> {
    let status = match status {
        None => None,
        Some(s) => Some(Status::parse(s).ok_or_else(|| {
            AppError::BadRequest(format!("status: `{s}` is not pending, sending, sent or failed").into())
        })?),
    };
    outbox::list(&state.db, status, limit.clamp(1, 1000)).await
}
