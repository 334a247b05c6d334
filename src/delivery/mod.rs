//! Everything that leaves the process towards a person goes through the outbox (DESIGN §4):
//! a message is sealed under the master key and written with the change that caused it
//! (`prepare` + `queue_message!`, or `enqueue` when it is a change of its own), then a worker
//! on every node claims it with a lease and hands it to the channel's transport, retrying
//! transient failures with growing pauses until the message is no longer worth sending.
//!
//! Delivery is at least once: a node that dies after its provider accepted a message but
//! before recording it leaves the message to be sent again when the lease runs out. Nothing
//! is lost, and nothing is sent twice while every node is alive.

pub mod alerts;
pub mod email;
pub mod sms;
pub mod webhooks;
pub mod worker;

use crate::web::i18n;
use std::time::Duration;

use askama::Template;
use serde::{Deserialize, Serialize};

use crate::config::{Config, EmailTransportKind, SmsTransportKind};
use crate::crypto::MasterKey;
use crate::error::{AppError, AppResult, Msg};
use crate::state::AppState;
pub use crate::store::outbox::Channel;
use crate::store::outbox::NewMessage;

/// A node's delivery side: its transports, its identity as a lease holder, and the signal
/// that wakes its worker when it queues a message itself.
pub struct Delivery {
    node: String,
    wake: tokio::sync::Notify,
    email: Option<email::EmailTransport>,
    sms: Option<sms::SmsTransport>,
    /// The client webhook subscribers are called with, made at the first call (`webhook_client`):
    /// a node that never calls one does not set up TLS and its root certificates.
    webhook_client: std::sync::OnceLock<reqwest::Client>,
    /// The subscribers, as this node last read them.
    pub subscribers: webhooks::Subscribers,
    attempt_timeout: Duration,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("node", &self.node)
            .field("email", &self.email.is_some())
            .field("sms", &self.sms.is_some())
            .finish_non_exhaustive()
    }
}

impl Delivery {
    /// The transports `config` turns on (validated already by `Config::validate`).
    pub fn from_config(config: &Config) -> anyhow::Result<Delivery> {
        let attempt_timeout = Duration::from_secs(config.delivery.attempt_timeout_seconds);
        let email = match config.email.transport {
            EmailTransportKind::Off => None,
            EmailTransportKind::Log => Some(email::EmailTransport::Log),
            EmailTransportKind::Smtp => Some(email::EmailTransport::smtp(&config.email, attempt_timeout)?),
        };
        let sms = match config.sms.transport {
            SmsTransportKind::Off => None,
            kind => Some(sms::SmsTransport::new(kind, &config.sms, attempt_timeout)?),
        };
        Ok(Delivery {
            node: uuid::Uuid::new_v4().simple().to_string(),
            wake: tokio::sync::Notify::new(),
            email,
            sms,
            webhook_client: std::sync::OnceLock::new(),
            subscribers: webhooks::Subscribers::default(),
            attempt_timeout,
        })
    }

    /// Whether messages can be sent on `channel` (its transport is not `off`).
    pub fn is_available(&self, channel: Channel) -> bool {
        match channel {
            Channel::Email => self.email.is_some(),
            Channel::Sms => self.sms.is_some(),
            // Subscribers are registered in the database; the channel is always there.
            Channel::Webhook => true,
        }
    }

    /// The webhook client, made now if this is the node's first call.
    fn webhook_client(&self) -> Result<&reqwest::Client, Failure> {
        if let Some(c) = self.webhook_client.get() {
            return Ok(c);
        }
        let made = webhooks::client(self.attempt_timeout)
            .map_err(|e| Failure::Transient(format!("cannot set up the webhook client: {e}")))?;
        Ok(self.webhook_client.get_or_init(|| made))
    }

    /// Tells this node's worker that a message was queued (after the transaction committed).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// What a message says. Rendered when it is sent, from templates, so the stored body is
/// only these fields.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Content {
    /// An administrator checking that the channel works.
    Test { requested_by: String },
    /// A one-time code: to set up a factor (`setup`) or to sign in.
    Code { code: crate::crypto::Secret, setup: bool, minutes: i64 },
    /// A one-time link: MFA recovery (`recovery`) or a password reset. `issued_by` names the
    /// administrator who issued it, if one did.
    Link { url: crate::crypto::Secret, recovery: bool, minutes: i64, issued_by: Option<String> },
    /// An invitation to choose the first password of an account an administrator made.
    Invitation { url: crate::crypto::Secret, days: i64, issued_by: Option<String> },
    /// A security alert to the account's owner: what happened (`what`: the factor, if one), when
    /// and from which address.
    Alert { alert: alerts::Alert, what: Option<String>, at: i64, ip: Option<String> },
    /// An audit event for a webhook subscriber.
    Event { event: String, at: i64, data: serde_json::Value },
}

impl Content {
    /// The purpose recorded beside the message (never its content).
    pub fn purpose(&self) -> &'static str {
        match self {
            Content::Test { .. } => "test",
            Content::Code { setup: true, .. } => "setup_code",
            Content::Code { setup: false, .. } => "login_code",
            Content::Link { recovery: true, .. } => "recovery_link",
            Content::Link { recovery: false, .. } => "password_reset_link",
            Content::Invitation { .. } => "invitation",
            Content::Alert { .. } => "security_alert",
            Content::Event { .. } => "webhook_event",
        }
    }
}

/// The sealed part of a message: where it goes and what it says.
#[derive(Serialize, Deserialize)]
struct Payload {
    pub(crate) to: String,
    pub(crate) content: Content,
    /// The language to write it in: the request's that queued it (older messages: English).
    #[serde(default)]
    pub(crate) lang: Option<String>,
}

/// A message to queue.
pub struct Outgoing {
    pub channel: Channel,
    /// The address (email) or E.164 number (SMS), already validated by the caller.
    pub to: String,
    /// The user it concerns, if any (for the admin's view and the audit of a failure).
    pub user_id: Option<String>,
    pub content: Content,
    /// Seconds it is worth sending; capped by `delivery.give_up_after_seconds`.
    pub ttl_seconds: Option<i64>,
}

/// Seals `msg` into a row for `queue_message!` (inside the caller's transaction) or `enqueue`.
/// Fails when its channel has no transport.
pub fn prepare(state: &AppState, msg: Outgoing) -> AppResult<NewMessage> {
    if !state.delivery.is_available(msg.channel) {
        return Err(AppError::BadRequest(format!("no {} transport is configured", msg.channel).into()));
    }
    let now = state.now();
    let give_up = state.config.delivery.give_up_after_seconds;
    let ttl = msg.ttl_seconds.map_or(give_up, |t| t.clamp(1, give_up));
    let id = uuid::Uuid::new_v4().simple().to_string();
    let recipient = match msg.channel {
        Channel::Email => mask_email(&msg.to),
        Channel::Sms => mask_phone(&msg.to),
        Channel::Webhook => msg.to.clone(),
    };
    let purpose = msg.content.purpose();
    let lang = Some(crate::web::i18n::current().tag().to_owned());
    let payload = serde_json::to_vec(&Payload { to: msg.to, content: msg.content, lang })
        .map_err(|e| AppError::Internal(anyhow::anyhow!("encoding a message: {e}")))?;
    Ok(NewMessage {
        payload: seal(&state.master_key, &id, &payload),
        id,
        channel: msg.channel,
        purpose,
        recipient,
        user_id: msg.user_id,
        created_at: now,
        expires_at: now + ttl,
    })
}

/// Queues a message that is a change of its own, and wakes this node's worker. Returns its id.
pub async fn enqueue(state: &AppState, msg: Outgoing) -> AppResult<String> {
    let row = prepare(state, msg)?;
    crate::store::outbox::insert(&state.db, &row).await?;
    state.delivery.wake();
    Ok(row.id)
}

fn seal(key: &MasterKey, id: &str, payload: &[u8]) -> Vec<u8> {
    key.encrypt(&format!("outbox:{id}"), payload)
}

fn open(key: &MasterKey, id: &str, sealed: &[u8]) -> anyhow::Result<Payload> {
    let plain = key.decrypt(&format!("outbox:{id}"), sealed)?;
    Ok(serde_json::from_slice(&plain)?)
}

/// A message ready for a transport.
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

#[derive(Template)]
#[template(path = "mail/test.txt")]
struct TestText<'a> {
    requested_by: &'a str,
    issuer: &'a str,
}

#[derive(Template)]
#[template(path = "mail/test.html")]
struct TestHtml<'a> {
    requested_by: &'a str,
    issuer: &'a str,
}

#[derive(Template)]
#[template(path = "mail/code.txt")]
struct CodeText<'a> {
    code: &'a str,
    setup: bool,
    minutes: i64,
    host: &'a str,
}

#[derive(Template)]
#[template(path = "mail/code.html")]
struct CodeHtml<'a> {
    code: &'a str,
    setup: bool,
    minutes: i64,
    host: &'a str,
}

#[derive(Template)]
#[template(path = "mail/invite.txt")]
struct InviteText<'a> {
    url: &'a str,
    days: i64,
    host: &'a str,
    issued_by: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "mail/invite.html")]
struct InviteHtml<'a> {
    url: &'a str,
    days: i64,
    host: &'a str,
    issued_by: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "mail/link.txt")]
struct LinkText<'a> {
    url: &'a str,
    recovery: bool,
    minutes: i64,
    host: &'a str,
    issued_by: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "mail/link.html")]
struct LinkHtml<'a> {
    url: &'a str,
    recovery: bool,
    minutes: i64,
    host: &'a str,
    issued_by: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "mail/alert.txt")]
struct AlertText<'a> {
    headline: &'a str,
    what: Option<&'a str>,
    when: &'a str,
    ip: Option<&'a str>,
    host: &'a str,
    recovery_url: &'a str,
}

#[derive(Template)]
#[template(path = "mail/alert.html")]
struct AlertHtml<'a> {
    headline: &'a str,
    what: Option<&'a str>,
    when: &'a str,
    ip: Option<&'a str>,
    host: &'a str,
    recovery_url: &'a str,
}

impl Content {
    fn render(&self, channel: Channel, issuer: &str) -> anyhow::Result<Rendered> {
        let host = url::Url::parse(issuer).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
        Ok(match self {
            Content::Code { code, setup, minutes } => Rendered {
                subject: i18n::t2("mail-code-subject", "host", &host, "code", code.expose()),
                text: match channel {
                    Channel::Email | Channel::Webhook => {
                        CodeText { code, setup: *setup, minutes: *minutes, host: &host }.render()?
                    }
                    // The last line is an origin-bound one-time code (WICG sms-one-time-codes):
                    // browsers offer to fill it in on this host's pages only.
                    Channel::Sms => format!(
                        "{}\n\n@{host} #{}",
                        i18n::text_in(
                            i18n::current(),
                            "sms-code",
                            &[("code", code.expose()), ("host", &host), ("minutes", &minutes.to_string())]
                        ),
                        code.expose()
                    ),
                },
                html: Some(CodeHtml { code, setup: *setup, minutes: *minutes, host: &host }.render()?),
            },
            Content::Link { url, recovery, minutes, issued_by } => {
                let (url, recovery, minutes, host, issued_by) =
                    (url.expose(), *recovery, *minutes, host.as_str(), issued_by.as_deref());
                Rendered {
                    subject: i18n::t1(
                        if recovery { "mail-recover-subject" } else { "mail-reset-subject" },
                        "host",
                        host,
                    ),
                    // Links go by email only; a text message would carry them in clear through
                    // the carrier.
                    text: LinkText { url, recovery, minutes, host, issued_by }.render()?,
                    html: Some(LinkHtml { url, recovery, minutes, host, issued_by }.render()?),
                }
            }
            Content::Invitation { url, days, issued_by } => {
                let (url, days, host, issued_by) = (url.expose(), *days, host.as_str(), issued_by.as_deref());
                Rendered {
                    subject: i18n::t1("mail-invite-subject", "host", host),
                    text: InviteText { url, days, host, issued_by }.render()?,
                    html: Some(InviteHtml { url, days, host, issued_by }.render()?),
                }
            }
            Content::Alert { alert, what, at, ip } => {
                let (subject, headline) = alert.headline();
                let when = cookie::time::OffsetDateTime::from_unix_timestamp(*at)
                    .map(|t| format!("{} {:02}:{:02} UTC", t.date(), t.hour(), t.minute()))
                    .unwrap_or_default();
                let recovery_url = format!("{}/reset-password", issuer.trim_end_matches('/'));
                let (what, ip, host) = (what.as_deref(), ip.as_deref(), host.as_str());
                let (when, recovery_url, headline) = (when.as_str(), recovery_url.as_str(), headline.as_str());
                Rendered {
                    subject: format!("{subject} ({host})"),
                    text: AlertText { headline, what, when, ip, host, recovery_url }.render()?,
                    html: Some(AlertHtml { headline, what, when, ip, host, recovery_url }.render()?),
                }
            }
            Content::Event { event, at, data } => {
                let timestamp = cookie::time::OffsetDateTime::from_unix_timestamp(*at)
                    .ok()
                    .and_then(|t| t.format(&cookie::time::format_description::well_known::Rfc3339).ok())
                    .unwrap_or_default();
                let body = serde_json::json!({"type": event, "timestamp": timestamp, "data": data});
                Rendered { subject: event.clone(), text: body.to_string(), html: None }
            }
            Content::Test { requested_by } => Rendered {
                subject: "Portcullis test message".into(),
                text: match channel {
                    Channel::Email | Channel::Webhook => TestText { requested_by, issuer }.render()?,
                    Channel::Sms => format!("Portcullis test message from {issuer}, sent for {requested_by}."),
                },
                html: Some(TestHtml { requested_by, issuer }.render()?),
            },
        })
    }
}

/// Why an attempt failed, and whether trying again can help.
#[derive(Debug)]
pub enum Failure {
    /// A timeout, a refused connection, a 4xx SMTP reply, HTTP 429 or 5xx: try again later.
    Transient(String),
    /// The provider refused this message for good (a bad address, bad credentials).
    Permanent(String),
}

impl Failure {
    fn text(&self) -> &str {
        match self {
            Failure::Transient(s) | Failure::Permanent(s) => s,
        }
    }
}

/// `alice@example.com` → `a***@example.com`: enough for a person to recognise, little to harvest.
pub fn mask_email(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

/// `+15555555671` → `+1***5671`: the country code and the last four digits (HelloJohn's
/// shape), enough for a person to recognise their number.
pub fn mask_phone(e164: &str) -> String {
    let digits: Vec<char> = e164.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() < 6 {
        return "***".into();
    }
    let last: String = digits[digits.len() - 4..].iter().collect();
    let country =
        phonenumber::parse(None, e164).map(|n| n.code().value().to_string()).unwrap_or_else(|_| digits[0].to_string());
    format!("+{country}***{last}")
}

/// A phone number in any common notation → E.164 (`+15555555671`), checked against the
/// numbering plan of its country (libphonenumber's metadata), or why not. Numbers without a
/// `+` country code are refused rather than guessed.
pub fn normalise_phone(input: &str) -> Result<String, Msg> {
    let trimmed = input.trim();
    if trimmed.is_empty() || trimmed.len() > 32 {
        return Err(Msg::key("refuse-phone-empty"));
    }
    if !trimmed.starts_with('+') {
        return Err(Msg::key("refuse-phone-country"));
    }
    let number = phonenumber::parse(None, trimmed).map_err(|_| Msg::key("refuse-phone-invalid"))?;
    if !phonenumber::is_valid(&number) {
        return Err(Msg::key("refuse-phone-plan"));
    }
    Ok(number.format().mode(phonenumber::Mode::E164).to_string())
}

/// Refuses an E.164 number whose country calling code `sms.allowed_country_codes` does not
/// list (with the `log` transport an empty list allows all).
pub fn check_sms_country(sms: &crate::config::SmsConfig, e164: &str) -> Result<(), Msg> {
    let code =
        phonenumber::parse(None, e164).map(|n| n.code().value()).map_err(|_| Msg::key("refuse-phone-invalid"))?;
    let open = sms.allowed_country_codes.is_empty() && sms.transport == SmsTransportKind::Log;
    if open || sms.allowed_country_codes.contains(&code) {
        Ok(())
    } else {
        Err(Msg::key("refuse-phone-country-closed").with("code", code))
    }
}

/// An email address as lettre (RFC 5321/5322) accepts it, trimmed, or why not.
pub fn normalise_email(input: &str) -> Result<String, Msg> {
    let trimmed = input.trim();
    if trimmed.len() > 254 {
        return Err(Msg::key("refuse-email-long"));
    }
    trimmed.parse::<lettre::Address>().map(|a| a.to_string()).map_err(|_| Msg::key("refuse-email-invalid"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_are_masked() {
        assert_eq!(mask_email("alice@example.com"), "a***@example.com");
        assert_eq!(mask_email("nonsense"), "***");
        assert_eq!(mask_phone("+15555555671"), "+1***5671");
        assert_eq!(mask_phone("+442079460018"), "+44***0018");
        assert_eq!(mask_phone("+12"), "***");
    }

    #[test]
    fn phone_numbers_become_e164_or_are_refused() {
        assert_eq!(normalise_phone("+1 (415) 555-2671").unwrap(), "+14155552671");
        assert_eq!(normalise_phone(" +44 20 7946 0018 ").unwrap(), "+442079460018");
        assert!(normalise_phone("415 555 2671").is_err(), "no country code, no guess");
        assert!(normalise_phone("+1 123").is_err());
        assert!(normalise_phone("+999 1234567").is_err());
        assert!(normalise_phone("+1 415 555 2671; DROP").is_err());
    }

    #[test]
    fn email_addresses_are_checked() {
        assert_eq!(normalise_email(" alice@example.com ").unwrap(), "alice@example.com");
        assert!(normalise_email("alice").is_err());
        assert!(normalise_email("a@b@c").is_err());
        assert!(normalise_email("alice@example.com\r\nBcc: x@y.z").is_err());
    }
}
