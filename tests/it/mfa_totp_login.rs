//! Full OIDC logins through the browser pages with TOTP: enrolment when the policy requires
//! a factor, the challenge on later logins, "trust this device", and what the tokens say.

use crate::both_databases;
use crate::common::*;

both_databases!(enrol_then_challenge_then_trusted_device);

#[test]
fn independent_totp_matches_rfc_6238_vectors() {
    // RFC 6238 Appendix B, SHA-1 secret "12345678901234567890": 8-digit codes, last 6 digits.
    let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    assert_eq!(totp_code(secret, 59), "287082");
    assert_eq!(totp_code(secret, 1111111109), "081804");
    assert_eq!(totp_code(secret, 2000000000), "279037");
}

/// Extracts the manual-entry key from the enrolment page.
fn secret_on_page(html: &str) -> String {
    totp_key_on_page(html)
}

async fn enrol_then_challenge_then_trusted_device(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    srv.add_user("alice").await;
    let app = srv.add_client(false).await;
    srv.set_settings(serde_json::json!({"mfa_policy": "any"})).await;

    // 1. No factor yet: the password leads to enrolment, not to a code.
    let browser = browser();
    let (verifier, challenge) = pkce();
    let url = authorize_url(&srv, &app.client_id, &[("code_challenge", &challenge), ("code_challenge_method", "S256")]);
    let after_password = sign_in(&srv, &browser, &url, "alice", PASSWORD).await;
    assert_eq!(after_password, "/login/mfa");
    let page = browser.get(srv.url("/login/mfa")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Set up two-step verification"), "{html}");
    assert!(html.contains("data:image/svg+xml;base64,"), "QR code on the page");
    assert!(!html.contains("Set up later"), "no grace period configured");
    let secret = secret_on_page(&html);
    // Reloading shows the same secret (what the user scanned stays valid).
    let again = browser.get(srv.url("/login/mfa")).send().await.unwrap().text().await.unwrap();
    assert_eq!(secret_on_page(&again), secret);
    // A wrong code keeps the user on the page.
    let wrong = post_mfa_form(&srv, &browser, "/login/mfa/enroll/totp", &[("code", "000000")]).await;
    let wrong = if wrong.status() == 401 {
        wrong
    } else {
        // 000000 could be the real code once in a million: use another wrong one.
        post_mfa_form(&srv, &browser, "/login/mfa/enroll/totp", &[("code", "111111")]).await
    };
    assert_eq!(wrong.status(), 401);
    let code = srv.code(&secret);
    let resp = post_mfa_form(&srv, &browser, "/login/mfa/enroll/totp", &[("code", &code)]).await;
    assert_eq!(resp.status(), 200, "trust-device prompt");
    let html = resp.text().await.unwrap();
    assert!(html.contains("Trust this device?"));
    let trust_token = hidden_input(&html, "trust_token").unwrap();
    let request = hidden_input(&html, "request").unwrap();
    let csrf = hidden_input(&html, "csrf").unwrap();
    let resp = browser
        .post(srv.url("/login/trust"))
        .form(&[("csrf", csrf.as_str()), ("trust_token", &trust_token), ("request", &request), ("trust", "no")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let redirect = location(&resp);
    let code = query_param(&redirect, "code").expect("a code after MFA");
    let tokens = json(exchange_code(&srv, &app, &code, &verifier).await).await;
    let id = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
    assert_eq!(id["acr"], "urn:portcullis:acr:mfa");

    // 2. A new browser: password, then the TOTP challenge; this time trust the device.
    srv.advance(30);
    let browser = crate::common::browser();
    let (verifier, challenge) = pkce();
    let url = authorize_url(&srv, &app.client_id, &[("code_challenge", &challenge), ("code_challenge_method", "S256")]);
    assert_eq!(sign_in(&srv, &browser, &url, "alice", PASSWORD).await, "/login/mfa");
    let html = browser.get(srv.url("/login/mfa")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Two-step verification") && html.contains("authenticator app"), "{html}");
    let resp = post_mfa_form(&srv, &browser, "/login/mfa/totp", &[("code", &srv.code(&secret))]).await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    let form = [
        ("csrf", hidden_input(&html, "csrf").unwrap()),
        ("trust_token", hidden_input(&html, "trust_token").unwrap()),
        ("request", hidden_input(&html, "request").unwrap()),
        ("name", "Alice's laptop".to_owned()),
        ("trust", "yes".to_owned()),
    ];
    let resp = browser.post(srv.url("/login/trust")).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("idp_device="))
        .expect("idp_device cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let code = query_param(&location(&resp), "code").unwrap();
    assert_eq!(exchange_code(&srv, &app, &code, &verifier).await.status(), 200);

    // 3. Signed out, same browser: the trusted device skips the challenge (the password stays).
    let resp = browser.get(srv.url("/profile")).send().await.unwrap();
    let csrf = hidden_input(&resp.text().await.unwrap(), "csrf").unwrap();
    browser.post(srv.url("/logout")).form(&[("csrf", csrf)]).send().await.unwrap();
    let (verifier, challenge) = pkce();
    let url = authorize_url(&srv, &app.client_id, &[("code_challenge", &challenge), ("code_challenge_method", "S256")]);
    let redirect = sign_in(&srv, &browser, &url, "alice", PASSWORD).await;
    let code = query_param(&redirect, "code").expect("trusted device: no challenge");
    let tokens = json(exchange_code(&srv, &app, &code, &verifier).await).await;
    let id = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["amr"], serde_json::json!(["pwd"]), "tokens tell the truth: no second factor in this login");
    assert_eq!(id["acr"], "urn:portcullis:acr:pwd");

    // 4. A step-up request is never satisfied by device trust alone.
    let (_, challenge) = pkce();
    let url = authorize_url(
        &srv,
        &app.client_id,
        &[("code_challenge", &challenge), ("code_challenge_method", "S256"), ("acr_values", "urn:portcullis:acr:mfa")],
    );
    let resp = browser.get(&url).send().await.unwrap();
    assert_eq!(location(&resp), "/login/mfa");
    srv.stop().await;
}
