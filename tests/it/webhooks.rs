//! Webhooks for MFA and security events, verified by the Standard Webhooks reference library
//! in another language (PyPI `standardwebhooks`, in `tests/clients/receivers.py`): events reach
//! the subscribers whose filter wants them, signed; a test event; the delivery log; a secret
//! rotation during which both secrets verify; a failing endpoint retried, and one that says
//! 410 kept as failed without feeding on its own failure.

use serde_json::{Value, json};

use crate::both_databases;
use crate::common::*;
use crate::delivery::Receiver;

both_databases!(
    events_reach_subscribers_signed_and_filtered,
    failing_subscribers_are_retried_or_given_up,
    the_console_page_registers_tests_rotates_and_removes
);

async fn server(b: Backend) -> Option<TestServer> {
    let opts = Options {
        tweak: Box::new(|c| {
            c.delivery.allow_insecure_webhooks = true;
        }),
        ..Options::default()
    };
    TestServer::start_with(b, opts).await
}

async fn set_secrets(port: u16, secrets: &[&str]) {
    let resp = reqwest::Client::new()
        .put(format!("http://127.0.0.1:{port}/_secrets"))
        .json(&json!(secrets))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
}

/// A subscriber's delivery log, as the admin API gives it.
async fn deliveries(srv: &TestServer, admin: &reqwest::Client, id: &str) -> Value {
    let url = srv.url(&format!("/api/v1/admin/webhooks/{id}/deliveries"));
    admin.get(url).send().await.unwrap().json().await.unwrap()
}

/// The next message the receiver got.
async fn next_event(r: &mut Receiver) -> Value {
    r.next(15).await.expect("an event was delivered")
}

async fn subscribe(
    srv: &TestServer,
    admin: &reqwest::Client,
    port: u16,
    path: &str,
    events: Value,
) -> (String, String) {
    let (status, body) = api_post(
        admin,
        &srv.url("/api/v1/admin/webhooks"),
        json!({"url": format!("http://127.0.0.1:{port}{path}"), "events": events, "description": "SIEM"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let secret = body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{body}");
    (body["id"].as_str().unwrap().to_owned(), secret)
}

async fn events_reach_subscribers_signed_and_filtered(b: Backend) {
    let Some(mut logins) = Receiver::start("webhook", &[]) else { return };
    let Some(mut mfa) = Receiver::start("webhook", &[]) else { return };
    let Some(srv) = server(b).await else { return };
    let admin = crate::plugins_login::admin_client(&srv).await;

    // Refused registrations, each with its reason.
    for bad in [
        json!({"url": "ftp://127.0.0.1/x", "events": ["*"]}),
        json!({"url": "https://user:pw@example.test/x", "events": ["*"]}),
        json!({"url": "https://example.test/x", "events": ["not an event!"]}),
        json!({"url": "https://example.test/x", "events": []}),
        json!({"events": ["*"]}),
    ] {
        let (status, body) = api_post(&admin, &srv.url("/api/v1/admin/webhooks"), bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }

    let (hook, secret) = subscribe(&srv, &admin, logins.port, "/logins", json!(["login.*"])).await;
    // The secret is sealed under the master key, never stored as it was shown.
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD.decode(secret.trim_start_matches("whsec_")).unwrap();
    let stored = portcullis::store::webhooks::find(&srv.state.db, &hook).await.unwrap().unwrap();
    assert!(!stored.secret.windows(raw.len()).any(|w| w == raw.as_slice()), "the secret is stored sealed");
    set_secrets(logins.port, &[&secret]).await;
    let (_, mfa_secret) = subscribe(&srv, &admin, mfa.port, "/mfa", json!(["mfa.*"])).await;
    set_secrets(mfa.port, &[&mfa_secret]).await;
    let list: Value = admin.get(srv.url("/api/v1/admin/webhooks")).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["webhooks"].as_array().unwrap().len(), 2, "{list}");
    assert!(!list.to_string().contains("whsec_"), "secrets are shown once, never listed: {list}");

    let olga = srv.add_user("olga").await;
    let (status, _) = api_login(&srv, &reqwest::Client::new(), "olga").await;
    assert_eq!(status, 200);
    let got = next_event(&mut logins).await;
    assert_eq!(got["verified"], true, "{got}");
    assert_eq!(got["payload"]["type"], "login.success", "{got}");
    assert_eq!(got["payload"]["data"]["user_id"], json!(olga.id));
    assert!(got["payload"]["timestamp"].as_str().unwrap().ends_with('Z'), "{got}");
    assert!(got["id"].as_str().unwrap().starts_with("msg_"), "{got}");
    let (status, _) = api_post(
        &reqwest::Client::new(),
        &srv.url("/api/v1/auth/login"),
        json!({"username": "olga", "password": "wrong password"}),
    )
    .await;
    assert_eq!(status, 401);
    let got = next_event(&mut logins).await;
    assert_eq!(got["payload"]["type"], "login.failure", "{got}");
    assert!(mfa.quiet_for(1).await, "the mfa.* subscriber hears no sign-in events");

    // A test event, and the delivery log.
    let resp =
        admin.post(srv.url(&format!("/api/v1/admin/webhooks/{hook}/test"))).json(&json!({})).send().await.unwrap();
    assert_eq!(resp.status(), 202);
    let got = next_event(&mut logins).await;
    assert_eq!(
        (got["verified"].as_bool(), got["payload"]["type"].as_str()),
        (Some(true), Some("webhook.test")),
        "{got}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let log = deliveries(&srv, &admin, &hook).await;
    let log = log["deliveries"].as_array().unwrap();
    assert_eq!(log.len(), 3, "{log:?}");
    assert!(log.iter().all(|d| d["status"] == "sent" && d["channel"] == "webhook"), "{log:?}");

    // Rotation: the old secret keeps verifying beside the new one.
    let (status, rotated) =
        api_post(&admin, &srv.url(&format!("/api/v1/admin/webhooks/{hook}/rotate-secret")), json!({})).await;
    assert_eq!(status, 200, "{rotated}");
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    assert!(rotated["previous_secret_expires_at"].as_i64().unwrap() > srv.now());
    set_secrets(logins.port, &[&secret, &new_secret]).await;
    api_login(&srv, &reqwest::Client::new(), "olga").await;
    let got = next_event(&mut logins).await;
    assert_eq!(got["signatures"], 2, "{got}");
    assert_eq!(got["verified_with"], json!([0, 1]), "both secrets verify during the overlap: {got}");

    // Turned off: nothing more; removed: gone.
    let resp = admin
        .patch(srv.url(&format!("/api/v1/admin/webhooks/{hook}")))
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    api_login(&srv, &reqwest::Client::new(), "olga").await;
    assert!(logins.quiet_for(2).await, "a subscriber turned off hears nothing");
    let resp = admin.delete(srv.url(&format!("/api/v1/admin/webhooks/{hook}"))).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    let resp = admin.get(srv.url(&format!("/api/v1/admin/webhooks/{hook}"))).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    for e in ["webhook.created", "webhook.secret_rotated", "webhook.changed", "webhook.removed"] {
        assert!(!srv.audit(None, e, 5).await.is_empty(), "{e} is audited");
    }
    // A user cannot touch them.
    let user = reqwest::Client::builder().cookie_store(true).build().unwrap();
    api_login(&srv, &user, "olga").await;
    let resp = user.get(srv.url("/api/v1/admin/webhooks")).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    srv.stop().await;
}

async fn failing_subscribers_are_retried_or_given_up(b: Backend) {
    let Some(mut flaky) = Receiver::start("webhook", &[("FAIL_FIRST", "1")]) else { return };
    let Some(mut gone) = Receiver::start("webhook", &[("RESPOND_STATUS", "410")]) else { return };
    let Some(srv) = server(b).await else { return };
    let admin = crate::plugins_login::admin_client(&srv).await;
    let (flaky_id, s1) = subscribe(&srv, &admin, flaky.port, "/", json!(["login.success"])).await;
    set_secrets(flaky.port, &[&s1]).await;
    // Everything, from the moment the receiver knows the secret: registered turned off, then
    // turned on (its own registration is no event it could verify).
    let (status, body) = api_post(
        &admin,
        &srv.url("/api/v1/admin/webhooks"),
        json!({"url": format!("http://127.0.0.1:{}/", gone.port), "events": ["*"], "enabled": false}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let gone_id = body["id"].as_str().unwrap().to_owned();
    set_secrets(gone.port, &[body["secret"].as_str().unwrap()]).await;
    let resp = admin
        .patch(srv.url(&format!("/api/v1/admin/webhooks/{gone_id}")))
        .json(&json!({"enabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    srv.add_user("pia").await;
    api_login(&srv, &reqwest::Client::new(), "pia").await;

    // The flaky one answers 500 first, then takes the same message (same webhook-id) again.
    let first = next_event(&mut flaky).await;
    assert_eq!(first["answered"], 500, "{first}");
    let second = flaky.next(20).await.expect("the message was tried again");
    assert_eq!(second["id"], first["id"], "a retry keeps its webhook-id");
    assert_eq!(second["verified"], true);

    // 410 Gone: each event given up at once, kept as failed — and the failures are not fed back
    // to it as events of their own.
    let mut received = Vec::new();
    while let Some(got) = gone.next(2).await {
        assert_eq!(got["verified"], true, "{got}");
        received.push(got["payload"]["type"].as_str().unwrap().to_owned());
    }
    assert!(received.contains(&"login.success".to_owned()), "{received:?}");
    assert!(received.iter().all(|t| !t.starts_with("delivery.")), "{received:?}");
    let log = deliveries(&srv, &admin, &gone_id).await;
    let log = log["deliveries"].as_array().unwrap();
    assert_eq!(log.len(), received.len(), "{log:?}");
    for d in log {
        assert_eq!((d["status"].as_str(), d["attempts"].as_i64()), (Some("failed"), Some(1)), "{d}");
        assert!(d["last_error"].as_str().unwrap().contains("410"), "{d}");
    }
    assert!(!srv.audit(None, "delivery.failed", 5).await.is_empty(), "the admin sees the failures");
    let log = deliveries(&srv, &admin, &flaky_id).await;
    assert_eq!(log["deliveries"][0]["status"], "sent", "{log}");
    assert_eq!(log["deliveries"][0]["attempts"], 2, "{log}");
    srv.stop().await;
}

/// The secret shown once on the webhooks page.
fn shown_secret(html: &str) -> String {
    let at = html.find("whsec_").unwrap_or_else(|| panic!("a secret on the page: {html}"));
    html[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '/' | '=')).collect()
}

async fn the_console_page_registers_tests_rotates_and_removes(b: Backend) {
    let Some(mut hook) = Receiver::start("webhook", &[]) else { return };
    let Some(srv) = server(b).await else { return };
    srv.add_admin("root").await;
    let admin = browser();
    let login = get_page(&admin, &srv, "/login").await;
    let form =
        [("csrf", hidden_input(&login, "csrf").unwrap()), ("username", "root".into()), ("password", PASSWORD.into())];
    admin.post(srv.url("/login")).form(&form).send().await.unwrap();

    let url = format!("http://127.0.0.1:{}/hook", hook.port);
    let resp =
        post_form(&admin, &srv, "/admin/webhooks", "/admin/webhooks", &[("url", "ftp://nope"), ("events", "")]).await;
    assert_eq!(resp.status(), 400);
    let resp = post_form(
        &admin,
        &srv,
        "/admin/webhooks",
        "/admin/webhooks",
        &[("url", &url), ("events", "login.*, mfa.*"), ("description", "SIEM")],
    )
    .await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    let secret = shown_secret(&html);
    set_secrets(hook.port, &[&secret]).await;
    let page = get_page(&admin, &srv, "/admin/webhooks").await;
    assert!(page.contains(&url) && page.contains("login.* mfa.*") && !page.contains("whsec_"), "{page}");
    let id = portcullis::store::webhooks::list(&srv.state.db).await.unwrap().remove(0).id;

    let resp = post_form(&admin, &srv, "/admin/webhooks", &format!("/admin/webhooks/{id}/test"), &[]).await;
    assert_eq!(resp.status(), 200);
    let got = next_event(&mut hook).await;
    assert_eq!(
        (got["verified"].as_bool(), got["payload"]["type"].as_str()),
        (Some(true), Some("webhook.test")),
        "{got}"
    );

    let resp = post_form(&admin, &srv, "/admin/webhooks", &format!("/admin/webhooks/{id}/rotate"), &[]).await;
    assert_eq!(resp.status(), 400, "rotation needs its box ticked");
    let resp =
        post_form(&admin, &srv, "/admin/webhooks", &format!("/admin/webhooks/{id}/rotate"), &[("confirm", "yes")])
            .await;
    let new_secret = shown_secret(&resp.text().await.unwrap());
    assert_ne!(new_secret, secret);
    let resp = post_form(&admin, &srv, "/admin/webhooks", &format!("/admin/webhooks/{id}/disable"), &[]).await;
    assert!(resp.status().is_redirection());
    assert!(get_page(&admin, &srv, "/admin/webhooks").await.contains("Turn on"));
    let resp =
        post_form(&admin, &srv, "/admin/webhooks", &format!("/admin/webhooks/{id}/delete"), &[("confirm", "yes")])
            .await;
    assert!(resp.status().is_redirection());
    assert!(portcullis::store::webhooks::list(&srv.state.db).await.unwrap().is_empty());
    for e in ["webhook.created", "webhook.secret_rotated", "webhook.changed", "webhook.removed"] {
        assert!(!srv.audit(None, e, 5).await.is_empty(), "{e}");
    }
    srv.stop().await;
}
