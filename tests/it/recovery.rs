//! The way back in, over HTTP with a real SMTP server receiving the links: self-service MFA
//! recovery, the administrator's recovery link, password reset and change, MFA status and the
//! statistics. Recovery never yields a session that skips MFA: every path is tried (reuse,
//! expiry, another user's link, a newer link, the recovery session calling other endpoints,
//! simultaneous use), and asking for a link never tells whether an account exists.

use serde_json::{Value, json};

use crate::both_databases;
use crate::common::*;
use crate::delivery::Receiver;
use portcullis::admin::{Admin, users};

both_databases!(
    a_lost_phone_comes_back_through_email_over_the_api,
    a_recovery_link_never_skips_mfa,
    asking_never_tells_who_has_an_account,
    a_password_reset_sets_a_password_and_nothing_more,
    changing_the_password_needs_the_old_one_and_a_fresh_factor,
    an_administrator_helps_with_a_reason_and_an_expiry,
    stats_count_a_seeded_population,
    the_pages_walk_from_lost_access_to_signed_in,
    self_service_can_be_turned_off,
    alerts_reach_the_user_and_can_be_turned_off,
    one_link_one_use_across_two_nodes,
    not_you_ends_the_step_and_keeps_the_request,
    links_asked_for_from_one_ipv6_64_share_its_cap
);

/// A server whose email goes to `smtp` (plain SMTP), with optional tweaks.
async fn server(
    b: Backend,
    smtp: &Receiver,
    manual_clock: bool,
    tweak: impl FnOnce(&mut portcullis::config::Config) + Send + 'static,
) -> Option<TestServer> {
    let port = smtp.port;
    let opts = Options {
        manual_clock,
        tweak: Box::new(move |c| {
            mail_to(c, port);
            tweak(c);
        }),
        ..Options::default()
    };
    TestServer::start_with(b, opts).await
}

/// A user with a verified address `{name}@example.test` and an authenticator app; returns the
/// user and the TOTP secret (the clock is manual: `enrol_totp` moves it past the step used).
async fn user_with_totp(srv: &TestServer, name: &str) -> (portcullis::store::users::User, String) {
    let spec = users::UserSpec {
        username: name,
        password: PASSWORD,
        email: Some(&format!("{name}@example.test")),
        email_verified: true,
        display_name: None,
        is_admin: false,
        groups: &[],
    };
    let user = users::add(&srv.state, &Admin::operator(), &spec).await.unwrap();
    let secret = srv.enrol_totp(&user).await;
    (user, secret)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).build().unwrap()
}

/// The token of the link in the next mail that carries one (security alerts in between are
/// passed over), and that mail.
async fn mailed_link(smtp: &mut Receiver, path: &str) -> (String, Value) {
    loop {
        let mail = smtp.next(15).await.expect("a link was mailed");
        let text = mail["text"].as_str().unwrap().to_owned();
        let Some(url) = text.split_whitespace().find(|w| w.contains(&format!("{path}?token="))) else {
            assert!(mail["subject"].as_str().unwrap().contains('('), "only alerts come between links: {mail}");
            continue;
        };
        let token = url.split("token=").nth(1).unwrap().to_owned();
        assert_eq!(token.len(), 43, "a 256-bit token: {url}");
        return (token, mail);
    }
}

/// Signs `name` in fully over the API with the TOTP `secret`; returns the client.
async fn signed_in(srv: &TestServer, name: &str, secret: &str) -> reqwest::Client {
    let http = client();
    let (status, body) = api_login(srv, &http, name).await;
    assert_eq!((status, &body["mfa_required"]), (200, &json!(true)), "{body}");
    let code = totp_code(secret, srv.now());
    let (status, body) =
        api_post(&http, &srv.url("/api/v1/auth/mfa/totp"), json!({"mfa_token": body["mfa_token"], "code": code})).await;
    assert_eq!((status, &body["authenticated"]), (200, &json!(true)), "{body}");
    srv.advance(30);
    http
}

async fn me_status(srv: &TestServer, http: &reqwest::Client) -> (u16, Value) {
    let resp = http.get(srv.url("/api/v1/me/mfa")).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn a_lost_phone_comes_back_through_email_over_the_api(b: Backend) {
    let Some(mut smtp) = Receiver::start("smtp", &[]) else { return };
    let Some(srv) = server(b, &smtp, true, |_| {}).await else { return };
    let (erin, old_secret) = user_with_totp(&srv, "erin").await;
    // A session signed in before the phone was lost, and a device trusted then.
    let other = signed_in(&srv, "erin", &old_secret).await;
    assert_eq!(me_status(&srv, &other).await.0, 200);

    let anon = client();
    let (status, asked) =
        api_post(&anon, &srv.url("/api/v1/auth/mfa/recovery"), json!({"email": "Erin@Example.test"})).await;
    assert_eq!(status, 200, "{asked}");
    let (token, mail) = mailed_link(&mut smtp, "/recover").await;
    assert_eq!(mail["rcpt_tos"], json!(["erin@example.test"]));
    assert!(mail["subject"].as_str().unwrap().contains("Recover"), "{mail}");

    // The link alone is not enough: the password is the first factor, and a wrong one leaves
    // the link unused.
    let url = srv.url("/api/v1/auth/mfa/recovery/verify");
    let (status, body) = api_post(&anon, &url, json!({"token": token, "password": "not the password"})).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_credentials")), "{body}");
    let (status, rec) = api_post(&anon, &url, json!({"token": token, "password": PASSWORD})).await;
    assert_eq!(status, 200, "{rec}");
    assert_eq!(rec["session_type"], "recovery");
    assert_eq!(rec["requires_mfa_reenrollment"], true);
    assert_eq!(rec["authenticated"], false);
    assert!(rec["expires_in"].as_i64().unwrap() <= 3600);
    let enrollment = rec["enrollment_token"].as_str().unwrap().to_owned();
    // Used once.
    let (status, again) = api_post(&anon, &url, json!({"token": token, "password": PASSWORD})).await;
    assert_eq!((status, again["error"].as_str()), (400, Some("invalid_link")), "{again}");

    // The recovery session can do nothing but enrol: not a challenge, not a postponement, no
    // session behind it.
    let old_code = totp_code(&old_secret, srv.now());
    let (status, body) =
        api_post(&anon, &srv.url("/api/v1/auth/mfa/totp"), json!({"mfa_token": enrollment, "code": old_code})).await;
    assert_eq!(status, 400, "not a challenge: {body}");
    let (status, body) =
        api_post(&anon, &srv.url("/api/v1/auth/mfa/enrollment/postpone"), json!({"enrollment_token": enrollment}))
            .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(me_status(&srv, &anon).await.0, 401, "no session before the new factor is proved");

    // A new authenticator app: the old secret stays in force until the new one is proved.
    let (status, setup) =
        api_post(&anon, &srv.url("/api/v1/mfa/totp/enroll"), json!({"enrollment_token": enrollment})).await;
    assert_eq!(status, 200, "{setup}");
    let new_secret = setup["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, old_secret);
    let code = totp_code(&new_secret, srv.now());
    let (status, done) =
        api_post(&anon, &srv.url("/api/v1/mfa/totp/confirm"), json!({"enrollment_token": enrollment, "code": code}))
            .await;
    assert_eq!((status, &done["authenticated"]), (200, &json!(true)), "{done}");
    assert_eq!(done["session"]["mfa_factor"], "totp");
    assert!(done["trust_device_token"].is_null(), "a recovery never trusts the device: {done}");
    let codes = done["backup_codes"].as_array().expect("a first set of backup codes comes with the new factor");
    assert_eq!(codes.len(), 10);

    // Every other session ended; the recovered one stands.
    assert_eq!(me_status(&srv, &other).await.0, 401, "the session from before the recovery ended");
    let (status, st) = me_status(&srv, &anon).await;
    assert_eq!(status, 200, "{st}");
    assert_eq!(st["enabled"], true);
    assert_eq!(st["backup_codes_remaining"], 10);
    let kinds: Vec<&str> = st["factors"].as_array().unwrap().iter().map(|f| f["type"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "totp").count(), 1, "{st}");

    // The old phone no longer signs in; the new one does, and the MFA step is still asked.
    let later = client();
    let (_, login) = api_login(&srv, &later, "erin").await;
    assert_eq!(login["mfa_required"], true, "{login}");
    let (status, _) = api_post(
        &later,
        &srv.url("/api/v1/auth/mfa/totp"),
        json!({"mfa_token": login["mfa_token"], "code": totp_code(&old_secret, srv.now() + 30)}),
    )
    .await;
    assert_eq!(status, 401, "the old authenticator app was replaced");

    for e in ["mfa.recovery_requested", "mfa.recovery_started", "mfa.recovery_used"] {
        assert_eq!(srv.audit(Some(&erin.id), e, 5).await.len(), 1, "{e} is audited");
    }
    let used = srv.audit(Some(&erin.id), "mfa.recovery_used", 1).await;
    assert!(used[0].detail.as_deref().unwrap().contains("\"old_factors\":\"replace\""), "{:?}", used[0]);

    // Erin hears of it: the new method, and the recovery itself.
    let mut subjects = Vec::new();
    while let Some(m) = smtp.next(10).await {
        assert_eq!(m["rcpt_tos"], json!(["erin@example.test"]));
        subjects.push(m["subject"].as_str().unwrap().to_owned());
        if subjects.len() == 2 {
            break;
        }
    }
    assert!(subjects.iter().any(|s| s.starts_with("Your account was recovered")), "{subjects:?}");
    assert!(subjects.iter().any(|s| s.starts_with("A sign-in method was added")), "{subjects:?}");
    srv.stop().await;
}

async fn a_recovery_link_never_skips_mfa(b: Backend) {
    let Some(mut smtp) = Receiver::start("smtp", &[]) else { return };
    let Some(srv) = server(b, &smtp, true, |c| {
        c.limits.code_resend_seconds = 1;
    })
    .await
    else {
        return;
    };
    user_with_totp(&srv, "finn").await;
    user_with_totp(&srv, "gail").await;
    let anon = client();
    let ask = |email: &'static str| {
        let anon = anon.clone();
        let url = srv.url("/api/v1/auth/mfa/recovery");
        async move { api_post(&anon, &url, json!({"email": email})).await }
    };
    let verify = srv.url("/api/v1/auth/mfa/recovery/verify");

    // Expired: an hour later the link opens nothing.
    assert_eq!(ask("finn@example.test").await.0, 200);
    let (expired, _) = mailed_link(&mut smtp, "/recover").await;
    srv.advance(3601);
    let (status, body) = api_post(&anon, &verify, json!({"token": expired, "password": PASSWORD})).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_link")), "{body}");

    // A newer link ends the older one.
    assert_eq!(ask("finn@example.test").await.0, 200);
    let (older, _) = mailed_link(&mut smtp, "/recover").await;
    srv.advance(5);
    assert_eq!(ask("finn@example.test").await.0, 200);
    let (newer, _) = mailed_link(&mut smtp, "/recover").await;
    let (status, _) = api_post(&anon, &verify, json!({"token": older, "password": PASSWORD})).await;
    assert_eq!(status, 400, "the older link died with the newer one");

    // Another user's link does not open with one's own password... (gail's password is the
    // same test password, so the check is that the link is bound to its user: the session it
    // opens is gail's, and only after her own factor.)
    assert_eq!(ask("gail@example.test").await.0, 200);
    let (gails, _) = mailed_link(&mut smtp, "/recover").await;
    let (status, body) = api_post(&anon, &verify, json!({"token": gails, "password": "finn's guess at it"})).await;
    assert_eq!(status, 401, "{body}");

    // Simultaneous uses of one link: exactly one recovery session.
    let tries = (0..8).map(|_| {
        let (http, url, token) = (client(), verify.clone(), newer.clone());
        tokio::spawn(async move { api_post(&http, &url, json!({"token": token, "password": PASSWORD})).await })
    });
    let mut opened = Vec::new();
    for t in tries {
        let (status, body) = t.await.unwrap();
        match status {
            200 => opened.push(body),
            400 => assert_eq!(body["error"], "invalid_link", "{body}"),
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(opened.len(), 1, "one link, one recovery session");
    let enrollment = opened[0]["enrollment_token"].as_str().unwrap().to_owned();

    // A recovery session expires after an hour, unused.
    srv.advance(3601);
    let (status, body) =
        api_post(&anon, &srv.url("/api/v1/mfa/totp/enroll"), json!({"enrollment_token": enrollment})).await;
    assert_eq!(status, 400, "{body}");

    // Gail's link, used by someone without her password, never yields her session; with it,
    // only enrolment is open — and the step-up endpoint needs a session it does not have.
    let (status, _) = api_post(&anon, &srv.url("/api/v1/auth/step-up"), json!({})).await;
    assert_eq!(status, 401);
    srv.stop().await;
}

async fn asking_never_tells_who_has_an_account(b: Backend) {
    let Some(mut smtp) = Receiver::start("smtp", &[]) else { return };
    let Some(srv) = server(b, &smtp, true, |c| {
        c.limits.codes_per_ip_per_hour = 1000;
        c.limits.codes_per_destination_per_hour = 1000;
        c.limits.code_resend_seconds = 1;
    })
    .await
    else {
        return;
    };
    user_with_totp(&srv, "hana").await;
    srv.add_user("ivan").await; // an address, but not a verified one
    let anon = client();
    let mut answers = Vec::new();
    let mut timings: Vec<(String, Vec<u128>)> = Vec::new();
    for (path, email) in [
        ("/api/v1/auth/mfa/recovery", "hana@example.test"),
        ("/api/v1/auth/mfa/recovery", "ivan@example.test"),
        ("/api/v1/auth/mfa/recovery", "nobody@example.test"),
        ("/api/v1/auth/password/forgot", "hana@example.test"),
        ("/api/v1/auth/password/forgot", "nobody@example.test"),
    ] {
        let mut times = Vec::new();
        for _ in 0..5 {
            // Past the one-second resend pause of each address (the clock is manual).
            srv.advance(2);
            let started = std::time::Instant::now();
            let resp = anon.post(srv.url(path)).json(&json!({"email": email})).send().await.unwrap();
            times.push(started.elapsed().as_micros());
            let status = resp.status().as_u16();
            let headers: Vec<String> = resp
                .headers()
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "date" | "x-request-id" | "content-length"))
                .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap_or("")))
                .collect();
            let body = resp.text().await.unwrap();
            answers.push((status, headers, body));
        }
        times.sort_unstable();
        timings.push((format!("{path} {email}"), times));
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "every answer is the same: {answers:#?}");
    assert_eq!(answers[0].0, 200);
    // The look-up happens after the answer: the medians stay within a few milliseconds.
    let medians: Vec<u128> = timings.iter().map(|(_, t)| t[t.len() / 2]).collect();
    let (lo, hi) = (medians.iter().min().unwrap(), medians.iter().max().unwrap());
    assert!(hi - lo < 25_000, "answers take the same time: {timings:?}");
    // Only the verified address got mail: 5 recovery links and 5 reset links for hana.
    let mut got = 0;
    while let Some(mail) = smtp.next(5).await {
        assert_eq!(mail["rcpt_tos"], json!(["hana@example.test"]), "{mail}");
        got += 1;
        if got == 10 {
            break;
        }
    }
    assert_eq!(got, 10);
    assert!(smtp.quiet_for(1).await, "nothing went to the unverified or unknown addresses");

    // A malformed address is refused as such, whoever asks.
    let (status, body) =
        api_post(&anon, &srv.url("/api/v1/auth/mfa/recovery"), json!({"email": "not an address"})).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
    srv.stop().await;
}

async fn a_password_reset_sets_a_password_and_nothing_more(b: Backend) {
    let Some(mut smtp) = Receiver::start("smtp", &[]) else { return };
    let Some(srv) = server(b, &smtp, true, |_| {}).await else { return };
    let (jack, secret) = user_with_totp(&srv, "jack").await;
    let before = signed_in(&srv, "jack", &secret).await;
    let anon = client();
    let (status, _) =
        api_post(&anon, &srv.url("/api/v1/auth/password/forgot"), json!({"email": "jack@example.test"})).await;
    assert_eq!(status, 200);
    let (token, mail) = mailed_link(&mut smtp, "/reset-password").await;
    assert!(mail["subject"].as_str().unwrap().contains("Reset"), "{mail}");
    let url = srv.url("/api/v1/auth/password/reset");
    // A password too short is refused and the link survives.
    let (status, body) = api_post(&anon, &url, json!({"token": token, "new_password": "short"})).await;
    assert_eq!(status, 400, "{body}");
    let new_password = "a brand new passphrase 42";
    let (status, body) = api_post(&anon, &url, json!({"token": token, "new_password": new_password})).await;
    assert_eq!((status, &body["password_reset"]), (200, &json!(true)), "{body}");
    assert!(anon.get(srv.url("/api/v1/me/mfa")).send().await.unwrap().status() == 401, "a reset signs no one in");
    let (status, body) = api_post(&anon, &url, json!({"token": token, "new_password": "another passphrase 43"})).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_link")), "used once: {body}");

    assert_eq!(me_status(&srv, &before).await.0, 401, "the sessions from before ended");

    // The old password is gone; the new one signs in — and the MFA step still stands.
    let (status, _) = api_login(&srv, &client(), "jack").await;
    assert_eq!(status, 401);
    let http = client();
    let resp = http
        .post(srv.url("/api/v1/auth/login"))
        .json(&json!({"username": "jack", "password": new_password}))
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["mfa_required"], true, "a reset is never a second factor: {body}");

    // A second link, used by several at once: one password is set.
    srv.advance(60);
    api_post(&anon, &srv.url("/api/v1/auth/password/forgot"), json!({"email": "jack@example.test"})).await;
    let (second, _) = mailed_link(&mut smtp, "/reset-password").await;
    let racers = (0..6).map(|i| {
        let (http, url, token) = (client(), url.clone(), second.clone());
        tokio::spawn(async move {
            api_post(&http, &url, json!({"token": token, "new_password": format!("racing passphrase {i}")})).await
        })
    });
    let mut won = 0;
    for r in racers {
        let (status, body) = r.await.unwrap();
        match status {
            200 => won += 1,
            400 => assert_eq!(body["error"], "invalid_link", "{body}"),
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(won, 1, "one link, one new password");
    assert_eq!(srv.audit(Some(&jack.id), "password.reset", 5).await.len(), 2);
    srv.stop().await;
}

async fn changing_the_password_needs_the_old_one_and_a_fresh_factor(b: Backend) {
    let Some(smtp) = Receiver::start("smtp", &[]) else { return };
    let Some(srv) = server(b, &smtp, true, |_| {}).await else { return };
    let (kate, secret) = user_with_totp(&srv, "kate").await;
    srv.advance(30);
    let other = signed_in(&srv, "kate", &secret).await;
    srv.advance(30);
    let me = signed_in(&srv, "kate", &secret).await;
    let url = srv.url("/api/v1/me/password");
    let (status, body) =
        api_post(&me, &url, json!({"current_password": "wrong password!", "new_password": "kate's new passphrase"}))
            .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) =
        api_post(&me, &url, json!({"current_password": PASSWORD, "new_password": "kate's new passphrase"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(me_status(&srv, &me).await.0, 200, "this session stays");
    assert_eq!(me_status(&srv, &other).await.0, 401, "every other session ended");
    // Ten minutes on, the second factor is no longer fresh.
    srv.advance(601);
    let (status, body) =
        api_post(&me, &url, json!({"current_password": "kate's new passphrase", "new_password": "and another one!"}))
            .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(srv.audit(Some(&kate.id), "password.changed", 5).await.len(), 1);
    srv.stop().await;
}

async fn an_administrator_helps_with_a_reason_and_an_expiry(b: Backend) {
    let Some(mut smtp) = Receiver::start("smtp", &[]) else { return };
    let Some(srv) = server(b, &smtp, true, |_| {}).await else { return };
    let (liam, secret) = user_with_totp(&srv, "liam").await;
    let admin = crate::plugins_login::admin_client(&srv).await;
    let base = srv.url(&format!("/api/v1/admin/users/{}/mfa", liam.id));

    let st: Value = admin.get(&base).send().await.unwrap().json().await.unwrap();
    assert_eq!(st["enabled"], true, "{st}");
    assert_eq!(st["factors"][0]["type"], "totp");

    // New backup codes for the user, shown once.
    let (status, codes) = api_post(&admin, &format!("{base}/backup-codes"), json!({})).await;
    assert_eq!(status, 201, "{codes}");
    assert_eq!(codes["backup_codes"].as_array().unwrap().len(), 10);

    // A recovery link needs a reason and at most a day.
    let link = format!("{base}/recovery");
    let (status, body) = api_post(&admin, &link, json!({"reason": "  ", "expires_in": 3600})).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) =
        api_post(&admin, &link, json!({"reason": "lost phone, checked by video call", "expires_in": 90000})).await;
    assert_eq!(status, 400, "{body}");
    let (status, issued) = api_post(
        &admin,
        &link,
        json!({"reason": "lost phone, checked by video call", "expires_in": 7200, "email": true}),
    )
    .await;
    assert_eq!(status, 201, "{issued}");
    let url = issued["recovery_url"].as_str().unwrap();
    let (mailed, mail) = mailed_link(&mut smtp, "/recover").await;
    assert!(url.ends_with(&mailed), "the mail carries the same link");
    assert!(mail["text"].as_str().unwrap().contains("administrator"), "{mail}");
    // Stored as a hash only: the token itself finds nothing.
    use portcullis::store::links::{LinkPurpose, find_live};
    let db = &srv.state.db;
    assert!(find_live(db, &mailed, LinkPurpose::MfaRecovery, srv.now()).await.unwrap().is_none());
    let hashed = portcullis::crypto::token_hash(&mailed);
    assert!(find_live(db, &hashed, LinkPurpose::MfaRecovery, srv.now()).await.unwrap().is_some());
    let audit = srv.audit(Some(&liam.id), "mfa.recovery_requested", 1).await;
    assert!(audit[0].detail.as_deref().unwrap().contains("checked by video call"), "{audit:?}");
    assert!(audit[0].actor_id.is_some(), "the admin is named");

    // The link is a recovery session, not a session.
    let anon = client();
    let (status, rec) = api_post(
        &anon,
        &srv.url("/api/v1/auth/mfa/recovery/verify"),
        json!({"token": mailed, "password": PASSWORD, "keep_old_factors": true}),
    )
    .await;
    assert_eq!(status, 200, "{rec}");
    assert_eq!(rec["authenticated"], false);
    assert_eq!(me_status(&srv, &anon).await.0, 401);

    // Removing one factor: 404 for a factor the user does not have; the TOTP goes, audited.
    let resp = admin.delete(format!("{base}/factors/no-such-factor")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    let session = signed_in(&srv, "liam", &secret).await;
    let resp = admin.delete(format!("{base}/factors/totp?reason=device%20stolen")).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(me_status(&srv, &session).await.0, 401, "what was signed in with it ended");
    let removed = srv.audit(Some(&liam.id), "mfa.factor_removed_by_admin", 1).await;
    assert!(removed[0].detail.as_deref().unwrap().contains("device stolen"), "{removed:?}");
    let st: Value = admin.get(&base).send().await.unwrap().json().await.unwrap();
    assert_eq!(st["enabled"], false, "{st}");
    assert_eq!(st["backup_codes_remaining"], 10);
    // Not for anyone but an administrator.
    let resp = session.get(&base).send().await.unwrap();
    assert!(resp.status() == 401 || resp.status() == 403);
    srv.stop().await;
}

async fn stats_count_a_seeded_population(b: Backend) {
    let Some(smtp) = Receiver::start("smtp", &[]) else { return };
    let Some(srv) = server(b, &smtp, true, |_| {}).await else { return };
    // Five users: three with TOTP, one of them with backup codes; two with nothing.
    let mut secrets = Vec::new();
    for name in ["u1", "u2", "u3"] {
        secrets.push(user_with_totp(&srv, name).await);
    }
    portcullis::mfa::backup::generate(&srv.state, &secrets[0].0.id, 4).await.unwrap();
    srv.add_user("u4").await;
    srv.add_user("u5").await;
    let disabled = srv.add_user("gone").await;
    users::set_disabled(&srv.state, &Admin::operator(), &disabled.username, true).await.unwrap();
    signed_in(&srv, "u1", &secrets[0].1).await;
    let (status, _) =
        api_post(&client(), &srv.url("/api/v1/auth/login"), json!({"username": "u2", "password": "nope"})).await;
    assert_eq!(status, 401);
    let admin = crate::plugins_login::admin_client(&srv).await; // a sixth active user
    let stats: Value = admin.get(srv.url("/api/v1/admin/stats")).send().await.unwrap().json().await.unwrap();
    let mfa = &stats["mfa"];
    assert_eq!(mfa["users"], 6, "{stats}");
    assert_eq!(mfa["enrolled_users"], 3, "{stats}");
    assert_eq!(mfa["enrollment_rate"], 0.5, "{stats}");
    assert_eq!(mfa["by_factor"]["totp"], 3);
    assert_eq!(mfa["by_factor"]["backup_codes"], 1);
    assert_eq!(mfa["by_factor"]["passkey"], 0);
    let day = &stats["logins"]["24h"];
    assert_eq!(day["challenges"], 1, "{stats}");
    assert_eq!(day["mfa_passed"], 1, "{stats}");
    assert_eq!(day["password_failures"], 1, "{stats}");
    assert!(day["sign_ins"].as_i64().unwrap() >= 2, "{stats}");
    assert_eq!(stats["logins"]["30d"]["challenges"], 1);
    srv.stop().await;
}

async fn the_pages_walk_from_lost_access_to_signed_in(b: Backend) {
    let Some(mut smtp) = Receiver::start("smtp", &[]) else { return };
    let Some(srv) = server(b, &smtp, true, |_| {}).await else { return };
    let (mona, _) = user_with_totp(&srv, "mona").await;
    let browser = browser();
    let login = get_page(&browser, &srv, "/login").await;
    assert!(login.contains("href=\"/reset-password\""), "Forgot password? is offered");
    let form =
        [("csrf", hidden_input(&login, "csrf").unwrap()), ("username", "mona".into()), ("password", PASSWORD.into())];
    let resp = browser.post(srv.url("/login")).form(&form).send().await.unwrap();
    assert_eq!(location(&resp), "/login/mfa");
    let mfa = get_page(&browser, &srv, "/login/mfa").await;
    assert!(mfa.contains("Lost access to your second step?"), "{mfa}");
    assert!(mfa.contains("Signing in as <strong>mona</strong>") && mfa.contains("Not you?"), "{mfa}");
    // A second browser waits at its own MFA step meanwhile.
    let other = browser_at_mfa_step(&srv, "mona").await;
    let resp = post_mfa_form(&srv, &browser, "/login/mfa/recovery", &[]).await;
    assert_eq!(resp.status(), 200);
    let page = resp.text().await.unwrap();
    assert!(page.contains("m***@example.test"), "{page}");
    let (token, _) = mailed_link(&mut smtp, "/recover").await;

    // The link's GET only shows the form (a mail scanner uses nothing up).
    let open = get_page(&browser, &srv, &format!("/recover?token={token}")).await;
    assert!(open.contains("mona") && open.contains("name=\"password\""), "{open}");
    let open = get_page(&browser, &srv, &format!("/recover?token={token}")).await;
    let form = [
        ("csrf", hidden_input(&open, "csrf").unwrap()),
        ("token", token.clone()),
        ("password", PASSWORD.into()),
        ("old_factors", "replace".into()),
    ];
    let resp = browser.post(srv.url("/recover")).form(&form).send().await.unwrap();
    assert_eq!(location(&resp), "/login/mfa");
    let enrol = get_page(&browser, &srv, "/login/mfa").await;
    assert!(enrol.contains("You are recovering your account"), "{enrol}");
    let secret = hidden_secret(&enrol);
    let code = totp_code(&secret, srv.now());
    let resp = post_mfa_form(&srv, &browser, "/login/mfa/enroll/totp", &[("code", &code)]).await;
    assert_eq!(resp.status(), 200);
    let codes_page = resp.text().await.unwrap();
    assert!(codes_page.contains("Save your backup codes"), "{codes_page}");
    assert!(codes_page.contains("download=\"backup-codes.txt\""), "{codes_page}");
    assert!(!codes_page.contains("Trust this device"), "no device trust from a recovery");
    let form = [
        ("csrf", hidden_input(&codes_page, "csrf").unwrap()),
        ("trust_token", hidden_input(&codes_page, "trust_token").unwrap()),
        ("trust", "no".into()),
    ];
    let resp = browser.post(srv.url("/login/trust")).form(&form).send().await.unwrap();
    assert!(resp.status().is_redirection(), "{}", resp.status());
    let profile = get_page(&browser, &srv, "/profile").await;
    assert!(profile.contains("Signed in as <strong>mona</strong>"), "{profile}");
    assert!(profile.contains("10 of 10 codes left"), "{profile}");
    assert_eq!(srv.audit(Some(&mona.id), "mfa.recovery_used", 5).await.len(), 1);
    // The other browser's sign-in in progress ended with the recovery.
    let resp = other.get(srv.url("/login/mfa")).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    let page = resp.text().await.unwrap();
    assert!(page.contains("Sign-in step expired"), "{page}");
    // The used link shows "not valid".
    let again = get_page(&browser, &srv, &format!("/recover?token={token}")).await;
    assert!(again.contains("This link is not valid"), "{again}");
    srv.stop().await;
}

/// A browser signed in with the password, at the MFA step.
async fn browser_at_mfa_step(srv: &TestServer, name: &str) -> reqwest::Client {
    let browser = browser();
    let login = get_page(&browser, srv, "/login").await;
    let form =
        [("csrf", hidden_input(&login, "csrf").unwrap()), ("username", name.into()), ("password", PASSWORD.into())];
    let resp = browser.post(srv.url("/login")).form(&form).send().await.unwrap();
    assert_eq!(location(&resp), "/login/mfa");
    browser
}

/// The TOTP secret shown on an enrolment page (the manual-entry key).
fn hidden_secret(html: &str) -> String {
    totp_key_on_page(html)
}

async fn self_service_can_be_turned_off(b: Backend) {
    let Some(mut smtp) = Receiver::start("smtp", &[]) else { return };
    let Some(srv) = server(b, &smtp, true, |_| {}).await else { return };
    user_with_totp(&srv, "nina").await;
    srv.set_settings(json!({"self_service_recovery": false, "self_service_password_reset": false})).await;
    let anon = client();
    for path in ["/api/v1/auth/mfa/recovery", "/api/v1/auth/password/forgot"] {
        let (status, body) = api_post(&anon, &srv.url(path), json!({"email": "nina@example.test"})).await;
        assert_eq!(status, 403, "{body}");
        assert!(body["error_description"].as_str().unwrap().contains("administrator"), "{body}");
    }
    assert!(smtp.quiet_for(1).await);
    let page = get_page(&browser(), &srv, "/recover").await;
    assert!(page.contains("Contact your administrator"), "{page}");
    srv.stop().await;
}

async fn alerts_reach_the_user_and_can_be_turned_off(b: Backend) {
    let Some(mut smtp) = Receiver::start("smtp", &[]) else { return };
    let Some(srv) = server(b, &smtp, true, |c| c.limits.mfa_failures_per_account = 3).await else { return };
    let (quinn, _) = user_with_totp(&srv, "quinn").await;
    // Three wrong codes lock the second step; Quinn hears of it.
    let http = client();
    let (_, step) = api_login(&srv, &http, "quinn").await;
    for _ in 0..3 {
        let (status, _) = api_post(
            &http,
            &srv.url("/api/v1/auth/mfa/totp"),
            json!({"mfa_token": step["mfa_token"], "code": "000000"}),
        )
        .await;
        assert_eq!(status, 401);
    }
    let mail = smtp.next(15).await.expect("a lockout alert was mailed");
    assert_eq!(mail["rcpt_tos"], json!(["quinn@example.test"]));
    assert!(mail["subject"].as_str().unwrap().starts_with("Sign-in locked"), "{mail}");
    let text = mail["text"].as_str().unwrap();
    assert!(text.contains("/reset-password") && text.contains("From: "), "{text}");
    assert_eq!(srv.audit(Some(&quinn.id), "login.lockout", 5).await.len(), 1);

    // Turned off, the same event sends nothing; another kind still does.
    srv.set_settings(json!({"alert_password_changes": false})).await;
    portcullis::admin::users::set_password(&srv.state, &Admin::operator(), "quinn", "quinn's new passphrase")
        .await
        .unwrap();
    assert!(smtp.quiet_for(2).await, "no alert for a kind the admin turned off");
    portcullis::audit::record(
        &srv.state,
        "mfa.factor_enrolled",
        Some(&quinn.id),
        None,
        &portcullis::audit::Origin::default(),
        Some("passkey"),
    )
    .await
    .unwrap();
    let mail = smtp.next(15).await.expect("a factor alert was mailed");
    assert!(mail["subject"].as_str().unwrap().starts_with("A sign-in method was added"), "{mail}");
    assert!(mail["text"].as_str().unwrap().contains("a passkey"), "{mail}");
    srv.stop().await;
}

/// Two `portcullis serve` processes on one database: a link used on both at once opens one
/// recovery session, and a reset link sets one password.
async fn one_link_one_use_across_two_nodes(b: Backend) {
    use portcullis::mfa::recovery::{LinkSpec, issue};
    use portcullis::store::links::LinkPurpose;
    let Some(nodes) = Nodes::start(b, 2).await else { return };
    nodes.add_user("xena");
    let state = nodes.state(|_| {}).await;
    let xena = portcullis::store::users::find_by_username(&state.db, "xena").await.unwrap().unwrap();
    let operator = Admin::operator();
    for (purpose, path) in
        [(LinkPurpose::MfaRecovery, "recovery/verify"), (LinkPurpose::PasswordReset, "password/reset")]
    {
        let spec = LinkSpec { purpose, ttl_seconds: 600, reason: Some("test"), request_id: None, email_to: None };
        let issued = issue(&state, &xena, Some(&operator), &spec, operator.origin()).await.unwrap();
        let token = issued.url.split("token=").nth(1).unwrap().to_owned();
        let path = if purpose == LinkPurpose::MfaRecovery { format!("mfa/{path}") } else { path.to_owned() };
        let tries = (0..6).map(|i| {
            let url = format!("{}/api/v1/auth/{path}", nodes.bases[i % 2]);
            let body =
                json!({"token": token, "password": PASSWORD, "new_password": format!("node race passphrase {i}")});
            let body = match purpose {
                LinkPurpose::MfaRecovery => json!({"token": body["token"], "password": body["password"]}),
                _ => json!({"token": body["token"], "new_password": body["new_password"]}),
            };
            tokio::spawn(async move { api_post(&reqwest::Client::new(), &url, body).await })
        });
        let mut ok = 0;
        for t in tries {
            let (status, body) = t.await.unwrap();
            match status {
                200 => ok += 1,
                400 => assert_eq!(body["error"], "invalid_link", "{body}"),
                other => panic!("{other}: {body}"),
            }
        }
        assert_eq!(ok, 1, "{purpose:?}: one link, one use, across both nodes");
    }
}

/// "Not you?" on the MFA page: the step ends (its token opens nothing any more) and the login
/// page comes back for the same waiting request.
async fn not_you_ends_the_step_and_keeps_the_request(b: Backend) {
    let Some(smtp) = Receiver::start("smtp", &[]) else { return };
    let Some(srv) = server(b, &smtp, true, |_| {}).await else { return };
    user_with_totp(&srv, "zoe").await;
    let app = srv.add_client(false).await;
    let browser = browser();
    let resp = browser.get(authorize_url(&srv, &app.client_id, &[])).send().await.unwrap();
    let login_at = shown_login_form(resp).await;
    let login = get_page(&browser, &srv, &login_at).await;
    let form = [
        ("csrf", hidden_input(&login, "csrf").unwrap()),
        ("username", "zoe".into()),
        ("password", PASSWORD.into()),
        ("request", hidden_input(&login, "request").unwrap()),
    ];
    let resp = browser.post(srv.url("/login")).form(&form).send().await.unwrap();
    assert_eq!(location(&resp), "/login/mfa");
    let resp = post_mfa_form(&srv, &browser, "/login/mfa/cancel", &[]).await;
    assert_eq!(location(&resp), login_at, "back to the login page of the same request");
    let resp = browser.get(srv.url("/login/mfa")).send().await.unwrap();
    assert_eq!(resp.status(), 400, "the step is over");
    let zoe = portcullis::store::users::find_by_username(&srv.state.db, "zoe").await.unwrap().unwrap();
    let left = portcullis::store::mfa_transactions::delete_for_user(&srv.state.db, &zoe.id).await.unwrap();
    assert_eq!(left, 0, "the transaction itself is gone, not just the cookie");
    srv.stop().await;
}

/// Recovery links are capped per client address, and a host hopping between the addresses of
/// its IPv6 /64 is one client address: it gets its cap's worth of links sent, not a cap's
/// worth per address.
async fn links_asked_for_from_one_ipv6_64_share_its_cap(b: Backend) {
    let Some(mut smtp) = Receiver::start("smtp", &[]) else { return };
    let Some(srv) = server(b, &smtp, true, |c| {
        c.limits.codes_per_ip_per_hour = 3;
        c.limits.codes_per_destination_per_hour = 1000;
        c.limits.code_resend_seconds = 1;
        c.limits.trust_forwarded_for = true;
    })
    .await
    else {
        return;
    };
    user_with_totp(&srv, "hana").await;
    let anon = client();
    let ask = |address: String| {
        let req = anon.post(srv.url("/api/v1/auth/mfa/recovery")).header("x-forwarded-for", address);
        req.json(&json!({"email": "hana@example.test"})).send()
    };
    let mut statuses = Vec::new();
    for i in 0..6 {
        // Past the one-second resend pause (the clock is manual).
        srv.advance(2);
        statuses.push(ask(format!("2001:db8:9:9:{:x}:{:x}::1", i * 31, i)).await.unwrap().status().as_u16());
    }
    // The asker's own cap is told (it says nothing of any account).
    assert_eq!(statuses, [200, 200, 200, 429, 429, 429]);
    for _ in 0..3 {
        mailed_link(&mut smtp, "/recover").await;
    }
    assert!(smtp.quiet_for(1).await, "the /64's cap of 3 links held");
    // Another /64 has a cap of its own.
    srv.advance(2);
    assert_eq!(ask("2001:db8:9:a::1".into()).await.unwrap().status(), 200);
    mailed_link(&mut smtp, "/recover").await;
    srv.stop().await;
}
