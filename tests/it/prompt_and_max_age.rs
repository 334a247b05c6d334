//! `prompt=none` without a session → login_required; `prompt=login` and `max_age` force a
//! fresh first factor; an existing fresh session signs in without the form (SSO).

use crate::both_databases;
use crate::common::*;

both_databases!(prompt_none_without_session, sso_and_forced_reauthentication, login_hint_fills_the_form);

async fn prompt_none_without_session(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let app = srv.add_client(false).await;
    let resp = browser().get(authorize_url(&srv, &app.client_id, &[("prompt", "none")])).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    let loc = location(&resp);
    assert!(loc.starts_with(REDIRECT));
    assert_eq!(query_param(&loc, "error").as_deref(), Some("login_required"));
    assert_eq!(query_param(&loc, "state").as_deref(), Some("st-123"));
    assert_eq!(query_param(&loc, "iss").as_deref(), Some(srv.issuer()));
    // prompt=none mixed with another value is invalid.
    let resp = browser().get(authorize_url(&srv, &app.client_id, &[("prompt", "none login")])).send().await.unwrap();
    assert_eq!(query_param(&location(&resp), "error").as_deref(), Some("invalid_request"));
}

async fn auth_time_of(srv: &TestServer, app: &portcullis::admin::apps::CreatedOidcApp, redirect: &str) -> i64 {
    let code = query_param(redirect, "code").unwrap();
    let body = json(
        token_request(srv, app, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT)])
            .await,
    )
    .await;
    let id = body["id_token"].as_str().unwrap();
    let claims: serde_json::Value =
        serde_json::from_slice(&portcullis::crypto::b64url_decode(id.split('.').nth(1).unwrap()).unwrap()).unwrap();
    claims["auth_time"].as_i64().unwrap()
}

async fn sso_and_forced_reauthentication(b: Backend) {
    let Some(srv) = TestServer::start_with(b, Options { manual_clock: true, ..Options::default() }).await else {
        return;
    };
    srv.add_user("alice").await;
    let app = srv.add_client(false).await;
    let browser = browser();
    let first = sign_in(&srv, &browser, &authorize_url(&srv, &app.client_id, &[]), "alice", PASSWORD).await;
    let t0 = auth_time_of(&srv, &app, &first).await;

    // SSO: a second authorization completes without the form, same auth_time.
    srv.advance(120);
    let resp = browser.get(authorize_url(&srv, &app.client_id, &[])).send().await.unwrap();
    let loc = location(&resp);
    assert!(loc.starts_with(REDIRECT), "existing session signs in directly");
    assert_eq!(auth_time_of(&srv, &app, &loc).await, t0);
    // prompt=none works with the session.
    let resp = browser.get(authorize_url(&srv, &app.client_id, &[("prompt", "none")])).send().await.unwrap();
    assert!(query_param(&location(&resp), "code").is_some());

    // max_age=60 with a 120-second-old sign-in: back to the login form, then a new auth_time.
    let resp = browser.get(authorize_url(&srv, &app.client_id, &[("max_age", "60")])).send().await.unwrap();
    let loc = shown_login_form(resp).await; // max_age exceeded forces a login
    let redirect = submit_login(&srv, &browser, &loc, "alice", PASSWORD).await;
    let t1 = auth_time_of(&srv, &app, &redirect).await;
    assert!(t1 >= t0 + 120);
    // max_age that is still satisfied passes.
    let resp = browser.get(authorize_url(&srv, &app.client_id, &[("max_age", "600")])).send().await.unwrap();
    assert!(location(&resp).starts_with(REDIRECT));
    // prompt=none with max_age exceeded → login_required.
    srv.advance(100);
    let resp = browser
        .get(authorize_url(&srv, &app.client_id, &[("prompt", "none"), ("max_age", "10")]))
        .send()
        .await
        .unwrap();
    assert_eq!(query_param(&location(&resp), "error").as_deref(), Some("login_required"));

    // prompt=login always asks again, even with a session that is seconds old.
    let resp = browser.get(authorize_url(&srv, &app.client_id, &[("prompt", "login")])).send().await.unwrap();
    let loc = shown_login_form(resp).await;
    let redirect = submit_login(&srv, &browser, &loc, "alice", PASSWORD).await;
    assert!(query_param(&redirect, "code").is_some());

    // Idle timeout ends the session.
    srv.advance(61 * 60);
    let resp = browser.get(authorize_url(&srv, &app.client_id, &[("prompt", "none")])).send().await.unwrap();
    assert_eq!(query_param(&location(&resp), "error").as_deref(), Some("login_required"));
}

/// The form the authorization endpoint shows names the app that asked and is filled with the
/// `login_hint`; the same waiting request at `/login?request=` shows the same. The hint is
/// escaped like any other value on the page.
async fn login_hint_fills_the_form(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let app = srv.add_client(false).await;
    let browser = browser();
    for (hint, shown) in [("alice", "alice"), ("\"><b>x</b>", "&#34;&#62;&#60;b&#62;x&#60;/b&#62;")] {
        let resp = browser.get(authorize_url(&srv, &app.client_id, &[("login_hint", hint)])).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let html = resp.text().await.unwrap();
        let request = hidden_input(&html, "request").expect("the waiting request");
        let again = get_page(&browser, &srv, &format!("/login?request={request}")).await;
        for page in [&html, &again] {
            assert!(page.contains("<strong>Test RP</strong>"), "the app's name: {page}");
            assert!(page.contains(&format!("value=\"{shown}\"")), "the hint {hint:?} in the username field: {page}");
            assert!(!page.contains("<b>x</b>"), "the hint is escaped");
        }
    }
}
