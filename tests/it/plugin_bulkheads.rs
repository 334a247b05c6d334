//! One app's plugin cannot starve another's (DESIGN §3): while users flood app F, whose plugin
//! burns its whole deadline, and a slow plugin runs in shadow on every login, app C's plugin
//! still gets its slot on every login and its demand holds, even under `fail_open`; shadow
//! runs beyond their own budget are dropped and counted, never taken from an active one.

use serde_json::json;

use crate::both_databases;
use crate::common::*;
use crate::plugin_fixtures as fx;
use crate::plugins_login::{admin_client, assign, upload};
use portcullis::mfa::policy::Policy;

both_databases!(
    a_flood_on_one_app_leaves_the_others_alone,
    a_flooded_scope_gets_its_share_of_processor_time_and_no_more,
    one_user_past_the_rate_fails_secure_and_leaves_the_plugin_to_others,
    cold_node_compiles_once_in_the_background
);

async fn a_flood_on_one_app_leaves_the_others_alone(b: Backend) {
    // Without the per-user rate: each flood request runs or waits for F's plugin, as when many
    // accounts flood an app (the scope's share is the bulkhead then).
    let opts = Options {
        tweak: Box::new(|c| {
            c.plugins.max_concurrent = 4;
            c.plugins.user_evaluations_per_minute = 0;
        }),
        ..Options::default()
    };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    let admin = admin_client(&srv).await;
    let f = srv.add_client(false).await;
    let c = srv.add_client(false).await;
    srv.set_settings(json!({"mfa_policy": "disabled"})).await;
    let bob = srv.add_user("bob").await;
    srv.enrol_totp_now(&bob).await;

    // F: a plugin that loops until its 300 ms deadline, fail_open. C: a plugin asking for a
    // code, fail_open (so a capacity failure would let the login through without one).
    upload(&srv, &admin, "slow&timeout_ms=300&fuel=1000000000", fx::infinite_loop()).await;
    assign(&srv, &admin, "slow", &f.app_id, "active", "fail_open").await;
    upload(&srv, &admin, "wants-otp", fx::fixed(Policy::Otp)).await;
    assign(&srv, &admin, "wants-otp", &c.app_id, "active", "fail_open").await;
    upload(&srv, &admin, "slow-shadow", fx::infinite_loop()).await;
    assign(&srv, &admin, "slow-shadow", "global", "shadow", "fail_open").await;

    // Four users flood F's authorize endpoint, three requests at a time each.
    let mut flood = tokio::task::JoinSet::new();
    let until = std::time::Instant::now() + std::time::Duration::from_secs(4);
    for i in 0..4 {
        let name = format!("flood{i}");
        srv.add_user(&name).await;
        let http =
            reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        assert_eq!(api_login(&srv, &http, &name).await.0, 200);
        for _ in 0..3 {
            let (http, url) = (
                http.clone(),
                authorize_url(
                    &srv,
                    &f.client_id,
                    &[("code_challenge", "x".repeat(43).as_str()), ("code_challenge_method", "S256")],
                ),
            );
            flood.spawn(async move {
                let mut n = 0;
                while std::time::Instant::now() < until {
                    let _ = http.get(&url).send().await;
                    n += 1;
                }
                n
            });
        }
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;

    // Meanwhile bob signs in to C again and again: every time C's plugin decides, and asks
    // for the code.
    for _ in 0..6 {
        let browser = browser();
        let (_, challenge) = pkce();
        let url =
            authorize_url(&srv, &c.client_id, &[("code_challenge", &challenge), ("code_challenge_method", "S256")]);
        let next = sign_in(&srv, &browser, &url, "bob", PASSWORD).await;
        assert_eq!(next, "/login/mfa", "C's plugin was enforced during the flood");
    }
    let floods: i32 = flood.join_all().await.into_iter().sum();
    assert!(floods >= 12, "the flood ran: {floods}");

    let body = decisions(&srv, &admin, "plugin=wants-otp&limit=500").await;
    let entries = body["entries"].as_array().unwrap();
    let c_runs: Vec<_> = entries.iter().filter(|e| e["app_id"] == c.app_id.as_str() && e["mode"] == "active").collect();
    assert!(c_runs.len() >= 6, "{}", c_runs.len());
    assert!(c_runs.iter().all(|e| e["error_kind"].is_null()), "C's plugin never failed busy: {c_runs:?}");
    assert!(srv.state.plugins.shadow_dropped() > 0, "shadow runs beyond their budget are dropped");
    srv.stop().await;
}

/// Many simultaneous sign-ins to an app whose plugin burns its whole deadline: the plugin gets
/// the scope's share of processor time (`plugins.scope_cpu_ms_per_second`, a burst of 4 s of
/// it) and no more, however many requests and slots there are; the logins beyond it fail
/// `busy` (secure: never a code under `fail_open`), and another app's plugin keeps deciding.
async fn a_flooded_scope_gets_its_share_of_processor_time_and_no_more(b: Backend) {
    const SHARE_MS: u64 = 200;
    const DEADLINE_MS: u64 = 200;
    let opts = Options {
        tweak: Box::new(|c| {
            c.plugins.max_concurrent = 4;
            c.plugins.user_evaluations_per_minute = 0;
            c.plugins.scope_cpu_ms_per_second = SHARE_MS;
        }),
        ..Options::default()
    };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    let admin = admin_client(&srv).await;
    let f = srv.add_client(false).await;
    let c = srv.add_client(false).await;
    srv.set_settings(json!({"mfa_policy": "disabled"})).await;
    upload(&srv, &admin, &format!("burner&timeout_ms={DEADLINE_MS}&fuel=1000000000"), fx::infinite_loop()).await;
    assign(&srv, &admin, "burner", &f.app_id, "active", "fail_open").await;
    upload(&srv, &admin, "wants-otp", fx::fixed(Policy::Otp)).await;
    assign(&srv, &admin, "wants-otp", &c.app_id, "active", "fail_open").await;
    let bob = srv.add_user("bob").await;
    srv.enrol_totp_now(&bob).await;
    let http = browser();
    assert_eq!(api_login(&srv, &http, "bob").await.0, 200);
    let pkce = [("code_challenge", "x".repeat(43)), ("code_challenge_method", "S256".to_owned())];
    let pkce: Vec<(&str, &str)> = pkce.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (f_url, c_url) = (authorize_url(&srv, &f.client_id, &pkce), authorize_url(&srv, &c.client_id, &pkce));

    let started = std::time::Instant::now();
    let until = started + std::time::Duration::from_secs(3);
    let mut flood = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let (http, url) = (http.clone(), f_url.clone());
        flood.spawn(async move {
            let mut answers = Vec::new();
            while std::time::Instant::now() < until {
                let resp = http.get(&url).send().await.unwrap();
                answers.push(resp.headers().get("location").map(|l| l.to_str().unwrap().to_owned()));
            }
            answers
        });
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    // C's plugin decides during the flood (its scope has a share of its own).
    let resp = http.get(&c_url).send().await.unwrap();
    assert_eq!(resp.headers()["location"], "/login/mfa", "C's plugin was enforced");
    let answers: Vec<_> = flood.join_all().await.into_iter().flatten().collect();
    let elapsed = started.elapsed();
    assert!(answers.len() >= 12, "the flood ran");
    let codes = answers.iter().filter(|l| l.as_deref().is_some_and(|l| l.starts_with(REDIRECT))).count();
    let stepped = answers.iter().filter(|l| l.as_deref() == Some("/login/mfa")).count();
    assert_eq!(codes + stepped, answers.len(), "{answers:?}");

    let body = decisions(&srv, &admin, "plugin=burner&limit=500").await;
    let runs = body["entries"].as_array().unwrap();
    let spent_ms: u64 = runs
        .iter()
        .filter(|e| e["error_kind"] != "busy")
        .map(|e| e["evaluation"]["duration_us"].as_u64().unwrap() / 1000)
        .sum();
    let refused = runs
        .iter()
        .filter(|e| e["error_kind"] == "busy")
        .filter(|e| e["evaluation"].to_string().contains("plugins.scope_cpu_ms_per_second"))
        .count();
    // A run that timed out goes by `fail_open` (a code); one refused for capacity is secure.
    let ran = runs.iter().filter(|e| e["error_kind"] != "busy").count();
    assert_eq!((ran, runs.len() - ran), (codes, stepped), "{runs:?}");
    // The burst, the refill over the flood, and what the two evaluations let in together
    // while the scope was still in credit may overspend (one deadline each, with slack).
    let allowed = SHARE_MS * 4 + SHARE_MS * elapsed.as_millis() as u64 / 1000 + 2 * (DEADLINE_MS + 100);
    assert!(spent_ms <= allowed, "the scope spent {spent_ms} ms of processor time, allowed {allowed}");
    // Without the share, two slots burning for the whole flood would have spent about 6 s.
    assert!(refused > 0, "logins past the share were refused: {runs:?}");
    srv.stop().await;
}

/// The decision log as the admin API shows it.
async fn decisions(srv: &TestServer, admin: &reqwest::Client, query: &str) -> serde_json::Value {
    let url = srv.url(&format!("/api/v1/admin/plugin-decisions?{query}"));
    admin.get(url).send().await.unwrap().json().await.unwrap()
}

/// One account looping on an app's sign-in (many requests at once) gets a minute's worth of
/// evaluations (`plugins.user_evaluations_per_minute`, the default 30) and is then paced: the
/// logins past it wait up to one token's worth of time (2 s) for the next token, and those that
/// do not get it fail `busy`, which is secure whatever `on_error` says (a code is never issued
/// without the plugin's decision). The plugin keeps deciding for everyone else.
async fn one_user_past_the_rate_fails_secure_and_leaves_the_plugin_to_others(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let rate = srv.state.config.plugins.user_evaluations_per_minute as usize;
    assert_eq!(rate, 30, "the default");
    let admin = admin_client(&srv).await;
    let f = srv.add_client(false).await;
    srv.set_settings(json!({"mfa_policy": "disabled"})).await;
    // The plugin waves every login through, fail_open: only its decision may do that. A long
    // deadline, so that no login gives up waiting for the user's two places.
    upload(&srv, &admin, "lets-in&timeout_ms=2000", fx::fixed(Policy::Disabled)).await;
    assign(&srv, &admin, "lets-in", &f.app_id, "active", "fail_open").await;
    for name in ["mallory", "bob"] {
        let user = srv.add_user(name).await;
        srv.enrol_totp_now(&user).await;
    }
    let signed_in = |name: &'static str| {
        let srv = &srv;
        async move {
            let http = browser();
            assert_eq!(api_login(srv, &http, name).await.0, 200);
            http
        }
    };
    let url = authorize_url(
        &srv,
        &f.client_id,
        &[("code_challenge", "x".repeat(43).as_str()), ("code_challenge_method", "S256")],
    );
    let mallory = signed_in("mallory").await;
    let started = std::time::Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..2 * rate {
        let (http, url) = (mallory.clone(), url.clone());
        set.spawn(async move {
            let resp = http.get(&url).send().await.unwrap();
            assert_eq!(resp.status(), 303);
            resp.headers()["location"].to_str().unwrap().to_owned()
        });
    }
    let answers = set.join_all().await;
    let took = started.elapsed();
    let codes = answers.iter().filter(|l| l.starts_with(REDIRECT)).count();
    let stepped = answers.iter().filter(|l| l.as_str() == "/login/mfa").count();
    assert_eq!(codes + stepped, 2 * rate, "{answers:?}");
    // The burst, plus at most one token per 2 s the requests spent waiting.
    let earned = rate + (took.as_secs_f64() / 2.0) as usize;
    assert!(codes >= rate && codes <= earned, "{codes} codes in {took:?}");

    let body = decisions(&srv, &admin, "limit=500").await;
    let entries = body["entries"].as_array().unwrap();
    let decided = entries.iter().filter(|e| e["error_kind"].is_null()).count();
    let limited = entries
        .iter()
        .filter(|e| e["error_kind"] == "busy")
        .filter(|e| e["evaluation"].to_string().contains("plugins.user_evaluations_per_minute"))
        .count();
    assert_eq!((decided, limited), (codes, stepped), "{entries:?}");

    // Everyone else still gets the plugin's decision, at once.
    let bob = signed_in("bob").await;
    let resp = bob.get(&url).send().await.unwrap();
    assert!(resp.headers()["location"].to_str().unwrap().starts_with(REDIRECT), "{resp:?}");
    srv.stop().await;
}

/// Compilation never happens on a login's path: on a node where a plugin is not ready (a new
/// node, a cleared cache), logins go by its `on_error`, audited as `unavailable`, while one
/// background compile (however many logins ask at once) makes it ready for the next ones. Two
/// versions with identical bytes share one artefact: deleting one keeps it for the other.
async fn cold_node_compiles_once_in_the_background(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let admin = admin_client(&srv).await;
    srv.set_settings(json!({"mfa_policy": "disabled"})).await;
    srv.add_user("carol").await;
    let bytes = fx::fixed(Policy::Otp);
    let sha = hex::encode(portcullis::crypto::sha256(&bytes));
    upload(&srv, &admin, "twin-a", bytes.clone()).await;
    upload(&srv, &admin, "twin-b", bytes).await;
    assign(&srv, &admin, "twin-b", "global", "active", "fail_open").await;

    // As on a node that has never compiled it: nothing in memory, nothing on disk.
    srv.state.plugins.forget(&sha);
    let compiles = srv.state.plugins.compiles();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let url = srv.url("/api/v1/auth/login");
        set.spawn(async move {
            let body = json!({"username": "carol", "password": PASSWORD});
            reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        });
    }
    let mut not_ready = 0;
    for body in set.join_all().await {
        // Not ready: fail_open leaves the static `disabled` (signed in); ready (a later login,
        // once the background compile is done): the plugin's `otp` (enrolment).
        if body["authenticated"] == true {
            not_ready += 1;
        } else {
            assert_eq!(body["mfa_enrollment_required"], true, "{body}");
        }
    }
    assert!(not_ready >= 1, "the first login found the plugin not ready and did not wait");
    let failures = srv.audit(None, "plugin.failed", 50).await;
    assert!(!failures.is_empty() && failures.iter().all(|f| f.detail.as_deref().unwrap().contains("unavailable")));
    for _ in 0..200 {
        if srv.state.plugins.loaded(&sha).is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(srv.state.plugins.loaded(&sha).is_some(), "compiled in the background");
    assert_eq!(srv.state.plugins.compiles() - compiles, 1, "one compile for eight logins");
    let (_, body) = api_login(&srv, &reqwest::Client::new(), "carol").await;
    assert_eq!(body["mfa_enrollment_required"], true, "ready now: the plugin's `otp` applies: {body}");

    // Deleting twin-a keeps the artefact twin-b still uses.
    let list: serde_json::Value =
        admin.get(srv.url("/api/v1/admin/plugins")).send().await.unwrap().json().await.unwrap();
    let a = list["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["plugin"]["name"] == "twin-a")
        .map(|p| p["plugin"]["id"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("{list}"));
    let resp = admin.delete(srv.url(&format!("/api/v1/admin/plugins/{a}"))).send().await.unwrap();
    assert_eq!(resp.status(), 204, "{}", resp.text().await.unwrap());
    assert!(srv.state.plugins.loaded(&sha).is_some(), "the shared artefact stays");
    srv.stop().await;
}
