//! SMS and email codes as second factors, over HTTP against real receivers (a webhook SMS
//! provider verified with the Standard Webhooks library, a real SMTP server): set-up proves
//! the destination, sign-in codes are single use, bound to their transaction and destination,
//! short-lived and tried a few times at most, sending is limited (cooldown, caps, countries),
//! and the policy counts them for `optional` and `any` only.

use serde_json::{Value, json};

use crate::both_databases;
use crate::common::*;
use crate::delivery::Receiver;

both_databases!(
    sms_sets_up_and_signs_in_over_the_api,
    a_sign_in_code_is_single_use_bound_and_short_lived,
    sending_is_limited_and_refusals_are_clear,
    simultaneous_sends_get_one_code,
    email_codes_go_to_the_verified_account_address,
    otp_policy_does_not_take_a_text_message,
    the_mfa_page_texts_a_code_and_takes_it,
    the_profile_page_sets_up_and_removes_text_codes,
    the_enrolment_page_sets_up_text_codes,
    an_app_can_keep_text_codes_out
);

/// Signs `name` in through the login form; returns the browser and where the form sent it.
async fn form_login(srv: &TestServer, name: &str) -> (reqwest::Client, String) {
    let browser = browser();
    let html = get_page(&browser, srv, "/login").await;
    let form = [
        ("csrf", hidden_input(&html, "csrf").unwrap()),
        ("username", name.to_owned()),
        ("password", PASSWORD.to_owned()),
    ];
    let resp = browser.post(srv.url("/login")).form(&form).send().await.unwrap();
    let to = location(&resp);
    (browser, to)
}

async fn post_page(
    browser: &reqwest::Client,
    srv: &TestServer,
    from: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let csrf = hidden_input(from, "csrf").unwrap();
    let mut form: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    browser.post(srv.url(path)).form(&form).send().await.unwrap()
}

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// A server whose SMS go to `hook` (webhook transport, +1 and +44 allowed) and email to
/// `smtp_port` (plain SMTP) when given; sms and email may be set up.
async fn server(
    b: Backend,
    hook: &Receiver,
    smtp_port: Option<u16>,
    manual_clock: bool,
    tweak: impl FnOnce(&mut portcullis::config::Config) + Send + 'static,
) -> Option<TestServer> {
    let port = hook.port;
    let opts = Options {
        manual_clock,
        tweak: Box::new(move |c| {
            c.sms.transport = portcullis::config::SmsTransportKind::Webhook;
            c.sms.allowed_country_codes = vec![1, 44];
            c.sms.webhook.url = format!("http://127.0.0.1:{port}/sms");
            c.sms.webhook.secret = SECRET.into();
            if let Some(p) = smtp_port {
                c.email.transport = portcullis::config::EmailTransportKind::Smtp;
                c.email.smtp.host = "127.0.0.1".into();
                c.email.smtp.port = p;
                c.email.smtp.security = portcullis::config::SmtpSecurity::None;
            }
            tweak(c);
        }),
        ..Options::default()
    };
    let srv = TestServer::start_with(b, opts).await?;
    srv.set_settings(json!({"mfa_allowed_factors": ["totp", "passkey", "sms", "email"]})).await;
    Some(srv)
}

fn hook() -> Option<Receiver> {
    Receiver::start("webhook", &[("WEBHOOK_SECRET", SECRET)])
}

/// The next text message's code (and number), from the webhook receiver.
async fn texted(hook: &mut Receiver) -> (String, String) {
    let got = hook.next(10).await.expect("a text message was sent");
    assert_eq!(got["verified"], true, "{got}");
    let body = got["payload"]["data"]["body"].as_str().unwrap();
    let code: String = body.chars().take_while(|c| c.is_ascii_digit()).collect();
    assert_eq!(code.len(), 6, "{body}");
    assert!(body.ends_with(&format!("#{code}")), "an origin-bound code line closes the message: {body}");
    (code, got["payload"]["data"]["to"].as_str().unwrap().to_owned())
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).build().unwrap()
}

/// Signs `name` in with the password (no factor yet) and sets up SMS to `number`.
async fn with_sms(srv: &TestServer, hook: &mut Receiver, name: &str, number: &str) -> reqwest::Client {
    srv.add_user(name).await;
    let http = client();
    let (status, body) = api_login(srv, &http, name).await;
    assert_eq!((status, &body["authenticated"]), (200, &json!(true)), "{body}");
    let (status, pending) = api_post(&http, &srv.url("/api/v1/mfa/sms/enroll"), json!({"phone_number": number})).await;
    assert_eq!(status, 202, "{pending}");
    let (code, _) = texted(hook).await;
    let (status, active) = api_post(&http, &srv.url("/api/v1/mfa/sms/confirm"), json!({"code": code})).await;
    assert_eq!(status, 200, "{active}");
    http
}

async fn sms_sets_up_and_signs_in_over_the_api(b: Backend) {
    let Some(mut hook) = hook() else { return };
    let Some(srv) = server(b, &hook, None, false, |_| {}).await else { return };
    srv.add_user("alice").await;
    let http = client();
    let (status, body) = api_login(&srv, &http, "alice").await;
    assert_eq!((status, &body["authenticated"]), (200, &json!(true)), "{body}");

    let url = srv.url("/api/v1/mfa/sms/enroll");
    let (status, err) = api_post(&http, &url, json!({"phone_number": "415 555 2671"})).await;
    assert_eq!(status, 400, "a number without its country code is refused: {err}");
    let (status, err) = api_post(&http, &url, json!({"phone_number": "+49 30 901820"})).await;
    assert_eq!(status, 400, "{err}");
    assert!(err["error_description"].as_str().unwrap().contains("+49"), "{err}");
    let (status, pending) = api_post(&http, &url, json!({"phone_number": "+1 (415) 555-2671"})).await;
    assert_eq!(status, 202, "{pending}");
    assert_eq!(
        (&pending["type"], &pending["status"], &pending["phone_number"]),
        (&json!("sms"), &json!("pending"), &json!("+1***2671")),
        "{pending}"
    );
    let (code, to) = texted(&mut hook).await;
    assert_eq!(to, "+14155552671", "normalised to E.164");
    let confirm = srv.url("/api/v1/mfa/sms/confirm");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, _) = api_post(&http, &confirm, json!({"code": wrong})).await;
    assert_eq!(status, 401);
    let (status, active) = api_post(&http, &confirm, json!({"code": code})).await;
    assert_eq!(status, 200, "{active}");
    assert_eq!((&active["status"], &active["factor_id"]), (&json!("active"), &pending["factor_id"]), "{active}");
    let (status, again) = api_post(&http, &confirm, json!({"code": code})).await;
    assert_eq!(status, 401, "a set-up code works once: {again}");
    let factors: Value = http.get(srv.url("/api/v1/mfa/factors")).send().await.unwrap().json().await.unwrap();
    let sms = factors["factors"].as_array().unwrap().iter().find(|f| f["type"] == "sms").expect("listed").clone();
    assert_eq!(sms["name"], "+1***2671", "{factors}");

    // The next sign-in asks for the second step; the code comes by text message.
    let http = client();
    let (status, step) = api_login(&srv, &http, "alice").await;
    assert_eq!((status, &step["mfa_required"]), (200, &json!(true)), "{step}");
    assert!(step["factors"].as_array().unwrap().contains(&json!("sms")), "{step}");
    let token = step["mfa_token"].as_str().unwrap();
    let (status, sent) = api_post(&http, &srv.url("/api/v1/auth/mfa/sms/send"), json!({"mfa_token": token})).await;
    assert_eq!(status, 202, "{sent}");
    assert_eq!((&sent["sent_to"], &sent["expires_in"]), (&json!("+1***2671"), &json!(300)), "{sent}");
    let (code, _) = texted(&mut hook).await;
    let (status, done) =
        api_post(&http, &srv.url("/api/v1/auth/mfa/sms"), json!({"mfa_token": token, "code": code})).await;
    assert_eq!((status, &done["authenticated"]), (200, &json!(true)), "{done}");
    assert_eq!(srv.audit(None, "mfa.code_sent", 10).await.len(), 2);
    let passed = srv.audit(None, "mfa.passed", 10).await;
    assert_eq!(passed[0].detail.as_deref(), Some("sms"));

    // Primary: the factor the page offers first.
    let resp = http
        .put(srv.url(&format!("/api/v1/mfa/factors/{}/primary", sms["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let listed: Value = resp.json().await.unwrap();
    assert_eq!((&listed["factors"][0]["type"], &listed["factors"][0]["primary"]), (&json!("sms"), &json!(true)));

    // Removing it (the session verified a factor just now); someone else's id is not found.
    let id = sms["id"].as_str().unwrap();
    let other = client();
    srv.add_user("mallory").await;
    api_login(&srv, &other, "mallory").await;
    let resp = other.delete(srv.url(&format!("/api/v1/mfa/factors/{id}"))).send().await.unwrap();
    assert_eq!(resp.status(), 404, "another user's factor");
    let resp = http.delete(srv.url(&format!("/api/v1/mfa/factors/{id}"))).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    let factors: Value = http.get(srv.url("/api/v1/mfa/factors")).send().await.unwrap().json().await.unwrap();
    assert!(!factors.to_string().contains("sms"), "{factors}");
    assert_eq!(srv.audit(None, "security.event", 10).await.len(), 1, "the last factor's removal ended other sessions");
    srv.stop().await;
}

async fn a_sign_in_code_is_single_use_bound_and_short_lived(b: Backend) {
    let Some(mut hook) = hook() else { return };
    let tweak = |c: &mut portcullis::config::Config| {
        c.limits.code_resend_seconds = 1;
        // The wrong guesses below must not lock the account before the last checks.
        c.limits.mfa_failures_per_account = 20;
    };
    let Some(srv) = server(b, &hook, None, true, tweak).await else { return };
    with_sms(&srv, &mut hook, "bob", "+14155552672").await;
    srv.advance(2);
    let start = |http: reqwest::Client| {
        let srv = &srv;
        async move {
            let (_, step) = api_login(srv, &http, "bob").await;
            let token = step["mfa_token"].as_str().expect("a second step").to_owned();
            (http, token)
        }
    };
    let send = |token: String| {
        let url = srv.url("/api/v1/auth/mfa/sms/send");
        async move {
            let (status, body) = api_post(&client(), &url, json!({"mfa_token": token})).await;
            assert_eq!(status, 202, "{body}");
        }
    };
    let verify_url = srv.url("/api/v1/auth/mfa/sms");

    // Many simultaneous uses of one right code: exactly one succeeds.
    let (http, token) = start(client()).await;
    send(token.clone()).await;
    let (code, _) = texted(&mut hook).await;
    let tries = (0..8).map(|_| {
        let (http, url, token, code) = (http.clone(), verify_url.clone(), token.clone(), code.clone());
        tokio::spawn(async move { api_post(&http, &url, json!({"mfa_token": token, "code": code})).await.0 })
    });
    let statuses: Vec<u16> = futures_join(tries).await;
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");

    // A code belongs to its own sign-in: another transaction of the same user cannot use it.
    srv.advance(2);
    let (_, token_a) = start(client()).await;
    let (_, token_b) = start(client()).await;
    send(token_a.clone()).await;
    let (code_a, _) = texted(&mut hook).await;
    let (status, _) = api_post(&client(), &verify_url, json!({"mfa_token": token_b, "code": code_a})).await;
    assert_eq!(status, 401, "a code is bound to the transaction it was sent for");

    // Three wrong tries kill the code, even for the right one after.
    for _ in 0..3 {
        let wrong = if code_a == "999999" { "888888" } else { "999999" };
        let (status, _) = api_post(&client(), &verify_url, json!({"mfa_token": token_a, "code": wrong})).await;
        assert_eq!(status, 401);
    }
    let (status, _) = api_post(&client(), &verify_url, json!({"mfa_token": token_a, "code": code_a})).await;
    assert_eq!(status, 401, "the code is dead after its tries");

    // Five minutes: then it is gone.
    srv.advance(2);
    let (_, token) = start(client()).await;
    send(token.clone()).await;
    let (code, _) = texted(&mut hook).await;
    srv.advance(301);
    let (status, _) = api_post(&client(), &verify_url, json!({"mfa_token": token.clone(), "code": code})).await;
    assert!(status == 401 || status == 400, "an expired code is refused ({status})");

    // A code sent before the number changed does not prove the new number.
    srv.advance(2);
    let (_, token) = start(client()).await;
    send(token.clone()).await;
    let (code, _) = texted(&mut hook).await;
    let user = portcullis::store::users::find_by_username(&srv.state.db, "bob").await.unwrap().unwrap();
    let f = portcullis::store::oob::find(&srv.state.db, &user.id, portcullis::mfa::policy::Factor::Sms)
        .await
        .unwrap()
        .unwrap();
    assert!(portcullis::store::oob::delete(&srv.state.db, &user.id, &f.id).await.unwrap());
    let (status, body) = api_post(&client(), &verify_url, json!({"mfa_token": token, "code": code})).await;
    assert_ne!(status, 200, "{body}");
    srv.stop().await;
}

async fn futures_join(handles: impl Iterator<Item = tokio::task::JoinHandle<u16>>) -> Vec<u16> {
    let mut out = Vec::new();
    for h in handles.collect::<Vec<_>>() {
        out.push(h.await.unwrap());
    }
    out
}

async fn sending_is_limited_and_refusals_are_clear(b: Backend) {
    let Some(mut hook) = hook() else { return };
    let tweak = |c: &mut portcullis::config::Config| {
        c.limits.codes_per_destination_per_hour = 3;
        c.limits.codes_per_ip_per_hour = 6;
        c.limits.trust_forwarded_for = true;
    };
    let Some(srv) = server(b, &hook, None, true, tweak).await else { return };
    with_sms(&srv, &mut hook, "carol", "+14155552673").await;
    let (_, step) = api_login(&srv, &client(), "carol").await;
    let token = step["mfa_token"].as_str().unwrap().to_owned();
    let url = srv.url("/api/v1/auth/mfa/sms/send");

    // The resend cooldown: a second code within 30 s is refused with Retry-After.
    let resp = client().post(&url).json(&json!({"mfa_token": token})).send().await.unwrap();
    assert_eq!(resp.status(), 202);
    texted(&mut hook).await;
    let resp = client().post(&url).json(&json!({"mfa_token": token})).send().await.unwrap();
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&retry), "{retry}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "rate_limited", "{body}");
    srv.advance(31);
    let (status, _) = api_post(&client(), &url, json!({"mfa_token": token})).await;
    assert_eq!(status, 202, "after the cooldown");
    texted(&mut hook).await;

    // The destination's hourly cap (3: the set-up code and two sign-in codes so far).
    srv.advance(31);
    let (status, body) = api_post(&client(), &url, json!({"mfa_token": token})).await;
    assert_eq!(status, 429, "{body}");
    assert!(body["error_description"].as_str().unwrap().contains("destination"), "{body}");
    assert!(hook.quiet_for(1).await, "nothing was sent past a limit");
    let refused = srv.audit(None, "mfa.code_refused", 10).await;
    assert_eq!(refused.len(), 2, "{refused:?}");

    // Pumping: one client setting up many numbers runs into its address's cap. It sends from
    // a new address of its IPv6 /64 each time (the server trusts X-Forwarded-For here), which
    // counts as one address.
    let mut statuses = Vec::new();
    for i in 0..8 {
        let name = format!("pump{i}");
        srv.add_user(&name).await;
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-forwarded-for", format!("2001:db8:5:5:{:x}::{:x}", i * 97, i + 1).parse().unwrap());
        let http = reqwest::Client::builder().cookie_store(true).default_headers(headers).build().unwrap();
        api_login(&srv, &http, &name).await;
        let number = format!("+1415555{:04}", 2700 + i);
        statuses.push(api_post(&http, &srv.url("/api/v1/mfa/sms/enroll"), json!({"phone_number": number})).await.0);
    }
    assert_eq!(statuses, [202, 202, 202, 202, 202, 202, 429, 429], "the /64's cap of 6 codes holds");
    srv.stop().await;
}

async fn email_codes_go_to_the_verified_account_address(b: Backend) {
    let Some(hook) = hook() else { return };
    let Some(mut smtp) = Receiver::start("smtp", &[]) else { return };
    let Some(srv) = server(b, &hook, Some(smtp.port), false, |_| {}).await else { return };
    let dave = srv.add_user("dave").await;
    assert!(!dave.email_verified);
    let http = client();
    api_login(&srv, &http, "dave").await;
    let (status, pending) = api_post(&http, &srv.url("/api/v1/mfa/email/enroll"), json!({})).await;
    assert_eq!(status, 202, "{pending}");
    assert_eq!(pending["email"], "d***@example.test");
    let mail = smtp.next(10).await.expect("the code was mailed");
    assert_eq!(mail["rcpt_tos"], json!(["dave@example.test"]));
    let text = mail["text"].as_str().unwrap();
    let code: String =
        text.split_whitespace().find(|w| w.len() == 6 && w.bytes().all(|b| b.is_ascii_digit())).unwrap().into();
    assert!(mail["subject"].as_str().unwrap().contains(&code), "{mail}");
    let (status, active) = api_post(&http, &srv.url("/api/v1/mfa/email/confirm"), json!({"code": code})).await;
    assert_eq!(status, 200, "{active}");
    let dave = portcullis::store::users::find_by_username(&srv.state.db, "dave").await.unwrap().unwrap();
    assert!(dave.email_verified, "proving the address verified it");
    // Its owner hears of the new sign-in method, at the address now verified.
    let alert = smtp.next(10).await.expect("a security alert was mailed");
    assert_eq!(alert["rcpt_tos"], json!(["dave@example.test"]));
    assert!(alert["subject"].as_str().unwrap().starts_with("A sign-in method was added"), "{alert}");
    assert!(alert["text"].as_str().unwrap().contains("email codes"), "{alert}");

    // An account without an address cannot have email codes.
    srv.add_admin("erin").await;
    let http = client();
    api_login(&srv, &http, "erin").await;
    let (status, err) = api_post(&http, &srv.url("/api/v1/mfa/email/enroll"), json!({})).await;
    assert_eq!(status, 400, "{err}");

    // Signing in with an email code.
    let http = client();
    let (_, step) = api_login(&srv, &http, "dave").await;
    let token = step["mfa_token"].as_str().unwrap();
    let (status, _) = api_post(&http, &srv.url("/api/v1/auth/mfa/email/send"), json!({"mfa_token": token})).await;
    assert_eq!(status, 202);
    let mail = smtp.next(10).await.expect("the sign-in code was mailed");
    let text = mail["text"].as_str().unwrap();
    let code: String =
        text.split_whitespace().find(|w| w.len() == 6 && w.bytes().all(|b| b.is_ascii_digit())).unwrap().into();
    let (status, done) =
        api_post(&http, &srv.url("/api/v1/auth/mfa/email"), json!({"mfa_token": token, "code": code})).await;
    assert_eq!((status, &done["authenticated"]), (200, &json!(true)), "{done}");
    srv.stop().await;
}

async fn otp_policy_does_not_take_a_text_message(b: Backend) {
    let Some(mut hook) = hook() else { return };
    let Some(srv) = server(b, &hook, None, false, |_| {}).await else { return };
    with_sms(&srv, &mut hook, "frank", "+14155552674").await;
    srv.set_settings(json!({"mfa_policy": "otp"})).await;
    let http = client();
    let (_, step) = api_login(&srv, &http, "frank").await;
    // The text message only proves the user (the backup codes that came with it are offered
    // too: they satisfy any policy).
    assert_eq!(step["factors"], json!(["sms", "backup_code"]), "{step}");
    assert_eq!(step["enrollment_follows"], true, "{step}");
    let token = step["mfa_token"].as_str().unwrap();
    api_post(&http, &srv.url("/api/v1/auth/mfa/sms/send"), json!({"mfa_token": token})).await;
    let (code, _) = texted(&mut hook).await;
    let (status, next) =
        api_post(&http, &srv.url("/api/v1/auth/mfa/sms"), json!({"mfa_token": token, "code": code})).await;
    assert_eq!(status, 200, "{next}");
    assert_eq!(next["authenticated"], false, "no session from a text message under `otp`: {next}");
    assert_eq!(next["mfa_enrollment_required"], true, "{next}");
    assert!(!next["factors"].as_array().unwrap().contains(&json!("sms")), "{next}");
    srv.stop().await;
}

async fn the_mfa_page_texts_a_code_and_takes_it(b: Backend) {
    let Some(mut hook) = hook() else { return };
    let Some(srv) = server(b, &hook, None, false, |_| {}).await else { return };
    with_sms(&srv, &mut hook, "gina", "+442079460018").await;
    let browser = browser();
    let html = get_page(&browser, &srv, "/login").await;
    let form = [
        ("csrf", hidden_input(&html, "csrf").unwrap()),
        ("username", "gina".to_owned()),
        ("password", PASSWORD.to_owned()),
    ];
    let resp = browser.post(srv.url("/login")).form(&form).send().await.unwrap();
    assert_eq!(location(&resp), "/login/mfa");
    let page = get_page(&browser, &srv, "/login/mfa").await;
    assert!(page.contains("Text me a code at +44***0018</button>"), "{page}");
    let csrf = hidden_input(&page, "csrf").unwrap();
    let resp = browser.post(srv.url("/login/mfa/sms/send")).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let page = resp.text().await.unwrap();
    assert!(page.contains("We texted a code to +44***0018"), "{page}");
    let (code, _) = texted(&mut hook).await;
    let csrf = hidden_input(&page, "csrf").unwrap();
    let resp = browser
        .post(srv.url("/login/mfa/sms"))
        .form(&[("csrf", csrf.as_str()), ("code", "000000")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401, "a wrong code shows the page again");
    let page = resp.text().await.unwrap();
    let csrf = hidden_input(&page, "csrf").unwrap();
    let resp = browser
        .post(srv.url("/login/mfa/sms"))
        .form(&[("csrf", csrf.as_str()), ("code", code.as_str())])
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_redirection() || resp.status() == 200, "{}", resp.status());
    let profile = get_page(&browser, &srv, "/profile").await;
    assert!(profile.contains("gina"), "signed in");
    srv.stop().await;
}

async fn the_profile_page_sets_up_and_removes_text_codes(b: Backend) {
    let Some(mut hook) = hook() else { return };
    let Some(srv) = server(b, &hook, None, false, |_| {}).await else { return };
    srv.add_user("hank").await;
    let (browser, _) = form_login(&srv, "hank").await;
    let page = get_page(&browser, &srv, "/profile").await;
    assert!(page.contains("Text message codes"), "{page}");
    let resp = post_page(&browser, &srv, &page, "/profile/sms/setup", &[("phone_number", "+1 415 555 2675")]).await;
    assert_eq!(resp.status(), 200);
    let page = resp.text().await.unwrap();
    assert!(page.contains("We sent a code to +1***2675."), "{page}");
    let (code, _) = texted(&mut hook).await;
    let resp = post_page(&browser, &srv, &page, "/profile/sms/confirm", &[("code", "000000")]).await;
    assert_eq!(resp.status(), 200, "a wrong code keeps the field on screen");
    let page = resp.text().await.unwrap();
    assert!(page.contains("not accepted") && page.contains("id=\"sms-code\""), "{page}");
    let resp = post_page(&browser, &srv, &page, "/profile/sms/confirm", &[("code", &code)]).await;
    assert_eq!(resp.status(), 200, "the first method comes with backup codes, shown this once");
    let page = resp.text().await.unwrap();
    assert!(page.contains("Text message codes are set up.") && page.contains("Save these codes now"), "{page}");
    let page = get_page(&browser, &srv, "/profile").await;
    assert!(page.contains("Codes go to +1***2675."), "{page}");
    let user = portcullis::store::users::find_by_username(&srv.state.db, "hank").await.unwrap().unwrap();
    let f = portcullis::store::oob::list(&srv.state.db, &user.id).await.unwrap().remove(0);
    let resp = post_page(&browser, &srv, &page, &format!("/profile/factors/{}/primary", f.id), &[]).await;
    assert_eq!(location(&resp), "/profile?done=primary-set");
    let page = get_page(&browser, &srv, "/profile").await;
    assert!(page.contains("Offered first"), "{page}");
    let resp = post_page(&browser, &srv, &page, &format!("/profile/codes/{}/remove", f.id), &[]).await;
    assert_eq!(location(&resp), "/profile?done=codes-removed");
    assert!(portcullis::store::oob::list(&srv.state.db, &user.id).await.unwrap().is_empty());
    srv.stop().await;
}

async fn the_enrolment_page_sets_up_text_codes(b: Backend) {
    let Some(mut hook) = hook() else { return };
    let Some(srv) = server(b, &hook, None, false, |_| {}).await else { return };
    srv.set_settings(json!({"mfa_policy": "any", "mfa_allowed_factors": ["sms"]})).await;
    srv.add_user("iris").await;
    let (browser, to) = form_login(&srv, "iris").await;
    assert_eq!(to, "/login/mfa");
    let page = get_page(&browser, &srv, "/login/mfa").await;
    assert!(page.contains("Text message codes") && !page.contains("Authenticator app"), "{page}");
    let resp =
        post_page(&browser, &srv, &page, "/login/mfa/enroll/sms/send", &[("phone_number", "+44 20 7946 0019")]).await;
    assert_eq!(resp.status(), 200);
    let page = resp.text().await.unwrap();
    assert!(page.contains("We texted a code to +44***0019"), "{page}");
    let (code, to) = texted(&mut hook).await;
    assert_eq!(to, "+442079460019");
    let resp = post_page(&browser, &srv, &page, "/login/mfa/enroll/sms", &[("code", &code)]).await;
    assert_eq!(resp.status(), 200, "the trust-this-device prompt follows");
    let page = resp.text().await.unwrap();
    assert!(page.contains("trust"), "{page}");
    let user = portcullis::store::users::find_by_username(&srv.state.db, "iris").await.unwrap().unwrap();
    assert_eq!(portcullis::store::oob::list(&srv.state.db, &user.id).await.unwrap().len(), 1);
    assert_eq!(srv.audit(Some(&user.id), "mfa.factor_enrolled", 5).await.len(), 1);
    srv.stop().await;
}

async fn an_app_can_keep_text_codes_out(b: Backend) {
    let Some(mut hook) = hook() else { return };
    let Some(srv) = server(b, &hook, None, false, |_| {}).await else { return };
    with_sms(&srv, &mut hook, "judy", "+14155552678").await;
    let admin = client();
    srv.add_admin("root").await;
    api_login(&srv, &admin, "root").await;
    let app = srv.add_client(false).await;
    let url = srv.url(&format!("/api/v1/admin/apps/{}", app.app_id));
    let patch = |body: Value| admin.patch(&url).json(&body).send();
    let resp = patch(json!({"allowed_factors": ["fax"]})).await.unwrap();
    assert_eq!(resp.status(), 400);
    let resp =
        patch(json!({"mfa_policy": "any", "allowed_factors": ["sms"], "reauth_interval_minutes": 0})).await.unwrap();
    assert_eq!(resp.status(), 200, "sms alone can meet `any`");
    let resp = patch(json!({"mfa_policy": "otp"})).await.unwrap();
    assert_eq!(resp.status(), 400, "but not `otp`: no one could sign in to the app");
    let body: Value = resp.json().await.unwrap();
    assert!(body["error_description"].as_str().unwrap().contains("allowed_factors"), "{body}");
    let resp = patch(json!({"mfa_policy": "any", "allowed_factors": ["totp", "passkey"]})).await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["allowed_factors"], json!(["totp", "passkey"]), "{body}");

    // Signing in to that app: the text message is not offered; the user is led to set up an
    // accepted factor instead (after proving who they are, which SMS cannot do here).
    let browser = browser();
    let resp = browser.get(authorize_url(&srv, &app.client_id, &[])).send().await.unwrap();
    let login = shown_login_form(resp).await;
    let request = query_param(&srv.url(&login), "request").expect("a login request");
    let http = client();
    let resp = http
        .post(srv.url("/api/v1/auth/login"))
        .json(&json!({"username": "judy", "password": PASSWORD, "request_id": request}))
        .send()
        .await
        .unwrap();
    let step: Value = resp.json().await.unwrap();
    // The text message only proves who the user is before an accepted factor is set up (as
    // under `otp`): it never finishes a sign-in to this app.
    assert_eq!(
        (&step["factors"], &step["enrollment_follows"]),
        (&json!(["sms", "backup_code"]), &json!(true)),
        "{step}"
    );
    let token = step["mfa_token"].as_str().unwrap();
    api_post(&http, &srv.url("/api/v1/auth/mfa/sms/send"), json!({"mfa_token": token})).await;
    let (code, _) = texted(&mut hook).await;
    let (_, next) = api_post(&http, &srv.url("/api/v1/auth/mfa/sms"), json!({"mfa_token": token, "code": code})).await;
    assert_eq!((&next["authenticated"], &next["mfa_enrollment_required"]), (&json!(false), &json!(true)), "{next}");
    assert!(!next["factors"].as_array().unwrap().contains(&json!("sms")), "{next}");
    // Elsewhere (no app) the text message still works.
    let (_, step) = api_login(&srv, &client(), "judy").await;
    assert_eq!(step["factors"], json!(["sms", "backup_code"]), "{step}");
    srv.stop().await;
}

/// The resend cooldown holds under a burst: many simultaneous requests for a code, on one
/// sign-in and on several of the same user, send exactly one message.
async fn simultaneous_sends_get_one_code(b: Backend) {
    let Some(mut hook) = hook() else { return };
    let Some(srv) = server(b, &hook, None, false, |_| {}).await else { return };
    with_sms(&srv, &mut hook, "kate", "+14155552679").await;
    let mut tokens = Vec::new();
    for _ in 0..3 {
        let (_, step) = api_login(&srv, &client(), "kate").await;
        tokens.push(step["mfa_token"].as_str().unwrap().to_owned());
    }
    let url = srv.url("/api/v1/auth/mfa/sms/send");
    let sends = (0..12).map(|i| {
        let (url, token) = (url.clone(), tokens[i % tokens.len()].clone());
        tokio::spawn(async move { api_post(&client(), &url, json!({"mfa_token": token})).await.0 })
    });
    let statuses = futures_join(sends).await;
    assert_eq!(statuses.iter().filter(|s| **s == 202).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 202 || *s == 429), "{statuses:?}");
    texted(&mut hook).await;
    assert!(hook.quiet_for(1).await, "exactly one text message went out");
    srv.stop().await;
}
