//! Step-up through `acr_values`, the re-authentication interval with an injected clock, and
//! `acr` that does not outlive the interval.

use crate::both_databases;
use crate::common::*;
use serde_json::json;

both_databases!(step_up_and_reauth_interval);

async fn code_for(
    srv: &TestServer,
    browser: &reqwest::Client,
    client_id: &str,
    extra: &[(&str, &str)],
) -> (String, String) {
    let (verifier, challenge) = pkce();
    let mut params = vec![("code_challenge", challenge.as_str()), ("code_challenge_method", "S256")];
    params.extend_from_slice(extra);
    let resp = browser.get(authorize_url(srv, client_id, &params)).send().await.unwrap();
    (location(&resp), verifier)
}

async fn step_up_and_reauth_interval(b: Backend) {
    let Some(srv) = TestServer::start_with(b, Options { localhost_issuer: true, ..manual_clock() }).await else {
        return;
    };
    let alice = srv.add_user("alice").await;
    let secret = srv.enrol_totp(&alice).await;
    let app = srv.add_client(false).await;
    // Global `disabled`: the password alone signs alice in.
    srv.set_settings(json!({"mfa_policy": "disabled", "mfa_reauth_interval_minutes": 30})).await;
    let browser = browser();
    let (verifier, challenge) = pkce();
    let url = authorize_url(&srv, &app.client_id, &[("code_challenge", &challenge), ("code_challenge_method", "S256")]);
    let redirect = sign_in(&srv, &browser, &url, "alice", PASSWORD).await;
    let code = query_param(&redirect, "code").expect("no MFA under `disabled`");
    let id = jwt_claims(json(exchange_code(&srv, &app, &code, &verifier).await).await["id_token"].as_str().unwrap());
    assert_eq!(id["acr"], "urn:portcullis:acr:pwd");

    // The app asks for MFA: the SSO session must step up.
    let (loc, verifier) =
        code_for(&srv, &browser, &app.client_id, &[("acr_values", "https://refeds.org/profile/mfa")]).await;
    assert_eq!(loc, "/login/mfa");
    let resp = post_mfa_form(&srv, &browser, "/login/mfa/totp", &[("code", &srv.code(&secret))]).await;
    let html = resp.text().await.unwrap();
    let form = [
        ("csrf", hidden_input(&html, "csrf").unwrap()),
        ("trust_token", hidden_input(&html, "trust_token").unwrap()),
        ("request", hidden_input(&html, "request").unwrap()),
        ("trust", "no".to_owned()),
    ];
    let resp = browser.post(srv.url("/login/trust")).form(&form).send().await.unwrap();
    let code = query_param(&location(&resp), "code").unwrap();
    let id = jwt_claims(json(exchange_code(&srv, &app, &code, &verifier).await).await["id_token"].as_str().unwrap());
    // The value the app asked for comes back (OIDC Core §5.5.1.1); `amr` tells the method.
    assert_eq!(id["acr"], "https://refeds.org/profile/mfa");
    assert_eq!(id["amr"], json!(["pwd", "otp", "mfa"]));

    // Within the interval the step-up is remembered...
    srv.advance(29 * 60);
    let (loc, _) = code_for(&srv, &browser, &app.client_id, &[("acr_values", "urn:portcullis:acr:mfa")]).await;
    assert!(loc.starts_with(REDIRECT), "fresh MFA satisfies the step-up: {loc}");
    // ...after it, the app's request for MFA challenges again, and a plain login carries
    // no elevated acr any more.
    srv.advance(2 * 60);
    let (loc, verifier) = code_for(&srv, &browser, &app.client_id, &[]).await;
    let code = query_param(&loc, "code").unwrap();
    let id = jwt_claims(json(exchange_code(&srv, &app, &code, &verifier).await).await["id_token"].as_str().unwrap());
    assert_eq!(id["acr"], "urn:portcullis:acr:pwd", "an elevated acr does not outlive the interval");
    let (loc, _) = code_for(&srv, &browser, &app.client_id, &[("acr_values", "urn:portcullis:acr:mfa")]).await;
    assert_eq!(loc, "/login/mfa");
    // Asking for phishing-resistant authentication with TOTP only leads to passkey enrolment
    // after proving the TOTP; prompt=none gets interaction_required instead.
    let (loc, _) =
        code_for(&srv, &browser, &app.client_id, &[("acr_values", "urn:portcullis:acr:phr"), ("prompt", "none")]).await;
    assert_eq!(query_param(&loc, "error").as_deref(), Some("interaction_required"), "{loc}");
    srv.stop().await;
}
