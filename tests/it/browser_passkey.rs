//! A real browser: headless Chromium (Debian's package, driven by playwright-core from
//! `tests/browser/`) with a DevTools virtual authenticator signs in with a password, adds a
//! passkey on the profile page, signs out, and signs in to the built-in demo relying party
//! (an OIDC code flow with PKCE) with the passkey as second factor. `scripts/test` installs
//! Chromium and the npm package; under `CI=true` their absence fails the test.

use crate::both_databases;
use crate::common::*;
use std::path::Path;

both_databases!(passkey_in_a_real_browser);

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

async fn passkey_in_a_real_browser(b: Backend) {
    if let Err(why) = tooling() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI=true but the browser test cannot run: {why}");
        }
        eprintln!("skipping the browser test: {why}");
        return;
    }
    let opts = Options { localhost_issuer: true, demo: true, ..Default::default() };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    let password = srv.demo_password.clone().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/passkey.mjs");
    let issuer = srv.issuer().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node").arg(&script).arg(&issuer).arg("demo").arg(&password).output()
    })
    .await
    .unwrap()
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "browser run failed\nstdout: {stdout}\nstderr: {stderr}");
    let seen: serde_json::Value = serde_json::from_str(stdout.trim().lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("browser output is not JSON ({e}): {stdout}"));
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
    let passed =
        portcullis::store::audit::list(&srv.state.db, Some(&user.id), Some("mfa.passed"), None, 10).await.unwrap();
    assert_eq!(passed.len(), 1);
    srv.stop().await;
}
