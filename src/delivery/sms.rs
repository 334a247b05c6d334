//! Text messages: Twilio's Messages API, AWS SNS `Publish` (SigV4), a custom webhook signed
//! as Standard Webhooks do, or the server log during development. Each provider is called
//! over HTTPS with no redirects followed (a signed request goes where it was configured to
//! go, or nowhere).

use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::Failure;
use crate::config::{SmsConfig, SmsTransportKind};
use crate::crypto::Secret;

pub enum SmsTransport {
    Log,
    Twilio(Twilio),
    Sns(Sns),
    Webhook(Webhook),
}

pub struct Twilio {
    http: reqwest::Client,
    url: String,
    account_sid: String,
    auth_token: Secret,
    from: String,
    messaging_service_sid: String,
}

pub struct Sns {
    http: reqwest::Client,
    url: url::Url,
    region: String,
    access_key_id: String,
    secret_access_key: Secret,
    sender_id: String,
}

pub struct Webhook {
    http: reqwest::Client,
    url: String,
    key: Vec<u8>,
}

/// The key of a Standard Webhooks secret (`whsec_` + base64), or why it is unusable.
pub fn webhook_key(secret: &Secret) -> Result<Vec<u8>, String> {
    let b64 = secret.strip_prefix("whsec_").ok_or("must start with `whsec_`")?;
    let key = STANDARD.decode(b64).map_err(|_| "the part after `whsec_` must be base64".to_owned())?;
    if key.len() < 24 {
        return Err("must hold at least 24 random bytes".into());
    }
    Ok(key)
}

fn client(timeout: Duration) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Portcullis/", env!("CARGO_PKG_VERSION")))
        .build()?)
}

impl SmsTransport {
    pub fn new(kind: SmsTransportKind, cfg: &SmsConfig, timeout: Duration) -> anyhow::Result<SmsTransport> {
        Ok(match kind {
            SmsTransportKind::Off | SmsTransportKind::Log => SmsTransport::Log,
            SmsTransportKind::Twilio => {
                let t = &cfg.twilio;
                SmsTransport::Twilio(Twilio {
                    http: client(timeout)?,
                    url: format!(
                        "{}/2010-04-01/Accounts/{}/Messages.json",
                        t.api_base.trim_end_matches('/'),
                        t.account_sid
                    ),
                    account_sid: t.account_sid.clone(),
                    auth_token: t.auth_token.clone(),
                    from: t.from.clone(),
                    messaging_service_sid: t.messaging_service_sid.clone(),
                })
            }
            SmsTransportKind::Sns => {
                let n = &cfg.sns;
                let endpoint = if n.endpoint.is_empty() {
                    format!("https://sns.{}.amazonaws.com/", n.region)
                } else {
                    n.endpoint.clone()
                };
                SmsTransport::Sns(Sns {
                    http: client(timeout)?,
                    url: url::Url::parse(&endpoint)?,
                    region: n.region.clone(),
                    access_key_id: n.access_key_id.clone(),
                    secret_access_key: n.secret_access_key.clone(),
                    sender_id: n.sender_id.clone(),
                })
            }
            SmsTransportKind::Webhook => SmsTransport::Webhook(Webhook {
                http: client(timeout)?,
                url: cfg.webhook.url.clone(),
                key: webhook_key(&cfg.webhook.secret).map_err(anyhow::Error::msg)?,
            }),
        })
    }

    /// Sends `text` to `to` (E.164). `id` is the outbox message's id, the same on every attempt,
    /// so a receiver can drop a repeat.
    pub async fn send(&self, id: &str, to: &str, text: &str) -> Result<(), Failure> {
        match self {
            SmsTransport::Log => {
                // The log transport exists to show the message, code and all: development only.
                tracing::info!(message_id = id, to, body = text, "text message (log transport)");
                Ok(())
            }
            SmsTransport::Twilio(t) => t.send(to, text).await,
            SmsTransport::Sns(s) => s.send(to, text).await,
            SmsTransport::Webhook(w) => w.send(id, to, text).await,
        }
    }
}

/// Sorts an HTTP answer: 2xx delivered; 408, 429 and 5xx worth another try; the rest refused.
async fn outcome(provider: &str, resp: Result<reqwest::Response, reqwest::Error>) -> Result<String, Failure> {
    let resp = resp.map_err(|e| Failure::Transient(format!("{provider}: {}", without_url(e))))?;
    let status = resp.status();
    // A provider's error body says why; a bounded part of it is kept for the admin.
    let body = resp.text().await.unwrap_or_default();
    if status.is_success() {
        return Ok(body);
    }
    let mut snippet: String = body.chars().take(300).collect();
    if snippet.len() < body.len() {
        snippet.push('…');
    }
    let text = format!("{provider}: HTTP {}: {snippet}", status.as_u16());
    if status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429 {
        Err(Failure::Transient(text))
    } else {
        Err(Failure::Permanent(text))
    }
}

/// A transport error's text without its URL (Twilio's holds the account id; any may hold more).
fn without_url(e: reqwest::Error) -> String {
    e.without_url().to_string()
}

impl Twilio {
    /// Twilio's Create Message: form-encoded `To`, `From` (or `MessagingServiceSid`) and `Body`,
    /// HTTP basic auth with the account SID and auth token.
    async fn send(&self, to: &str, text: &str) -> Result<(), Failure> {
        let sender = if self.messaging_service_sid.is_empty() {
            ("From", self.from.as_str())
        } else {
            ("MessagingServiceSid", self.messaging_service_sid.as_str())
        };
        let form = [("To", to), sender, ("Body", text)];
        let resp = self
            .http
            .post(&self.url)
            .basic_auth(&self.account_sid, Some(self.auth_token.expose()))
            .form(&form)
            .send()
            .await;
        outcome("Twilio", resp).await.map(drop)
    }
}

impl Sns {
    /// SNS `Publish` to a phone number (Query API, form-encoded), transactional, SigV4-signed.
    async fn send(&self, to: &str, text: &str) -> Result<(), Failure> {
        let mut form = vec![
            ("Action", "Publish"),
            ("Version", "2010-03-31"),
            ("PhoneNumber", to),
            ("Message", text),
            ("MessageAttributes.entry.1.Name", "AWS.SNS.SMS.SMSType"),
            ("MessageAttributes.entry.1.Value.DataType", "String"),
            ("MessageAttributes.entry.1.Value.StringValue", "Transactional"),
        ];
        if !self.sender_id.is_empty() {
            form.extend([
                ("MessageAttributes.entry.2.Name", "AWS.SNS.SMS.SenderID"),
                ("MessageAttributes.entry.2.Value.DataType", "String"),
                ("MessageAttributes.entry.2.Value.StringValue", self.sender_id.as_str()),
            ]);
        }
        let body = serde_urlencoded::to_string(&form).map_err(|e| Failure::Permanent(format!("SNS: {e}")))?;
        let headers = self.sign(&body).map_err(|e| Failure::Permanent(format!("SNS: cannot sign the request: {e}")))?;
        let mut req = self.http.post(self.url.clone()).header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE).body(body);
        for (name, value) in headers {
            req = req.header(name, value);
        }
        outcome("SNS", req.send().await).await.map(drop)
    }

    /// The SigV4 headers (`authorization`, `x-amz-date`) for a POST of `body`.
    fn sign(&self, body: &str) -> anyhow::Result<Vec<(String, String)>> {
        use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
        use aws_sigv4::sign::v4;
        let identity = aws_credential_types::Credentials::new(
            &self.access_key_id,
            self.secret_access_key.expose(),
            None,
            None,
            "portcullis-config",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("sns")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()?
            .into();
        // The signer adds `host` from the URL itself.
        let request = SignableRequest::new(
            "POST",
            self.url.as_str(),
            [("content-type", CONTENT_TYPE)].into_iter(),
            SignableBody::Bytes(body.as_bytes()),
        )?;
        let (instructions, _signature) = sign(request, &params)?.into_parts();
        let (headers, _query) = instructions.into_parts();
        Ok(headers.into_iter().map(|h| (h.name().to_owned(), h.value().to_owned())).collect())
    }
}

const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

impl Webhook {
    /// A JSON POST signed as Standard Webhooks specify: `webhook-id` (the message id, the same
    /// on a retry), `webhook-timestamp`, and `webhook-signature: v1,<base64 HMAC-SHA256 of
    /// "id.timestamp.body">`.
    async fn send(&self, id: &str, to: &str, text: &str) -> Result<(), Failure> {
        let ts = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_secs();
        let body = serde_json::json!({
            "type": "sms.send",
            "timestamp": chrono::DateTime::from_timestamp(ts as i64, 0).map(|t| t.to_rfc3339()),
            "data": { "message_id": id, "to": to, "body": text },
        })
        .to_string();
        let signature = sign_webhook(&self.key, id, ts, &body);
        let resp = self
            .http
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        outcome("webhook", resp).await.map(drop)
    }
}

/// `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body` (Standard Webhooks).
pub fn sign_webhook(key: &[u8], id: &str, ts: u64, body: &str) -> String {
    use aws_lc_rs::hmac;
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let tag = hmac::sign(&key, format!("{id}.{ts}.{body}").as_bytes());
    format!("v1,{}", STANDARD.encode(tag.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_secrets_must_be_standard() {
        assert!(webhook_key(&Secret::from("plain")).is_err());
        assert!(webhook_key(&Secret::from("whsec_!!!")).is_err());
        assert!(webhook_key(&Secret::from("whsec_c2hvcnQ=")).is_err(), "too short");
        let k = webhook_key(&Secret::from("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")).unwrap();
        assert_eq!(k.len(), 24);
    }

    /// The example of the Standard Webhooks specification's reference libraries.
    #[test]
    fn webhook_signature_matches_the_standard() {
        let key = webhook_key(&Secret::from("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")).unwrap();
        let sig = sign_webhook(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, r#"{"test": 2432232314}"#);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
