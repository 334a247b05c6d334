//! Webhook subscribers (`/api/v1/admin/webhooks`): register an endpoint with an event filter
//! (its signing secret is shown once), change or remove it, rotate the secret without
//! downtime, send a test event, and read its delivery log (the outbox's records for it).

use serde_json::json;

use super::Admin;
use crate::delivery::{self, Channel, Content, Outgoing, webhooks};
use crate::error::{AppError, AppResult, Msg};
use crate::state::AppState;
use crate::store::{self, outbox::Summary, webhooks::Webhook};

/// How long the previous secret keeps signing after a rotation.
pub const ROTATION_OVERLAP_SECONDS: i64 = 86_400;

pub const SUBSCRIBED: &str = "webhook.created";
pub const CHANGED: &str = "webhook.changed";
pub const REMOVED: &str = "webhook.removed";
pub const ROTATED: &str = "webhook.secret_rotated";

/// A subscriber as the API shows it: never its secrets.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = Webhook)]
pub struct View {
    pub id: String,
    pub url: String,
    pub description: String,
    pub events: Vec<String>,
    pub enabled: bool,
    /// A rotation is under way: the previous secret signs too until then.
    pub previous_secret_expires_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl View {
    fn of(w: &Webhook, now: i64) -> View {
        View {
            id: w.id.clone(),
            url: w.url.clone(),
            description: w.description.clone(),
            events: w.events.split_ascii_whitespace().map(str::to_owned).collect(),
            enabled: w.enabled,
            previous_secret_expires_at: w.previous_expires_at.filter(|t| *t > now),
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

/// What a new subscriber or a change says; `None` leaves a field as it is.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WebhookSpec)]
pub struct Spec {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
}

fn check_url(state: &AppState, url: &str) -> AppResult<String> {
    let u = url::Url::parse(url.trim()).map_err(|e| AppError::BadRequest(format!("url: {e}").into()))?;
    let ok_scheme = u.scheme() == "https" || (u.scheme() == "http" && state.config.delivery.allow_insecure_webhooks);
    if !ok_scheme || u.host_str().is_none() || !u.username().is_empty() || u.password().is_some() {
        return Err(AppError::BadRequest(Msg::key("adm-err-webhook-url")));
    }
    if u.as_str().len() > 2000 || u.fragment().is_some() {
        return Err(AppError::BadRequest(Msg::key("adm-err-webhook-url-long")));
    }
    Ok(u.to_string())
}

/// An event filter: `*`, event names (`mfa.recovery_used`) or prefixes (`mfa.*`).
fn check_events(events: &[String]) -> AppResult<String> {
    let ok = |e: &str| {
        let name = e.strip_suffix(".*").unwrap_or(e);
        e == "*"
            || (!name.is_empty()
                && name.len() <= 64
                && name
                    .split('.')
                    .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')))
    };
    if events.is_empty() || events.len() > 50 {
        return Err(AppError::BadRequest(Msg::key("adm-err-webhook-events")));
    }
    if let Some(bad) = events.iter().find(|e| !ok(e)) {
        return Err(AppError::BadRequest(Msg::key("adm-err-webhook-event").with("event", bad)));
    }
    Ok(events.join(" "))
}

fn check_description(d: &str) -> AppResult<String> {
    if d.chars().count() > 200 || d.chars().any(char::is_control) {
        return Err(AppError::BadRequest(Msg::key("adm-err-webhook-description")));
    }
    Ok(d.trim().to_owned())
}

/// Registers a subscriber. Returns it and its signing secret (`whsec_…`), shown this once.
pub async fn create(state: &AppState, admin: &Admin, spec: &Spec) -> AppResult<(View, crate::crypto::Secret)> {
    let url = check_url(
        state,
        spec.url.as_deref().ok_or_else(|| AppError::BadRequest(Msg::key("adm-err-webhook-url-required")))?,
    )?;
    let events = check_events(spec.events.as_deref().unwrap_or(&["*".to_owned()]))?;
    let description = check_description(spec.description.as_deref().unwrap_or_default())?;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let (secret, sealed) = webhooks::new_secret(&state.master_key, &id);
    let now = state.now();
    let w = Webhook {
        id,
        url,
        description,
        events,
        secret: sealed,
        previous_secret: None,
        previous_expires_at: None,
        enabled: spec.enabled.unwrap_or(true),
        created_at: now,
        updated_at: now,
    };
    store::webhooks::create(&state.db, &w).await?;
    state.delivery.subscribers.invalidate().await;
    admin.audit(state, SUBSCRIBED, None, None, &json!({"webhook_id": w.id, "url": w.url, "events": w.events})).await?;
    Ok((View::of(&w, now), secret))
}

pub async fn list(state: &AppState, _: &Admin) -> AppResult<Vec<View>> {
    let now = state.now();
    Ok(store::webhooks::list(&state.db).await?.iter().map(|w| View::of(w, now)).collect())
}

async fn find(state: &AppState, id: &str) -> AppResult<Webhook> {
    store::webhooks::find(&state.db, id).await?.ok_or(AppError::NotFound)
}

pub async fn get(state: &AppState, _: &Admin, id: &str) -> AppResult<View> {
    Ok(View::of(&find(state, id).await?, state.now()))
}

pub async fn update(state: &AppState, admin: &Admin, id: &str, spec: &Spec) -> AppResult<View> {
    let mut w = find(state, id).await?;
    if let Some(u) = &spec.url {
        w.url = check_url(state, u)?;
    }
    if let Some(e) = &spec.events {
        w.events = check_events(e)?;
    }
    if let Some(d) = &spec.description {
        w.description = check_description(d)?;
    }
    if let Some(on) = spec.enabled {
        w.enabled = on;
    }
    let now = state.now();
    if !store::webhooks::update(&state.db, &w, now).await? {
        return Err(AppError::NotFound);
    }
    state.delivery.subscribers.invalidate().await;
    let detail = json!({"webhook_id": w.id, "url": w.url, "events": w.events, "enabled": w.enabled});
    admin.audit(state, CHANGED, None, None, &detail).await?;
    Ok(View::of(&w, now))
}

pub async fn delete(state: &AppState, admin: &Admin, id: &str) -> AppResult<()> {
    if !store::webhooks::delete(&state.db, id).await? {
        return Err(AppError::NotFound);
    }
    state.delivery.subscribers.invalidate().await;
    admin.audit(state, REMOVED, None, None, &json!({"webhook_id": id})).await
}

/// A new signing secret (shown once); the old one keeps signing beside it for a day, so the
/// receiver can switch over without missing an event.
pub async fn rotate_secret(state: &AppState, admin: &Admin, id: &str) -> AppResult<(View, crate::crypto::Secret)> {
    find(state, id).await?;
    let (secret, sealed) = webhooks::new_secret(&state.master_key, id);
    let now = state.now();
    let w = store::webhooks::rotate(&state.db, id, &sealed, now + ROTATION_OVERLAP_SECONDS, now)
        .await?
        .ok_or(AppError::NotFound)?;
    state.delivery.subscribers.invalidate().await;
    admin.audit(state, ROTATED, None, None, &json!({"webhook_id": id})).await?;
    Ok((View::of(&w, now), secret))
}

/// Queues a `webhook.test` event for one subscriber. Returns its outbox record.
pub async fn send_test(state: &AppState, admin: &Admin, id: &str) -> AppResult<Summary> {
    let w = find(state, id).await?;
    let requested_by = admin.user().map_or_else(|| "the operator".to_owned(), |u| u.username.clone());
    let msg = Outgoing {
        channel: Channel::Webhook,
        to: w.id.clone(),
        user_id: None,
        content: Content::Event {
            event: "webhook.test".into(),
            at: state.now(),
            data: json!({"requested_by": requested_by, "issuer": state.issuer()}),
        },
        ttl_seconds: None,
    };
    let message_id = delivery::enqueue(state, msg).await?;
    store::outbox::find(&state.db, &message_id).await?.ok_or(AppError::NotFound)
}

/// The delivery log of one subscriber: its newest `limit` messages (at most 1000).
pub async fn deliveries(state: &AppState, _: &Admin, id: &str, limit: i64) -> AppResult<Vec<Summary>> {
    find(state, id).await?;
    store::outbox::list_for_recipient(&state.db, Channel::Webhook, id, limit.clamp(1, 1000)).await
}
