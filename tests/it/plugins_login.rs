//! Selector plugins in real logins: the factor requirement follows the plugin's verdict under
//! the floor rule, a failure never weakens the policy, deny refuses, one login runs its plugin
//! once, shadow mode records without enforcing, replay shows the differences, the admin API
//! manages the lifecycle, and many logins can evaluate at once.

use portcullis::mfa::policy::Policy;
use serde_json::{Value, json};

use crate::both_databases;
use crate::common::*;
use crate::plugin_fixtures as fx;

both_databases!(
    verdict_drives_the_oidc_login,
    carried_verdict_is_bound_to_its_user,
    trust_prompt_keeps_the_verdict,
    racing_trust_answers_make_one_code_and_at_most_one_device,
    failures_follow_on_error,
    shadow_and_replay,
    a_replay_out_of_time_answers_with_what_it_has,
    admin_api_lifecycle,
    concurrent_logins_evaluate,
    js_risk_based_plugin_in_the_login,
    an_ipv6_devices_privacy_addresses_are_one_known_address
);

/// An admin without factors (the default `optional` policy lets them in with a password).
pub(crate) async fn admin_client(srv: &TestServer) -> reqwest::Client {
    srv.add_admin("root").await;
    let admin = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let (status, body) = api_login(srv, &admin, "root").await;
    assert_eq!((status, &body["authenticated"]), (200, &json!(true)), "{body}");
    admin
}

/// Uploads a component as `name`, which may carry further query parameters (`slow&timeout_ms=300`).
pub(crate) async fn upload(srv: &TestServer, admin: &reqwest::Client, name: &str, bytes: Vec<u8>) -> Value {
    let resp = admin
        .post(srv.url(&format!("/api/v1/admin/plugins?name={name}")))
        .header("content-type", "application/wasm")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body
}

pub(crate) async fn assign(
    srv: &TestServer,
    admin: &reqwest::Client,
    plugin: &str,
    scope: &str,
    mode: &str,
    on_error: &str,
) {
    let resp = admin
        .put(srv.url(&format!("/api/v1/admin/plugins/{plugin}/assignments/{scope}")))
        .json(&json!({"mode": mode, "on_error": on_error}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
}

async fn decisions(srv: &TestServer, admin: &reqwest::Client) -> Vec<Value> {
    let body: Value =
        admin.get(srv.url("/api/v1/admin/plugin-decisions?limit=500")).send().await.unwrap().json().await.unwrap();
    body["entries"].as_array().unwrap().clone()
}

/// The JSON login's outcome: `ok`, `mfa` (challenge), `enrol` or the error code.
async fn json_login_outcome(srv: &TestServer, username: &str) -> String {
    json_login_outcome_with(srv, reqwest::Client::builder().cookie_store(true).build().unwrap(), username).await
}

async fn verdict_drives_the_oidc_login(b: Backend) {
    // A domain-name issuer, so that passkeys are available.
    let opts = Options { localhost_issuer: true, ..manual_clock() };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    let admin = admin_client(&srv).await;
    let alice = srv.add_user("alice").await;
    let secret = srv.enrol_totp(&alice).await;
    let client = srv.add_client(false).await;
    srv.set_settings(json!({"mfa_policy": "disabled"})).await;
    assert_eq!(json_login_outcome(&srv, "alice").await, "ok");

    // A plugin asking for `otp` under a static `disabled`: the OIDC login needs the code.
    upload(&srv, &admin, "wants-otp", fx::fixed(Policy::Otp)).await;
    assign(&srv, &admin, "wants-otp", "global", "active", "fail_secure").await;
    let browser = browser();
    let (verifier, challenge) = pkce();
    let url =
        authorize_url(&srv, &client.client_id, &[("code_challenge", &challenge), ("code_challenge_method", "S256")]);
    let next = sign_in(&srv, &browser, &url, "alice", PASSWORD).await;
    assert_eq!(next, "/login/mfa", "the plugin's verdict asks for a second factor");
    let resp = post_mfa_form(&srv, &browser, "/login/mfa/totp", &[("code", &srv.code(&secret))]).await;
    // The trust-device prompt; declining continues the request, whose stored verdict is
    // reused rather than evaluated again.
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    let form = [
        ("csrf", hidden_input(&html, "csrf").unwrap()),
        ("trust_token", hidden_input(&html, "trust_token").unwrap()),
        ("request", hidden_input(&html, "request").unwrap()),
        ("trust", "no".to_owned()),
    ];
    let resp = browser.post(srv.url("/login/trust")).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    let redirect = location(&resp);
    let code = query_param(&redirect, "code").unwrap_or_else(|| panic!("code in {redirect}"));
    let tokens = json(exchange_code(&srv, &client, &code, &verifier).await).await;
    let claims = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    // One login, one evaluation (the continuation after the second factor reuses it).
    let log = decisions(&srv, &admin).await;
    let active: Vec<_> = log.iter().filter(|d| d["mode"] == "active" && d["user_id"] == json!(alice.id)).collect();
    assert_eq!(active.len(), 1, "{log:?}");
    assert_eq!(active[0]["applied"]["policy"], "otp");
    assert_eq!(active[0]["context"]["static_policy"], "disabled");
    assert_eq!(active[0]["context"]["user"]["username"], "alice");

    // (Uploaded now: under a static `any` the factor-less admin could not.)
    upload(&srv, &admin, "wants-nothing", fx::fixed(Policy::Disabled)).await;
    upload(&srv, &admin, "wants-passkey", fx::fixed(Policy::Passkey)).await;
    upload(&srv, &admin, "app-otp", fx::fixed(Policy::Otp)).await;
    upload(&srv, &admin, "denies", fx::denies()).await;
    // Floor rule: `disabled` from a plugin under a static `any` still needs MFA.
    assign(&srv, &admin, "wants-nothing", "global", "active", "fail_secure").await;
    srv.set_settings(json!({"mfa_policy": "any"})).await;
    assert_eq!(json_login_outcome(&srv, "alice").await, "mfa:[\"totp\"]");
    // `passkey` from a plugin under a static `optional`: a TOTP user must add a passkey.
    srv.set_settings(json!({"mfa_policy": "optional"})).await;
    assign(&srv, &admin, "wants-passkey", "global", "active", "fail_secure").await;
    let http = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let (_, body) = api_login(&srv, &http, "alice").await;
    assert_eq!(body["mfa_required"], true, "{body}");
    assert_eq!(body["enrollment_follows"], true, "a passkey must be added after the TOTP check: {body}");

    // An app's own plugin replaces the global one for that app.
    assign(&srv, &admin, "app-otp", &client.app_id, "active", "fail_secure").await;
    let browser =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let next = sign_in(&srv, &browser, &authorize_url(&srv, &client.client_id, &[]), "alice", PASSWORD).await;
    assert_eq!(next, "/login/mfa");
    let newest = decisions(&srv, &admin).await.remove(0);
    assert_eq!(
        (newest["app_id"].as_str(), &newest["applied"]["policy"]),
        (Some(client.app_id.as_str()), &json!("otp"))
    );
    let page = browser.get(srv.url("/login/mfa")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("name=\"code\""), "a TOTP challenge, not a passkey enrolment: {page}");

    // Deny refuses the login with the plugin's reason.
    assign(&srv, &admin, "denies", &client.app_id, "active", "fail_secure").await;
    let browser =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let next = sign_in(&srv, &browser, &authorize_url(&srv, &client.client_id, &[]), "alice", PASSWORD).await;
    assert!(next.starts_with(REDIRECT), "{next}");
    assert_eq!(query_param(&next, "error").as_deref(), Some("access_denied"));
    assert_eq!(query_param(&next, "error_description").as_deref(), Some("hello from wat"));
    srv.stop().await;
}

/// A login's stored verdict belongs to its user: someone else continuing the same request
/// (here through the trust-device form) gets an evaluation of their own.
async fn carried_verdict_is_bound_to_its_user(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    let admin = admin_client(&srv).await;
    let alice = srv.add_user("alice").await;
    srv.enrol_totp(&alice).await;
    let bob = srv.add_user("bob").await;
    let client = srv.add_client(false).await;
    srv.set_settings(json!({"mfa_policy": "disabled"})).await;
    let bob_browser = browser();
    assert_eq!(submit_login(&srv, &bob_browser, "/login", "bob", PASSWORD).await, "/");
    let profile = bob_browser.get(srv.url("/profile")).send().await.unwrap().text().await.unwrap();
    let bob_csrf = hidden_input(&profile, "csrf").unwrap();

    upload(&srv, &admin, "wants-otp", fx::fixed(Policy::Otp)).await;
    assign(&srv, &admin, "wants-otp", "global", "active", "fail_secure").await;
    // Alice's login waits at her second step, her verdict kept in her MFA transaction.
    let alice_browser = browser();
    let resp = alice_browser.get(authorize_url(&srv, &client.client_id, &[])).send().await.unwrap();
    let login = shown_login_form(resp).await;
    let request = query_param(&srv.url(&login), "request").unwrap();
    assert_eq!(submit_login(&srv, &alice_browser, &login, "alice", PASSWORD).await, "/login/mfa");
    let evaluations =
        |log: &[Value], user: &str| log.iter().filter(|d| d["mode"] == "active" && d["user_id"] == json!(user)).count();
    let log = decisions(&srv, &admin).await;
    assert_eq!((evaluations(&log, &alice.id), evaluations(&log, &bob.id)), (1, 0));

    // Bob continues Alice's request: the plugin runs for him.
    let form = [("csrf", bob_csrf.as_str()), ("request", request.as_str()), ("trust", "no")];
    let resp = bob_browser.post(srv.url("/login/trust")).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(location(&resp), "/login/mfa", "bob has no factor: the plugin's `otp` leads to enrolment");
    let log = decisions(&srv, &admin).await;
    assert_eq!((evaluations(&log, &alice.id), evaluations(&log, &bob.id)), (1, 1), "{log:?}");
    let newest = &log[0];
    assert_eq!((&newest["user_id"], &newest["context"]["user"]["username"]), (&json!(bob.id), &json!("bob")));
    srv.stop().await;
}

/// Alice (TOTP), an app, and a global plugin asking for a code: what the trust-prompt tests share.
struct TrustSetup {
    admin: reqwest::Client,
    alice: portcullis::store::users::User,
    secret: String,
    client_id: String,
}

async fn trust_setup(srv: &TestServer) -> TrustSetup {
    let admin = admin_client(srv).await;
    let alice = srv.add_user("alice").await;
    let secret = srv.enrol_totp(&alice).await;
    let client = srv.add_client(false).await;
    srv.set_settings(json!({"mfa_policy": "disabled"})).await;
    upload(srv, &admin, "wants-otp", fx::fixed(Policy::Otp)).await;
    assign(srv, &admin, "wants-otp", "global", "active", "fail_secure").await;
    TrustSetup { admin, alice, secret, client_id: client.client_id }
}

/// Signs alice in to the app in a new browser up to the trust-device prompt: the browser and
/// the prompt's page.
async fn at_trust_prompt(srv: &TestServer, t: &TrustSetup) -> (reqwest::Client, String) {
    let browser = browser();
    let url = authorize_url(srv, &t.client_id, &[]);
    assert_eq!(sign_in(srv, &browser, &url, "alice", PASSWORD).await, "/login/mfa");
    let resp = post_mfa_form(srv, &browser, "/login/mfa/totp", &[("code", &srv.code(&t.secret))]).await;
    assert_eq!(resp.status(), 200, "trust-device prompt");
    let html = resp.text().await.unwrap();
    (browser, html)
}

/// The prompt's answer as the page posts it.
fn trust_form(html: &str, name: &str, answer: &str) -> [(&'static str, String); 5] {
    [
        ("csrf", hidden_input(html, "csrf").unwrap()),
        ("trust_token", hidden_input(html, "trust_token").unwrap()),
        ("request", hidden_input(html, "request").unwrap()),
        ("name", name.to_owned()),
        ("trust", answer.to_owned()),
    ]
}

/// A login that passes its second factor and answers the trust-device prompt (either way)
/// continues with the verdict kept in its MFA transaction: the plugin runs once per login,
/// and its verdict (`otp`) still shapes the answer.
async fn trust_prompt_keeps_the_verdict(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    let t = trust_setup(&srv).await;
    let evaluations =
        |log: &[Value]| log.iter().filter(|d| d["mode"] == "active" && d["user_id"] == json!(t.alice.id)).count();
    for (round, answer) in [(1, "no"), (2, "yes")] {
        srv.advance(30);
        let (browser, html) = at_trust_prompt(&srv, &t).await;
        let form = trust_form(&html, "laptop", answer);
        let resp = browser.post(srv.url("/login/trust")).form(&form).send().await.unwrap();
        assert_eq!(resp.status(), 303);
        assert!(query_param(&location(&resp), "code").is_some(), "a code: {}", location(&resp));
        assert_eq!(evaluations(&decisions(&srv, &t.admin).await), round, "one evaluation per login ({answer})");
    }
    srv.stop().await;
}

/// The trust prompt answered yes and no at the same time, many times over (a double click, a
/// replayed form): the one-time trust token is used once, at most one device is trusted, and
/// the waiting request gets exactly one code.
async fn racing_trust_answers_make_one_code_and_at_most_one_device(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    let t = trust_setup(&srv).await;
    let (browser, html) = at_trust_prompt(&srv, &t).await;
    let mut set = tokio::task::JoinSet::new();
    for i in 0..16 {
        let form = trust_form(&html, &format!("laptop {i}"), if i % 2 == 0 { "yes" } else { "no" });
        let (browser, url) = (browser.clone(), srv.url("/login/trust"));
        set.spawn(async move {
            let resp = browser.post(url).form(&form).send().await.unwrap();
            let to = resp.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
            (resp.status().as_u16(), to)
        });
    }
    let answers = set.join_all().await;
    let codes =
        answers.iter().filter(|(_, to)| to.as_deref().is_some_and(|t| query_param(t, "code").is_some())).count();
    assert_eq!(codes, 1, "{answers:?}");
    assert!(answers.iter().all(|(status, _)| *status < 500), "{answers:?}");
    let devices = portcullis::store::devices::list(&srv.state.db, &t.alice.id, srv.state.now()).await.unwrap();
    assert!(devices.len() <= 1, "{devices:?}");
    srv.stop().await;
}

async fn failures_follow_on_error(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    let admin = admin_client(&srv).await;
    srv.add_user("bob").await;
    srv.set_settings(json!({"mfa_policy": "disabled"})).await;
    // The loop and the bomb get a long deadline, so that they always end by fuel and by
    // memory: on a loaded machine a 100 ms deadline can come first (a capacity failure, `busy`,
    // which is secure whatever on_error says: plugin_bulkheads tests that).
    let plugins = [
        ("traps", "", fx::trap()),
        ("loops", "&timeout_ms=2000", fx::infinite_loop()),
        ("bombs", "&timeout_ms=2000", fx::memory_bomb()),
    ];
    for (name, limits, bytes) in plugins {
        upload(&srv, &admin, &format!("{name}{limits}"), bytes).await;
        // fail_secure: at least `any`, so bob (no factor) is led to enrolment.
        assign(&srv, &admin, name, "global", "active", "fail_secure").await;
        assert_eq!(json_login_outcome(&srv, "bob").await, "enrol", "{name} under fail_secure");
        // fail_open: the static policy (`disabled`) alone.
        assign(&srv, &admin, name, "global", "active", "fail_open").await;
        assert_eq!(json_login_outcome(&srv, "bob").await, "ok", "{name} under fail_open");
    }
    let audit: Value =
        admin.get(srv.url("/api/v1/admin/audit?event=plugin.failed")).send().await.unwrap().json().await.unwrap();
    let details: Vec<&str> =
        audit["entries"].as_array().unwrap().iter().map(|e| e["detail"].as_str().unwrap()).collect();
    // The exact limits have their own tests (plugin_limits).
    let count = |prefixes: &[&str]| details.iter().filter(|d| prefixes.iter().any(|p| d.starts_with(p))).count();
    assert_eq!(count(&["traps@1 trap"]), 2, "{details:?}");
    assert_eq!(count(&["loops@1 fuel"]), 2, "{details:?}");
    assert_eq!(count(&["bombs@1 memory"]), 2, "{details:?}");
    srv.stop().await;
}

async fn shadow_and_replay(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    let admin = admin_client(&srv).await;
    srv.add_user("carol").await;
    srv.set_settings(json!({"mfa_policy": "disabled"})).await;
    upload(&srv, &admin, "current", fx::fixed(Policy::Optional)).await;
    upload(&srv, &admin, "candidate", fx::fixed(Policy::Any)).await;
    assign(&srv, &admin, "current", "global", "active", "fail_secure").await;
    assign(&srv, &admin, "candidate", "global", "shadow", "fail_secure").await;

    // The shadow's verdict (`any`) is recorded beside the enforced one, not enforced.
    for _ in 0..3 {
        assert_eq!(json_login_outcome(&srv, "carol").await, "ok");
    }
    let mut log = vec![];
    for _ in 0..100 {
        log = decisions(&srv, &admin).await;
        if log.iter().filter(|d| d["mode"] == "shadow").count() == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let shadows: Vec<_> = log.iter().filter(|d| d["mode"] == "shadow").collect();
    let actives: Vec<_> = log.iter().filter(|d| d["mode"] == "active").collect();
    assert_eq!((shadows.len(), actives.len()), (3, 3), "{log:?}");
    for s in &shadows {
        assert_eq!(s["applied"]["policy"], "any");
        assert!(actives.iter().any(|a| a["login_id"] == s["login_id"]), "each shadow run sits beside its login");
    }

    // Replay: the candidate differs from what was enforced on every recorded login; the
    // current plugin differs on none.
    let replay: Value = admin
        .post(srv.url("/api/v1/admin/plugins/candidate/replay"))
        .json(&json!({"last": 10}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!((replay["logins"].as_u64(), replay["differences"].as_u64()), (Some(3), Some(3)), "{replay}");
    assert_eq!(replay["results"][0]["recorded"]["policy"], "optional");
    assert_eq!(replay["results"][0]["candidate"]["policy"], "any");
    let same: Value =
        admin.post(srv.url("/api/v1/admin/plugins/current/replay")).send().await.unwrap().json().await.unwrap();
    assert_eq!(same["differences"], 0, "{same}");
    srv.stop().await;
}

/// A replay of a slow plugin stops in time to answer (`http::deadline`): it says how many of
/// the recorded sign-ins it ran and that it is incomplete, on the API and on the admin page,
/// rather than running on until the request's deadline answers a bare 503.
async fn a_replay_out_of_time_answers_with_what_it_has(b: Backend) {
    // The replay's deadline: 1 s plus the compile's wall-clock limit of 3 s.
    let opts = Options {
        tweak: Box::new(|c| {
            c.server.request_timeout_seconds = 1;
            c.plugins.compile_seconds = 1;
            // Time, not fuel, ends each run.
            c.plugins.max_fuel = 100_000_000_000;
        }),
        ..Options::default()
    };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    let admin = admin_client(&srv).await;
    srv.add_user("carol").await;
    srv.set_settings(json!({"mfa_policy": "disabled"})).await;
    upload(&srv, &admin, "current", fx::fixed(Policy::Optional)).await;
    upload(&srv, &admin, "looping&timeout_ms=1000&fuel=100000000000", fx::infinite_loop()).await;
    assign(&srv, &admin, "current", "global", "active", "fail_secure").await;
    for _ in 0..5 {
        assert_eq!(json_login_outcome(&srv, "carol").await, "ok");
    }
    let started = std::time::Instant::now();
    let resp =
        admin.post(srv.url("/api/v1/admin/plugins/looping/replay")).json(&json!({"last": 10})).send().await.unwrap();
    let elapsed = started.elapsed();
    let status = resp.status();
    let replay: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "{replay}");
    assert_eq!((&replay["found"], &replay["complete"]), (&json!(5), &json!(false)), "{replay}");
    let ran = replay["logins"].as_u64().unwrap();
    assert!(ran < 5, "{replay}");
    assert_eq!(replay["results"].as_array().unwrap().len() as u64, ran, "{replay}");
    assert_eq!(replay["failures"].as_u64(), Some(ran), "{replay}");
    for r in replay["results"].as_array().unwrap() {
        assert_eq!(r["evaluation"]["outcome"]["error"]["kind"], "timeout", "{r}");
    }
    assert!(elapsed < std::time::Duration::from_secs(4), "answered before the deadline: {elapsed:?}");

    // The admin page says the same (its sign-in is a sixth recorded one).
    let page = signed_in(&srv, "root").await;
    let plugins: Value = admin.get(srv.url("/api/v1/admin/plugins")).send().await.unwrap().json().await.unwrap();
    let id = plugins["plugins"].as_array().unwrap().iter().find(|p| p["plugin"]["name"] == "looping").unwrap()["plugin"]
        ["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let here = format!("/admin/plugins/{id}");
    let resp = post_form(&page, &srv, &here, &format!("{here}/replay"), &[("last", "10")]).await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("id=\"replay-incomplete\"") && html.contains("of the 6 sign-ins found were replayed"),
        "{html}"
    );
    srv.stop().await;
}

async fn admin_api_lifecycle(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let admin = admin_client(&srv).await;
    srv.add_user("dave").await;
    let url = srv.url("/api/v1/admin/plugins?name=p");
    let post = |bytes: Vec<u8>, ct: &'static str| admin.post(&url).header("content-type", ct).body(bytes).send();

    // Bad uploads: clear JSON errors, nothing stored.
    for (bytes, ct, needle) in [
        (b"not wasm".to_vec(), "application/wasm", "not a WebAssembly component"),
        (wat::parse_str("(module)").unwrap(), "application/wasm", "core WebAssembly module"),
        (fx::component_for("2.0.0", &fx::returns(Policy::Any)), "application/wasm", "portcullis:mfa@2.0.0"),
        (fx::fixed(Policy::Any), "application/json", "application/wasm"),
    ] {
        let resp = post(bytes, ct).await.unwrap();
        assert_eq!(resp.status(), 400);
        let body: Value = resp.json().await.unwrap();
        assert!(body["error_description"].as_str().unwrap().contains(needle), "{body}");
    }
    let resp = admin
        .post(srv.url("/api/v1/admin/plugins?name=Bad%20Name"))
        .header("content-type", "application/wasm")
        .body(fx::fixed(Policy::Any))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    // Limits out of range, however large (a size in MiB that overflows in bytes included).
    for limits in
        ["memory_mib=0", "memory_mib=17592186044417", "memory_mib=18446744073709551615", "fuel=0", "timeout_ms=0"]
    {
        let resp = admin
            .post(srv.url(&format!("/api/v1/admin/plugins?name=p&{limits}")))
            .header("content-type", "application/wasm")
            .body(fx::fixed(Policy::Any))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{limits}");
        let body: Value = resp.json().await.unwrap();
        assert!(body["error_description"].as_str().unwrap().contains("must be between"), "{limits}: {body}");
    }
    let list: Value = admin.get(srv.url("/api/v1/admin/plugins")).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["plugins"], json!([]));

    // Versions are numbered per name and immutable.
    let v1 = upload(&srv, &admin, "p", fx::fixed(Policy::Any)).await;
    let v2 = upload(&srv, &admin, "p", fx::fixed(Policy::Otp)).await;
    assert_eq!((v1["version"].as_i64(), v2["version"].as_i64()), (Some(1), Some(2)));
    assert_eq!(v1["world_version"], "1.0.0");
    assert_eq!(v1["sha256"].as_str().unwrap().len(), 64);
    // The component is stored apart from the metadata row, byte for byte.
    let v1_id = v1["id"].as_str().unwrap().to_owned();
    let stored = portcullis::store::plugins::wasm(&srv.state.db, &v1_id).await.unwrap();
    assert_eq!(stored.as_deref(), Some(&fx::fixed(Policy::Any)[..]));

    // Only admins.
    let user = reqwest::Client::builder().cookie_store(true).build().unwrap();
    api_login(&srv, &user, "dave").await;
    assert_eq!(user.get(srv.url("/api/v1/admin/plugins")).send().await.unwrap().status(), 403);
    assert_eq!(reqwest::Client::new().get(srv.url("/api/v1/admin/plugins/p")).send().await.unwrap().status(), 401);

    // Test on a supplied context: decision, logs, fuel, time.
    let ctx = serde_json::to_value(fx::context()).unwrap();
    let t: Value = admin
        .post(srv.url("/api/v1/admin/plugins/p@2/test"))
        .json(&json!({"context": ctx}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(t["outcome"]["decision"]["policy"], "otp", "{t}");
    assert!(t["fuel_used"].as_u64().unwrap() > 0);
    let bad = admin
        .post(srv.url("/api/v1/admin/plugins/p@2/test"))
        .json(&json!({"context": {"now": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    // Assign, then delete is refused until the assignment goes.
    assign(&srv, &admin, "p@1", "global", "active", "fail_secure").await;
    let bad_mode = admin
        .put(srv.url("/api/v1/admin/plugins/p@1/assignments/global"))
        .json(&json!({"mode": "sometimes"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_mode.status(), 400);
    let no_app = admin
        .put(srv.url("/api/v1/admin/plugins/p@1/assignments/no-such-app"))
        .json(&json!({"mode": "active"}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_app.status(), 400);
    assert_eq!(admin.delete(srv.url("/api/v1/admin/plugins/p@1")).send().await.unwrap().status(), 409);
    // Activating v2 in the same scope replaces v1, which stays assigned as disabled.
    assign(&srv, &admin, "p@2", "global", "active", "fail_secure").await;
    let show: Value = admin.get(srv.url("/api/v1/admin/plugins/p@1")).send().await.unwrap().json().await.unwrap();
    assert_eq!(show["assignments"][0]["mode"], "disabled", "{show}");
    assert_eq!(json_login_outcome(&srv, "dave").await, "enrol", "v2 (otp) is the active one");
    let show: Value = admin.get(srv.url("/api/v1/admin/plugins/p@2")).send().await.unwrap().json().await.unwrap();
    assert_eq!(show["stats"]["evaluations"], 1, "{show}");
    let resp = admin.delete(srv.url("/api/v1/admin/plugins/p@1/assignments/global")).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(admin.delete(srv.url("/api/v1/admin/plugins/p@1")).send().await.unwrap().status(), 204);
    assert_eq!(admin.get(srv.url("/api/v1/admin/plugins/p@1")).send().await.unwrap().status(), 404);
    assert_eq!(portcullis::store::plugins::wasm(&srv.state.db, &v1_id).await.unwrap(), None, "its bytes go with it");

    let audit: Value = admin.get(srv.url("/api/v1/admin/audit?limit=100")).send().await.unwrap().json().await.unwrap();
    let events: Vec<&str> = audit["entries"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    for e in ["plugin.uploaded", "plugin.assigned", "plugin.unassigned", "plugin.deleted"] {
        assert!(events.contains(&e), "{e} missing from {events:?}");
    }
    srv.stop().await;
}

/// Many simultaneous sign-ins, each evaluating the plugin in a store of its own: a selector
/// that counts its calls (in a global and in its memory) answers `any` on its first call only,
/// so a login that saw another's state would be decided `otp`. Rounds of simultaneous and
/// one-after-another sign-ins, so evaluator threads serve later logins from standbys.
async fn concurrent_logins_evaluate(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let admin = admin_client(&srv).await;
    srv.set_settings(json!({"mfa_policy": "disabled"})).await;
    let users = 24;
    for i in 0..users {
        srv.add_user(&format!("user{i}")).await;
    }
    // A deadline long enough that no evaluation runs out of it waiting for a slot while the
    // machine is busy with other tests: this is about fresh stores, not about the bulkheads.
    upload(&srv, &admin, "counts&timeout_ms=2000", fx::counts_its_calls()).await;
    assign(&srv, &admin, "counts", "global", "active", "fail_open").await;
    let login = |i: usize| {
        let url = srv.url("/api/v1/auth/login");
        async move {
            let resp = reqwest::Client::new()
                .post(url)
                .json(&json!({"username": format!("user{i}"), "password": PASSWORD}))
                .send()
                .await
                .unwrap();
            let body: Value = resp.json().await.unwrap();
            // `any` with no factor enrolled: enrolment.
            assert_eq!(body["mfa_enrollment_required"], true, "user{i}: {body}");
        }
    };
    let mut logins = 0;
    for round in 0..3 {
        if round == 1 {
            for i in 0..users / 2 {
                login(i).await;
            }
            logins += users / 2;
        } else {
            futures_util::future::join_all((0..users).map(login)).await;
            logins += users;
        }
    }
    let log = decisions(&srv, &admin).await;
    assert_eq!(log.len(), logins);
    for d in &log {
        assert!(d["error_kind"].is_null(), "no evaluation failed under load: {d}");
        assert_eq!(d["applied"]["policy"], "any", "each login in a fresh store: {d}");
    }
    // Standbys served some of them: the property above held where it could break.
    let metrics = reqwest::get(srv.url("/metrics")).await.unwrap().text().await.unwrap();
    let used: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("portcullis_plugin_standbys_used_total "))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("standbys used in:\n{metrics}"));
    assert!(used > 0, "{metrics}");
    srv.stop().await;
}

/// The `risk-based` example as the global plugin (no static policy), and erin with TOTP and a
/// password no longer new. Returns the admin's client.
async fn risk_based_for_erin(srv: &TestServer, bytes: Vec<u8>) -> (reqwest::Client, String) {
    let erin = srv.add_user("erin").await;
    let secret = srv.enrol_totp(&erin).await;
    // The password was set at creation: "changed recently" for a day.
    srv.advance(2 * 86_400);
    let admin = admin_client(srv).await;
    srv.set_settings(json!({"mfa_policy": "disabled"})).await;
    upload(srv, &admin, "risk-based", bytes).await;
    assign(srv, &admin, "risk-based", "global", "active", "fail_secure").await;
    (admin, secret)
}

/// Erin's first sign-in with `http`'s browser and address: new ones, so a second factor, given.
async fn first_sign_in_with_totp(srv: &TestServer, http: &reqwest::Client, secret: &str) {
    let (_, body) = api_login(srv, http, "erin").await;
    assert_eq!(body["mfa_required"], true, "{body}");
    let code = json!({"mfa_token": body["mfa_token"], "code": srv.code(secret)});
    let (status, done) = api_post(http, &srv.url("/api/v1/auth/mfa/totp"), code).await;
    assert_eq!(status, 200, "{done}");
}

/// The reasons the plugin gave, oldest first.
async fn reasons_logged(srv: &TestServer, admin: &reqwest::Client) -> Vec<String> {
    let log = decisions(srv, admin).await;
    let reason = |d: &Value| d["evaluation"]["outcome"]["decision"]["reason"].as_str().unwrap_or("").to_owned();
    log.iter().rev().map(reason).collect()
}

async fn js_risk_based_plugin_in_the_login(b: Backend) {
    let Some(bytes) = fx::js_example("risk-based") else { return };
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    let (admin, secret) = risk_based_for_erin(&srv, bytes).await;
    let laptop = || reqwest::Client::builder().cookie_store(true).user_agent("Laptop/1.0 (erin)").build().unwrap();
    // First sign-in from this browser: new device and new IP, so a second factor.
    first_sign_in_with_totp(&srv, &laptop(), &secret).await;
    // The same browser and address again: nothing unusual, the static policy (none) holds.
    srv.advance(60);
    assert_eq!(json_login_outcome_with(&srv, laptop(), "erin").await, "ok");
    // Another browser: new device again.
    let phone = reqwest::Client::builder().cookie_store(true).user_agent("Phone/2.0").build().unwrap();
    assert_eq!(json_login_outcome_with(&srv, phone, "erin").await, "mfa:[\"totp\"]");
    let reasons = reasons_logged(&srv, &admin).await;
    assert_eq!(reasons, ["risk: new device, new IP address", "no risk signal", "risk: new device"]);
    srv.stop().await;
}

/// A device on IPv6 signs in from a new privacy address of its /64 every day or so: that is not
/// a new address for the `new-ip` signal; another /64 is.
async fn an_ipv6_devices_privacy_addresses_are_one_known_address(b: Backend) {
    let Some(bytes) = fx::js_example("risk-based") else { return };
    let opts = Options {
        manual_clock: true,
        // The addresses are set the way a reverse proxy in front of the server tells them.
        tweak: Box::new(|c| c.limits.trust_forwarded_for = true),
        ..Options::default()
    };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    let (admin, secret) = risk_based_for_erin(&srv, bytes).await;
    let laptop_at = |address: &str| {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-forwarded-for", address.parse().unwrap());
        reqwest::Client::builder()
            .cookie_store(true)
            .user_agent("Laptop/1.0 (erin)")
            .default_headers(headers)
            .build()
            .unwrap()
    };
    first_sign_in_with_totp(&srv, &laptop_at("2001:db8:1:2:8d3c:41e2:97a0:15f6"), &secret).await;
    // A new privacy address in the same /64 (written another way): nothing new.
    srv.advance(60);
    assert_eq!(json_login_outcome_with(&srv, laptop_at("2001:DB8:1:2:0:e71:3b9c:2a04"), "erin").await, "ok");
    // Another network: a new address.
    srv.advance(60);
    assert_eq!(json_login_outcome_with(&srv, laptop_at("2001:db8:77:9::5"), "erin").await, "mfa:[\"totp\"]");
    let reasons = reasons_logged(&srv, &admin).await;
    assert_eq!(reasons, ["risk: new device, new IP address", "no risk signal", "risk: new IP address"]);
    srv.stop().await;
}

async fn json_login_outcome_with(srv: &TestServer, http: reqwest::Client, username: &str) -> String {
    let (status, body) = api_login(srv, &http, username).await;
    match status {
        200 if body["authenticated"] == true => "ok".into(),
        200 if body["mfa_required"] == true => format!("mfa:{}", body["factors"]),
        200 if body["mfa_enrollment_required"] == true => "enrol".into(),
        _ => format!("{status}:{}", body["error"]),
    }
}
