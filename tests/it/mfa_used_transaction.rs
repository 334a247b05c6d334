//! A finished MFA step shows no challenge form: a browser that still carries the step's cookie
//! (back button, a copied cookie) gets "expired or already completed", never a code field for a
//! transaction that already passed.

use std::sync::Arc;

use crate::both_databases;
use crate::common::*;

both_databases!(finished_step_has_no_form);

async fn finished_step_has_no_form(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    let alice = srv.add_user("alice").await;
    let secret = srv.enrol_totp(&alice).await;
    let app = srv.add_client(false).await;
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let browser = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let (_, challenge) = pkce();
    let url = authorize_url(&srv, &app.client_id, &[("code_challenge", &challenge), ("code_challenge_method", "S256")]);
    assert_eq!(sign_in(&srv, &browser, &url, "alice", PASSWORD).await, "/login/mfa");
    let base = url::Url::parse(&srv.url("/")).unwrap();
    let cookies = {
        use reqwest::cookie::CookieStore;
        jar.cookies(&base).unwrap().to_str().unwrap().to_owned()
    };
    let page = browser.get(srv.url("/login/mfa")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("name=\"code\""), "the challenge form while the step is open");

    let resp = post_mfa_form(&srv, &browser, "/login/mfa/totp", &[("code", &srv.code(&secret))]).await;
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("Trust this device?"), "the step passed");

    // The old cookie, in another browser: the finished step offers nothing to answer.
    let stale = Arc::new(reqwest::cookie::Jar::default());
    for c in cookies.split("; ") {
        stale.add_cookie_str(c, &base);
    }
    let other = reqwest::Client::builder().cookie_provider(stale).build().unwrap();
    let resp = other.get(srv.url("/login/mfa")).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    let html = resp.text().await.unwrap();
    assert!(html.contains("expired or was already completed"), "{html}");
    assert!(!html.contains("name=\"code\""), "no code field: {html}");
    srv.stop().await;
}
