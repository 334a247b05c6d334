//! Types that hold a token, code or secret never print it in `Debug` (DESIGN §7), so a stray
//! `{:?}` in a log line or a panic message cannot leak one.

use portcullis::audit::Origin;
use portcullis::login::{Client, MfaPending, Stage};
use portcullis::oidc::token::TokenResponse;
use portcullis::store::saml::Delivery;

use crate::both_databases;
use crate::common::*;

both_databases!(debug_output_hides_secrets);

const SECRET: &str = "s3cr3t-bearer-value";

fn hides(what: &str, debug: String) {
    assert!(!debug.contains(SECRET), "{what} leaks a secret: {debug}");
    assert!(debug.contains("<redacted>"), "{what} says a secret is there: {debug}");
}

async fn debug_output_hides_secrets(b: Backend) {
    let opts = Options {
        tweak: Box::new(|c| c.email.transport = portcullis::config::EmailTransportKind::Log),
        ..Options::default()
    };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    let app = srv.add_client(false).await;
    let secret = app.client_secret.clone().unwrap().into_inner();
    let debug = format!("{app:?}");
    assert!(!debug.contains(&secret) && debug.contains(&app.client_id), "{debug}");

    hides(
        "TokenResponse",
        format!(
            "{:?}",
            TokenResponse {
                access_token: SECRET.into(),
                token_type: "Bearer",
                expires_in: 60,
                refresh_token: Some(SECRET.into()),
                id_token: Some(SECRET.into()),
                scope: "openid".into(),
            }
        ),
    );
    hides(
        "Client",
        format!(
            "{:?}",
            Client {
                origin: Origin::default(),
                device_token: Some(SECRET.into()),
                session_token: Some(SECRET.into()),
                user_agent: None,
            }
        ),
    );
    hides(
        "MfaPending",
        format!(
            "{:?}",
            MfaPending {
                token: SECRET.into(),
                stage: Stage::Challenge,
                challenge: vec![],
                enroll: vec![],
                can_postpone: false
            }
        ),
    );
    hides(
        "Delivery",
        format!(
            "{:?}",
            Delivery {
                session_id: None,
                acs_url: "https://sp.example/acs".into(),
                response: SECRET.into(),
                relay_state: None
            }
        ),
    );
    let alice = srv.add_user("alice").await;
    assert!(!format!("{alice:?}").contains("argon2"), "no password hash in a user's Debug");

    // Transport credentials in the configuration (which start-up errors may print whole).
    let mut cfg = (*srv.state.config).clone();
    cfg.email.smtp.password = SECRET.into();
    cfg.sms.twilio.auth_token = SECRET.into();
    cfg.sms.sns.secret_access_key = SECRET.into();
    cfg.sms.webhook.secret = SECRET.into();
    hides("Config", format!("{cfg:?}"));
    // A sign-in code in a queued message: sealed under the master key, and not in its Debug.
    let sealed = portcullis::delivery::prepare(
        &srv.state,
        portcullis::delivery::Outgoing {
            channel: portcullis::delivery::Channel::Email,
            to: "alice@example.test".into(),
            user_id: None,
            content: portcullis::delivery::Content::Code { code: "424242".into(), setup: false, minutes: 5 },
            ttl_seconds: None,
        },
    )
    .unwrap();
    assert!(!sealed.payload.windows(6).any(|w| w == b"424242"), "the code is stored encrypted");
    assert!(!sealed.payload.windows(5).any(|w| w == b"alice"), "so is the address");
    assert!(!format!("{sealed:?}").contains("424242"));
    srv.stop().await;
}
