//! Webhooks for MFA and security events (the SDK document's "MFA event notifications"):
//! administrators register HTTPS endpoints with an event filter; every audit event a
//! subscriber wants is queued in the outbox (one message per subscriber, retried with backoff,
//! kept as the delivery log) and POSTed signed as Standard Webhooks specify (`webhook-id`,
//! `webhook-timestamp`, `webhook-signature`). During a secret rotation the previous secret
//! signs beside the new one until it expires, so receivers switch without missing anything.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::{Channel, Content, Failure, Outgoing};
use crate::audit::Origin;
use crate::crypto::{MasterKey, Secret};
use crate::state::AppState;
use crate::store::{self, webhooks::Webhook};

/// How long a node trusts its list of subscribers before reading it again (a change on this
/// node clears it at once).
const CACHE_SECONDS: u64 = 5;

/// The subscribers this node knows of, read at most every `CACHE_SECONDS`.
#[derive(Debug, Default)]
pub struct Subscribers {
    cached: tokio::sync::RwLock<Option<(Instant, Arc<Vec<Webhook>>)>>,
}

impl Subscribers {
    async fn get(&self, state: &AppState) -> crate::error::AppResult<Arc<Vec<Webhook>>> {
        if let Some((at, list)) = self.cached.read().await.as_ref()
            && at.elapsed() < Duration::from_secs(CACHE_SECONDS)
        {
            return Ok(list.clone());
        }
        let list: Arc<Vec<Webhook>> =
            Arc::new(store::webhooks::list(&state.db).await?.into_iter().filter(|w| w.enabled).collect());
        *self.cached.write().await = Some((Instant::now(), list.clone()));
        Ok(list)
    }

    /// Forgets the list (a subscriber was added, changed or removed on this node).
    pub async fn invalidate(&self) {
        *self.cached.write().await = None;
    }
}

/// The context a secret is sealed under.
pub fn seal_context(id: &str) -> String {
    format!("webhook:{id}")
}

/// A new signing secret: `whsec_` and 32 random bytes in base64; and those bytes sealed.
pub fn new_secret(key: &MasterKey, id: &str) -> (Secret, Vec<u8>) {
    let raw = crate::crypto::random_bytes::<32>();
    (Secret::from(format!("whsec_{}", STANDARD.encode(raw))), key.encrypt(&seal_context(id), &raw))
}

/// Events never sent to subscribers: the outbox's own failures (a failing endpoint would feed
/// itself).
fn never_sent(event: &str) -> bool {
    event.starts_with("delivery.")
}

/// Queues `event` for every subscriber that wants it. Never fails: a problem is logged, and
/// the action the event records still stands.
pub async fn dispatch(
    state: &AppState,
    event: &str,
    user_id: Option<&str>,
    app_id: Option<&str>,
    origin: &Origin,
    detail: Option<&str>,
) {
    if never_sent(event) {
        return;
    }
    let subscribers = match state.delivery.subscribers.get(state).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, event, "reading webhook subscribers failed; the event is not sent");
            return;
        }
    };
    for hook in subscribers.iter().filter(|w| w.wants(event)) {
        let data = serde_json::json!({
            "user_id": user_id,
            "app_id": app_id,
            "ip": origin.ip,
            // The audit detail: JSON where the event wrote JSON, text otherwise.
            "detail": detail.map(|d| serde_json::from_str::<serde_json::Value>(d).unwrap_or_else(|_| d.into())),
        });
        let msg = Outgoing {
            channel: Channel::Webhook,
            to: hook.id.clone(),
            user_id: user_id.map(str::to_owned),
            content: Content::Event { event: event.to_owned(), at: state.now(), data },
            ttl_seconds: None,
        };
        if let Err(e) = super::enqueue(state, msg).await {
            tracing::warn!(error = %e, event, webhook = %hook.id, "queueing a webhook event failed");
        }
    }
}

/// The keys that sign now: the current secret, and the previous one until it expires.
fn signing_keys(state: &AppState, hook: &Webhook) -> Result<Vec<Vec<u8>>, Failure> {
    let open = |sealed: &[u8]| {
        state
            .master_key
            .decrypt(&seal_context(&hook.id), sealed)
            .map_err(|e| Failure::Permanent(format!("cannot open the webhook's secret (another master key?): {e}")))
    };
    let mut keys = vec![open(&hook.secret)?];
    if let (Some(prev), Some(until)) = (&hook.previous_secret, hook.previous_expires_at)
        && until > state.now()
    {
        keys.push(open(prev)?);
    }
    Ok(keys)
}

/// POSTs one event to its subscriber, signed with every key in force.
pub async fn send(
    state: &AppState,
    client: &reqwest::Client,
    message_id: &str,
    webhook_id: &str,
    body: &str,
) -> Result<(), Failure> {
    let hook = store::webhooks::find(&state.db, webhook_id)
        .await
        .map_err(|e| Failure::Transient(format!("reading the webhook: {e}")))?
        .ok_or_else(|| Failure::Permanent("the webhook was removed".into()))?;
    if !hook.enabled {
        return Err(Failure::Permanent("the webhook is turned off".into()));
    }
    let id = format!("msg_{message_id}");
    let ts = state.now().max(0) as u64;
    let signature = signing_keys(state, &hook)?
        .iter()
        .map(|k| super::sms::sign_webhook(k, &id, ts, body))
        .collect::<Vec<_>>()
        .join(" ");
    let resp = client
        .post(&hook.url)
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", signature)
        .body(body.to_owned())
        .send()
        .await
        .map_err(|e| Failure::Transient(format!("webhook: {}", e.without_url())))?;
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let snippet: String = resp.text().await.unwrap_or_default().chars().take(300).collect();
    let text = format!("webhook: HTTP {}: {snippet}", status.as_u16());
    // 410 Gone: the receiver says it will never take these; everything else is tried again.
    if status.as_u16() == 410 { Err(Failure::Permanent(text)) } else { Err(Failure::Transient(text)) }
}

/// The HTTP client subscribers are called with: no redirects (an endpoint cannot bounce the
/// event elsewhere), bounded by the attempt timeout.
pub fn client(timeout: Duration) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Portcullis-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(events: &str) -> Webhook {
        Webhook {
            id: "w".into(),
            url: "https://example.test/hook".into(),
            description: String::new(),
            events: events.into(),
            secret: vec![],
            previous_secret: None,
            previous_expires_at: None,
            enabled: true,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn filters_match_names_prefixes_and_everything() {
        assert!(hook("*").wants("mfa.passed"));
        assert!(hook("mfa.*").wants("mfa.recovery_used"));
        assert!(!hook("mfa.*").wants("login.success"));
        assert!(hook("login.lockout mfa.failed").wants("mfa.failed"));
        assert!(!hook("login.lockout").wants("login.lockouts"));
        assert!(never_sent("delivery.failed"));
    }
}
