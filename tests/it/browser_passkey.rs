//! A real browser: headless Chromium (Debian's package, driven by playwright-core from
//! `tests/browser/`) with a DevTools virtual authenticator signs in with a password, adds a
//! passkey on the profile page, signs out, and signs in to the built-in demo relying party
//! (an OIDC code flow with PKCE) with the passkey as second factor. A second run signs in to
//! a SAML service provider, whose ACS (a listener in the test) receives the response that the
//! hand-over page posts by itself. A third sets up text-message codes on the profile page and
//! signs in to the demo with a texted code (the script is the SMS webhook too). A fifth walks the
//! admin console and the account page with axe-core at two widths, light and dark, keeping
//! screenshots (`target/screenshots`, or `$PORTCULLIS_SCREENSHOTS`). `scripts/test` installs
//! Chromium and the npm package; under `CI=true` their absence fails the test.

use crate::both_databases;
use crate::common::*;
use std::path::Path;

both_databases!(
    passkey_in_a_real_browser,
    saml_handover_in_a_real_browser,
    sms_codes_in_a_real_browser,
    recovery_in_a_real_browser
);

/// The console pages do not depend on the database: walked once, on SQLite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_and_account_pages_pass_axe() {
    if !can_run() {
        return;
    }
    let Some(srv) = TestServer::start(Backend::Sqlite).await else { return };
    srv.add_admin("root").await;
    let vera = srv.add_user("vera").await;
    srv.enrol_totp_now(&vera).await;
    let app = srv.add_client(false).await;
    // Something on every page: an invited user, a SAML app, sign-ins in the audit log.
    let admin = portcullis::admin::Admin::operator();
    let spec = portcullis::admin::users::UserSpec {
        username: "nina",
        password: "",
        email: Some("nina@example.test"),
        email_verified: false,
        display_name: Some("Nina"),
        is_admin: false,
        groups: &["staff".to_owned()],
    };
    portcullis::admin::users::invite(&srv.state, &admin, &spec, 7, false).await.unwrap();
    let saml = portcullis::admin::apps::SamlAppSpec {
        name: "Wiki".into(),
        entity_id: Some("https://wiki.example/saml".into()),
        acs_urls: vec!["https://wiki.example/saml/acs".into()],
        ..Default::default()
    };
    let sp = portcullis::admin::apps::add_saml(&srv.state, &admin, saml).await.unwrap();
    srv.add_user("walt").await;
    let walt_http = reqwest::Client::builder().cookie_store(true).build().unwrap();
    api_login(&srv, &walt_http, "walt").await;
    let shots = std::env::var("PORTCULLIS_SCREENSHOTS").unwrap_or_else(|_| {
        let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
        format!("{target}/screenshots")
    });
    let mut args = vec![srv.issuer().to_owned(), "root".into(), PASSWORD.into(), "walt".into(), PASSWORD.into(), shots];
    for p in [
        "/admin".to_owned(),
        "/admin/users".into(),
        format!("/admin/users/{}", vera.id),
        "/admin/apps".into(),
        "/admin/apps/new".into(),
        format!("/admin/apps/{}", app.app_id),
        format!("/admin/apps/{}", sp.app_id),
        "/admin/stats".into(),
        "/admin/audit".into(),
        "/admin/settings".into(),
        "/admin/plugins".into(),
        "/admin/webhooks".into(),
    ] {
        args.push(p);
    }
    let seen = run_script("console.mjs", args).await;
    assert_eq!(
        seen["checked"],
        (12 * 2 + 2) * 4,
        "12 console pages in English and German, 2 account pages, 4 looks: {seen}"
    );
    srv.stop().await;
}

/// Where the browser tooling is, or why it is missing.
fn tooling() -> Result<(), String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Err(format!("{chromium} is missing (apt-get install chromium)"));
    }
    let module = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/node_modules/playwright-core");
    if !module.exists() {
        return Err("tests/browser/node_modules is missing (npm ci --prefix tests/browser)".into());
    }
    Ok(())
}

/// Whether the browser test can run here (under `CI=true` it must).
fn can_run() -> bool {
    match tooling() {
        Ok(()) => true,
        Err(why) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but the browser test cannot run: {why}")
        }
        Err(why) => {
            skip(&format!("the browser tests: {why}"));
            false
        }
    }
}

/// Runs `tests/browser/<script>` with `args` under node; returns the JSON line it printed last.
async fn run_script(script: &str, args: Vec<String>) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser").join(script);
    let out = tokio::task::spawn_blocking(move || std::process::Command::new("node").arg(&script).args(&args).output())
        .await
        .unwrap()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "browser run failed\nstdout: {stdout}\nstderr: {stderr}");
    serde_json::from_str(stdout.trim().lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("browser output is not JSON ({e}): {stdout}"))
}

async fn passkey_in_a_real_browser(b: Backend) {
    if !can_run() {
        return;
    }
    let opts = Options { localhost_issuer: true, demo: true, ..Default::default() };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    let password = srv.demo_password.clone().unwrap();
    let seen = run_script("passkey.mjs", vec![srv.issuer().to_owned(), "demo".into(), password]).await;
    assert_eq!(seen["rpId"], "localhost", "{seen}");
    assert_eq!(seen["amr"], "[pwd, hwk, user, mfa]", "{seen}");
    assert_eq!(seen["acr"], "urn:portcullis:acr:phr", "{seen}");
    assert_eq!(seen["username"], true);
    assert!(seen["signCount"].as_u64().unwrap() >= 2, "registration and one assertion: {seen}");

    // What the server recorded: one passkey, used once, and the audit trail.
    let user = portcullis::store::users::find_by_username(&srv.state.db, "demo").await.unwrap().unwrap();
    let passkeys = portcullis::store::passkeys::list(&srv.state.db, &user.id).await.unwrap();
    assert_eq!(passkeys.len(), 1);
    assert_eq!(passkeys[0].name, "Virtual authenticator");
    assert!(passkeys[0].last_used_at.is_some());
    let passed = srv.audit(Some(&user.id), "mfa.passed", 10).await;
    assert_eq!(passed.len(), 1);
    srv.stop().await;
}

async fn saml_handover_in_a_real_browser(b: Backend) {
    use std::sync::{Arc, Mutex};
    if !can_run() {
        return;
    }
    let Some(srv) = TestServer::start(b).await else { return };
    let alice = srv.add_user("alice").await;
    // The SP's ACS: records what the browser posts.
    /// What the ACS got: SAMLResponse and RelayState.
    type Posted = Option<(String, Option<String>)>;
    let received: Arc<Mutex<Posted>> = Arc::default();
    let seen = received.clone();
    let acs_app = axum::Router::new().route(
        "/acs",
        axum::routing::post(move |axum::Form(f): axum::Form<std::collections::HashMap<String, String>>| {
            let seen = seen.clone();
            async move {
                *seen.lock().unwrap() = Some((f["SAMLResponse"].clone(), f.get("RelayState").cloned()));
                "response received"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let acs = format!("http://127.0.0.1:{}/acs", listener.local_addr().unwrap().port());
    let server = tokio::spawn(async move { axum::serve(listener, acs_app).await.unwrap() });
    let spec = serde_json::json!({"name": "Browser SP", "entity_id": "https://browser-sp.example", "acs_urls": [acs]});
    portcullis::admin::apps::add_saml(
        &srv.state,
        &portcullis::admin::Admin::operator(),
        serde_json::from_value(spec).unwrap(),
    )
    .await
    .unwrap();
    let metadata = reqwest::get(srv.url("/saml/metadata")).await.unwrap().text().await.unwrap();
    let sp = samael::service_provider::ServiceProviderBuilder::default()
        .entity_id("https://browser-sp.example".to_string())
        .acs_url(acs.clone())
        .idp_metadata(<samael::metadata::EntityDescriptor as std::str::FromStr>::from_str(&metadata).unwrap())
        .build()
        .unwrap();
    let req = sp.make_authentication_request(&srv.url("/saml/sso")).unwrap();
    let start = req.redirect("from-browser").unwrap().unwrap().to_string();
    let seen = run_script("saml.mjs", vec![start, acs.clone(), "alice".into(), PASSWORD.into()]).await;
    assert!(seen["text"].as_str().unwrap().contains("response received"), "{seen}");
    let (response, relay) = received.lock().unwrap().clone().expect("the ACS got a POST");
    assert_eq!(relay.as_deref(), Some("from-browser"));
    let assertion = sp.parse_base64_response(&response, Some(&[req.id.as_str()])).unwrap();
    assert_eq!(assertion.subject.unwrap().name_id.unwrap().value, alice.id);
    server.abort();
    srv.stop().await;
}

async fn sms_codes_in_a_real_browser(b: Backend) {
    if !can_run() {
        return;
    }
    let hook_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let opts = Options {
        localhost_issuer: true,
        demo: true,
        tweak: Box::new(move |c| {
            c.sms.transport = portcullis::config::SmsTransportKind::Webhook;
            c.sms.allowed_country_codes = vec![1];
            c.sms.webhook.url = format!("http://127.0.0.1:{hook_port}/sms");
            c.sms.webhook.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into();
        }),
        ..Default::default()
    };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    srv.set_settings(serde_json::json!({"mfa_allowed_factors": ["totp", "passkey", "sms"]})).await;
    let password = srv.demo_password.clone().unwrap();
    let args = vec![srv.issuer().to_owned(), "demo".into(), password, hook_port.to_string()];
    let seen = run_script("sms.mjs", args).await;
    assert_eq!(seen["amr"], "[pwd, sms, mfa]", "{seen}");
    assert_eq!(seen["acr"], "urn:portcullis:acr:mfa", "{seen}");
    let user = portcullis::store::users::find_by_username(&srv.state.db, "demo").await.unwrap().unwrap();
    let passed = srv.audit(Some(&user.id), "mfa.passed", 10).await;
    assert_eq!(passed.len(), 1);
    assert_eq!(passed[0].detail.as_deref(), Some("sms"));
    srv.stop().await;
}

/// "Lost access?" → the mail → a new authenticator app → signed in at the demo app. The test
/// is the mailbox: it takes the link from the SMTP server and hands it to the script.
async fn recovery_in_a_real_browser(b: Backend) {
    use std::io::Write;
    if !can_run() {
        return;
    }
    let Some(mut smtp) = crate::delivery::Receiver::start("smtp", &[]) else { return };
    let smtp_port = smtp.port;
    let opts = Options {
        localhost_issuer: true,
        demo: true,
        tweak: Box::new(move |c| {
            c.email.transport = portcullis::config::EmailTransportKind::Smtp;
            c.email.smtp.host = "127.0.0.1".into();
            c.email.smtp.port = smtp_port;
            c.email.smtp.security = portcullis::config::SmtpSecurity::None;
        }),
        ..Default::default()
    };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    let demo = portcullis::store::users::find_by_username(&srv.state.db, "demo").await.unwrap().unwrap();
    let old_secret = srv.enrol_totp_now(&demo).await;
    let password = srv.demo_password.clone().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/recovery.mjs");
    let mut child = std::process::Command::new("node")
        .arg(&script)
        .args([srv.issuer(), "demo", password.as_str()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("node runs");
    let mut stdin = child.stdin.take().unwrap();
    let run = tokio::task::spawn_blocking(move || child.wait_with_output());
    let mail = smtp.next(60).await.expect("the recovery link was mailed");
    let text = mail["text"].as_str().unwrap().to_owned();
    let link = text.split_whitespace().find(|w| w.contains("/recover?token=")).expect("a link in the mail").to_owned();
    tokio::task::spawn_blocking(move || writeln!(stdin, "{link}")).await.unwrap().unwrap();
    let out = run.await.unwrap().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "browser run failed\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: serde_json::Value = serde_json::from_str(stdout.trim().lines().last().unwrap_or_default()).unwrap();
    assert_eq!(seen["codes"], 10, "{seen}");
    assert_eq!(seen["amr"], "[pwd, otp, mfa]", "{seen}");

    // The lost app is gone; the new one is the account's only method.
    let totp = portcullis::store::factors::find_totp(&srv.state.db, &demo.id).await.unwrap().unwrap();
    let old = portcullis::mfa::totp::verify(&srv.state, &demo, &totp_code(&old_secret, srv.now() + 30), false).await;
    assert!(!old.unwrap(), "the old authenticator app no longer works");
    assert!(totp.replacement.is_none());
    assert_eq!(srv.audit(Some(&demo.id), "mfa.recovery_used", 5).await.len(), 1);
    srv.stop().await;
}
