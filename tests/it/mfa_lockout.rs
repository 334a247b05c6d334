//! Guessing is limited per account across all sessions: failures in parallel logins share
//! one budget, the lockout holds even for the right code, and it ends on its own. Wrong
//! passwords lock the account name temporarily too. Lockouts are audited.

use crate::both_databases;
use crate::common::*;
use serde_json::json;

both_databases!(totp_guessing_across_sessions_is_locked_out, password_lockout, the_page_counts_down_then_pauses);

async fn totp_guessing_across_sessions_is_locked_out(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    let alice = srv.add_user("alice").await;
    let secret = srv.enrol_totp(&alice).await;
    let http = reqwest::Client::new();
    let url = srv.url("/api/v1/auth/mfa/totp");
    let right = srv.code(&secret);
    let wrong = if right == "000000" { "111111" } else { "000000" };
    // Five sessions guess in parallel.
    let mut tokens = Vec::new();
    for _ in 0..5 {
        tokens.push(api_login(&srv, &http, "alice").await.1["mfa_token"].as_str().unwrap().to_owned());
    }
    let guesses = tokens.iter().map(|t| api_post(&http, &url, json!({"mfa_token": t, "code": wrong})));
    let results = futures_join_all(guesses).await;
    assert!(results.iter().all(|(s, _)| *s == 401 || *s == 429), "{results:?}");
    // The budget (5) is spent: even the right code is refused now, in a fresh session.
    let fresh = api_login(&srv, &http, "alice").await.1["mfa_token"].as_str().unwrap().to_owned();
    let (status, body) = api_post(&http, &url, json!({"mfa_token": fresh, "code": right})).await;
    assert_eq!((status, body["error"].as_str()), (429, Some("too_many_attempts")), "{body}");
    let audit = srv.audit(Some(&alice.id), "login.lockout", 10).await;
    assert_eq!(audit.len(), 1, "one lockout, audited");
    // Temporary: after the lockout the right code works.
    srv.advance(srv.state.config.limits.lockout_seconds + 1);
    let (status, _) = api_post(&http, &url, json!({"mfa_token": fresh, "code": srv.code(&secret)})).await;
    assert_eq!(status, 400, "the transaction itself expired meanwhile");
    let fresh = api_login(&srv, &http, "alice").await.1["mfa_token"].as_str().unwrap().to_owned();
    let (status, _) = api_post(&http, &url, json!({"mfa_token": fresh, "code": srv.code(&secret)})).await;
    assert_eq!(status, 200);
    srv.stop().await;
}

async fn futures_join_all<F: std::future::Future>(fs: impl Iterator<Item = F>) -> Vec<F::Output> {
    futures_util::future::join_all(fs).await
}

async fn password_lockout(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    srv.add_user("bob").await;
    let http = reqwest::Client::new();
    let url = srv.url("/api/v1/auth/login");
    let max = srv.state.config.limits.password_failures_per_account;
    for _ in 0..max {
        let (status, _) = api_post(&http, &url, json!({"username": "bob", "password": "wrong password"})).await;
        assert_eq!(status, 401);
    }
    let (status, body) = api_post(&http, &url, json!({"username": "bob", "password": PASSWORD})).await;
    assert_eq!((status, body["error"].as_str()), (429, Some("too_many_attempts")));
    // Unknown names lock the same way, so a lockout tells nothing about who exists.
    for _ in 0..max {
        api_post(&http, &url, json!({"username": "nobody", "password": "wrong password"})).await;
    }
    let (status, _) = api_post(&http, &url, json!({"username": "nobody", "password": "x"})).await;
    assert_eq!(status, 429);
    srv.advance(srv.state.config.limits.lockout_seconds + 1);
    let (status, _) = api_post(&http, &url, json!({"username": "bob", "password": PASSWORD})).await;
    assert_eq!(status, 200);
    srv.stop().await;
}

async fn the_page_counts_down_then_pauses(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    let alice = srv.add_user("alice").await;
    let secret = srv.enrol_totp(&alice).await;
    let right = srv.code(&secret);
    let wrong = if right == "000000" { "111111" } else { "000000" };
    let browser = browser();
    assert_eq!(submit_login(&srv, &browser, "/login", "alice", PASSWORD).await, "/login/mfa");
    let html = get_page(&browser, &srv, "/login/mfa").await;
    assert!(!html.contains("id=\"mfa-attempts\"") && !html.contains(" disabled>"), "nothing to count yet");
    let max = srv.state.config.limits.mfa_failures_per_account;
    for left in (1..max).rev() {
        let resp = post_mfa_form(&srv, &browser, "/login/mfa/totp", &[("code", wrong)]).await;
        let html = resp.text().await.unwrap();
        let says = if left == 1 {
            "1 more wrong attempt pauses".to_owned()
        } else {
            format!("{left} attempts left before the second step is paused")
        };
        assert!(html.contains(&says), "{left}: {html}");
    }
    let resp = post_mfa_form(&srv, &browser, "/login/mfa/totp", &[("code", wrong)]).await;
    let minutes = srv.state.config.limits.lockout_seconds / 60;
    let paused = |html: &str| {
        html.contains(&format!("paused for {minutes} minutes"))
            && html.contains("<fieldset class=\"plain\" disabled>")
            && !html.contains("id=\"mfa-attempts\"")
    };
    let html = resp.text().await.unwrap();
    assert!(paused(&html), "the last wrong code pauses, and the forms are disabled: {html}");
    // Coming back a minute later, in a new sign-in: still paused, with the time left.
    srv.advance(60);
    let again = crate::common::browser();
    assert_eq!(submit_login(&srv, &again, "/login", "alice", PASSWORD).await, "/login/mfa");
    let html = get_page(&again, &srv, "/login/mfa").await;
    assert!(html.contains(&format!("paused for {} minutes", minutes - 1)), "{html}");
    srv.advance(srv.state.config.limits.lockout_seconds);
    let later = crate::common::browser();
    assert_eq!(submit_login(&srv, &later, "/login", "alice", PASSWORD).await, "/login/mfa");
    let html = get_page(&later, &srv, "/login/mfa").await;
    assert!(!html.contains("paused for") && !html.contains(" disabled>"), "{html}");
    srv.stop().await;
}
