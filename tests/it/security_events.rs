//! Security events revoke what they must, in one place (DESIGN §5): after an admin resets a
//! user's MFA, changes their password or disables them, no session that carried a fresh
//! second factor still passes, no refresh token still works, no trusted device still skips the
//! step and no MFA step in progress can finish. Removing one's last factor ends the other
//! sessions and device trust but keeps the session it was done from. Each event is audited
//! with what it ended.

use serde_json::json;

use crate::both_databases;
use crate::common::*;

both_databases!(admin_events_end_everything, last_factor_removed_by_the_user);

/// Alice signed in with password and TOTP, device trusted, with tokens for `app`; plus an MFA
/// step left half-way in another client.
struct Alice {
    http: reqwest::Client,
    refresh: String,
    pending_mfa: String,
}

async fn sign_in_fully(srv: &TestServer, secret: &str, app: &portcullis::admin::apps::CreatedOidcApp) -> Alice {
    let http =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let (_, body) = api_login(srv, &http, "alice").await;
    let token = body["mfa_token"].as_str().expect("MFA is asked").to_owned();
    srv.advance(30);
    let (status, done) =
        api_post(&http, &srv.url("/api/v1/auth/mfa/totp"), json!({"mfa_token": token, "code": srv.code(secret)})).await;
    assert_eq!(status, 200, "{done}");
    let trust = done["trust_device_token"].as_str().expect("trust offered").to_owned();
    let (status, _) =
        api_post(&http, &srv.url("/api/v1/me/devices"), json!({"trust_device_token": trust, "name": "laptop"})).await;
    assert_eq!(status, 201);
    let (verifier, challenge) = pkce();
    let url = authorize_url(
        srv,
        &app.client_id,
        &[("code_challenge", &challenge), ("code_challenge_method", "S256"), ("prompt", "none")],
    );
    let resp = http.get(url).send().await.unwrap();
    let code = query_param(&location(&resp), "code").expect("the session passes");
    let tokens = json(exchange_code(srv, app, &code, &verifier).await).await;
    let refresh = tokens["refresh_token"].as_str().expect("a refresh token").to_owned();
    let (_, body) = api_login(srv, &reqwest::Client::new(), "alice").await;
    let pending_mfa = body["mfa_token"].as_str().unwrap().to_owned();
    Alice { http, refresh, pending_mfa }
}

/// Nothing of what alice had still works.
async fn assert_all_ended(srv: &TestServer, a: &Alice, app: &portcullis::admin::apps::CreatedOidcApp, what: &str) {
    let resp = a.http.get(srv.url("/api/v1/me/devices")).send().await.unwrap();
    assert_eq!(resp.status(), 401, "{what}: the session is gone");
    let (_, challenge) = pkce();
    let url = authorize_url(
        srv,
        &app.client_id,
        &[("code_challenge", &challenge), ("code_challenge_method", "S256"), ("prompt", "none")],
    );
    let resp = a.http.get(url).send().await.unwrap();
    assert_eq!(query_param(&location(&resp), "error").as_deref(), Some("login_required"), "{what}");
    let resp = token_request(srv, app, &[("grant_type", "refresh_token"), ("refresh_token", &a.refresh)]).await;
    assert_eq!(resp.status(), 400, "{what}: refresh tokens stop working");
    assert_eq!(json(resp).await["error"], "invalid_grant");
    let (status, _) = api_post(
        &reqwest::Client::new(),
        &srv.url("/api/v1/auth/mfa/totp"),
        json!({"mfa_token": a.pending_mfa, "code": "123456"}),
    )
    .await;
    assert_eq!(status, 400, "{what}: an MFA step in progress cannot finish");
    let alice = portcullis::store::users::find_by_username(&srv.state.db, "alice").await.unwrap().unwrap();
    assert!(
        portcullis::store::devices::list(&srv.state.db, &alice.id, srv.now()).await.unwrap().is_empty(),
        "{what}: device trust is revoked"
    );
    let events = srv.audit(Some(&alice.id), "security.event", 1).await;
    let detail: serde_json::Value = serde_json::from_str(events[0].detail.as_deref().unwrap()).unwrap();
    assert_eq!(detail["event"], what, "{detail}");
    assert_eq!(detail["devices_revoked"], 1, "{detail}");
    assert!(detail["sessions_ended"].as_u64().unwrap() >= 1, "{detail}");
}

async fn admin_events_end_everything(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    let alice = srv.add_user("alice").await;
    let app = srv.add_client(false).await;
    srv.add_admin("root").await;
    let admin = reqwest::Client::builder().cookie_store(true).build().unwrap();
    assert_eq!(api_login(&srv, &admin, "root").await.0, 200);

    // An admin resets alice's MFA through the JSON API.
    let secret = srv.enrol_totp(&alice).await;
    let a = sign_in_fully(&srv, &secret, &app).await;
    let resp = admin.post(srv.url("/api/v1/admin/users/alice/reset-mfa")).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    assert_all_ended(&srv, &a, &app, "mfa_reset_by_admin").await;

    // The same from the CLI (which calls this very function).
    let secret = srv.enrol_totp(&alice).await;
    let a = sign_in_fully(&srv, &secret, &app).await;
    portcullis::admin::users::reset_mfa(&srv.state, &portcullis::admin::Admin::operator(), "alice").await.unwrap();
    assert_all_ended(&srv, &a, &app, "mfa_reset_by_admin").await;

    // A new password.
    let secret = srv.enrol_totp(&alice).await;
    let a = sign_in_fully(&srv, &secret, &app).await;
    portcullis::admin::users::set_password(&srv.state, &portcullis::admin::Admin::operator(), "alice", PASSWORD)
        .await
        .unwrap();
    assert_all_ended(&srv, &a, &app, "password_changed").await;

    // Disabled.
    let a = sign_in_fully(&srv, &secret, &app).await;
    portcullis::admin::users::set_disabled(&srv.state, &portcullis::admin::Admin::operator(), "alice", true)
        .await
        .unwrap();
    assert_all_ended(&srv, &a, &app, "user_disabled").await;
    srv.stop().await;
}

async fn last_factor_removed_by_the_user(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    let alice = srv.add_user("alice").await;
    let app = srv.add_client(false).await;
    let secret = srv.enrol_totp(&alice).await;
    let other = sign_in_fully(&srv, &secret, &app).await;
    let me = sign_in_fully(&srv, &secret, &app).await;
    // From `me`, freshly verified: remove the only factor.
    let resp = me.http.delete(srv.url("/api/v1/mfa/totp")).send().await.unwrap();
    assert_eq!(resp.status(), 204, "{}", resp.text().await.unwrap());
    assert_eq!(
        me.http.get(srv.url("/api/v1/me/devices")).send().await.unwrap().status(),
        200,
        "the acting session stays"
    );
    assert_eq!(other.http.get(srv.url("/api/v1/me/devices")).send().await.unwrap().status(), 401, "the others end");
    assert!(portcullis::store::devices::list(&srv.state.db, &alice.id, srv.now()).await.unwrap().is_empty());
    let events = srv.audit(Some(&alice.id), "security.event", 1).await;
    assert!(events[0].detail.as_deref().unwrap().contains("last_factor_removed"));
    srv.stop().await;
}
