//! Health and readiness, discovery and JWKS shape.

use crate::both_databases;
use crate::common::*;

both_databases!(
    health_ready_discovery,
    metrics_move_with_what_happens,
    metrics_can_need_a_token,
    plugin_engine_waits_for_a_plugin
);

async fn health_ready_discovery(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    assert_eq!(reqwest::get(srv.url("/healthz")).await.unwrap().text().await.unwrap(), "ok");
    let ready = reqwest::get(srv.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);
    let d = json(reqwest::get(srv.url("/.well-known/openid-configuration")).await.unwrap()).await;
    assert_eq!(d["issuer"], srv.issuer());
    assert_eq!(d["code_challenge_methods_supported"], serde_json::json!(["S256"]));
    assert_eq!(d["response_types_supported"], serde_json::json!(["code"]));
    assert!(d["acr_values_supported"].as_array().unwrap().iter().any(|v| v == "urn:portcullis:acr:mfa"));
    let jwks =
        json(reqwest::get(d["jwks_uri"].as_str().unwrap().replace(srv.issuer(), &srv.base)).await.unwrap()).await;
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["alg"], "RS256");
    assert!(key["kid"].is_string());
    assert!(key.get("d").is_none(), "no private material in the JWKS");
    // After the database goes away, readiness says so.
    srv.state.db.close().await;
    let ready = reqwest::get(srv.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 503);
}

/// The value of one series in a scrape (0 when it is not there yet).
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

async fn scrape(srv: &TestServer) -> String {
    let resp = reqwest::get(srv.url("/metrics")).await.unwrap();
    assert_eq!(resp.status(), 200);
    let kind = resp.headers()[reqwest::header::CONTENT_TYPE].to_str().unwrap().to_owned();
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    resp.text().await.unwrap()
}

/// A scrape after sign-ins, a second step, a token grant and an unknown page shows each
/// counted once, by route template (never the path a client made up) and outcome.
async fn metrics_move_with_what_happens(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    let before = scrape(&srv).await;
    assert!(before.ends_with("# EOF\n"), "{before}");
    let client = srv.add_client(false).await;
    srv.add_user("alice").await;
    let bob = srv.add_user("bob").await;
    let secret = srv.enrol_totp(&bob).await;

    // Alice: a wrong password, then a code flow to tokens.
    let http = browser();
    let login = get_page(&http, &srv, "/login").await;
    let wrong =
        [("csrf", hidden_input(&login, "csrf").unwrap()), ("username", "alice".into()), ("password", "nope".into())];
    assert_eq!(http.post(srv.url("/login")).form(&wrong).send().await.unwrap().status(), 401);
    let (code, verifier) = get_code(&srv, &browser(), &client.client_id, "alice").await;
    assert_eq!(exchange_code(&srv, &client, &code, &verifier).await.status(), 200);
    assert_eq!(exchange_code(&srv, &client, &code, &verifier).await.status(), 400, "a replayed code");
    // Bob: a wrong code, then the right one.
    let b2 = browser();
    assert_eq!(submit_login(&srv, &b2, "/login", "bob", PASSWORD).await, "/login/mfa");
    let resp = post_mfa_form(&srv, &b2, "/login/mfa/totp", &[("code", "000000")]).await;
    assert_eq!(resp.status(), 401);
    let resp = post_mfa_form(&srv, &b2, "/login/mfa/totp", &[("code", &totp_code(&secret, srv.now()))]).await;
    assert!(resp.status().is_success() || resp.status().is_redirection(), "{}", resp.status());
    // A page that does not exist, twice, with paths an attacker chooses.
    for p in ["/no/such/page-1", "/no/such/page-2"] {
        assert_eq!(http.get(srv.url(p)).send().await.unwrap().status(), 404);
    }

    let after = scrape(&srv).await;
    let moved = |series: &str| sample(&after, series) - sample(&before, series);
    assert_eq!(moved(r#"portcullis_sign_ins_total{outcome="success"}"#), 2.0, "{after}");
    assert_eq!(moved(r#"portcullis_sign_ins_total{outcome="failure"}"#), 1.0, "{after}");
    assert_eq!(moved("portcullis_mfa_challenges_total"), 1.0, "{after}");
    assert_eq!(moved(r#"portcullis_mfa_verifications_total{factor="totp",outcome="failed"}"#), 1.0, "{after}");
    assert_eq!(moved(r#"portcullis_mfa_verifications_total{factor="totp",outcome="passed"}"#), 1.0, "{after}");
    assert_eq!(moved(r#"portcullis_token_grants_total{grant_type="authorization_code",outcome="issued"}"#), 1.0);
    assert_eq!(moved(r#"portcullis_token_grants_total{grant_type="authorization_code",outcome="refused"}"#), 1.0);
    assert_eq!(moved(r#"portcullis_http_requests_total{method="POST",route="/oauth2/token",status="200"}"#), 1.0);
    assert_eq!(moved(r#"portcullis_http_requests_total{method="POST",route="/login",status="401"}"#), 1.0);
    assert_eq!(moved(r#"portcullis_http_requests_total{method="GET",route="unmatched",status="404"}"#), 2.0);
    assert!(moved(r#"portcullis_http_request_duration_seconds_count{method="POST",route="/oauth2/token"}"#) >= 2.0);
    assert!(!after.contains("page-1") && !after.contains("alice"), "no client-chosen label: {after}");
    for gauge in [
        r#"portcullis_outbox_messages{status="pending"}"#,
        "portcullis_sqlite_writer_queue",
        "portcullis_token_grants_in_flight 0",
        "portcullis_token_grants_waiting 0",
        r#"portcullis_db_connections{pool="#,
    ] {
        assert!(after.contains(gauge), "{gauge} in {after}");
    }
    srv.stop().await;
}

/// With a token set, a scrape without it (or with another) gets 401; with `metrics.listen`
/// set, the main listener has no /metrics at all.
async fn metrics_can_need_a_token(b: Backend) {
    let opts = Options {
        tweak: Box::new(|c| c.metrics.token = "scrape-me-0123456789".to_owned().into()),
        ..Options::default()
    };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    let http = reqwest::Client::new();
    for auth in [None, Some("Bearer wrong"), Some("Basic scrape-me-0123456789"), Some("Bearer scrape-me-012345678")] {
        let mut req = http.get(srv.url("/metrics"));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let resp = req.send().await.unwrap();
        let (status, challenge) = (resp.status(), resp.headers().contains_key("www-authenticate"));
        assert_eq!(status, 401, "{auth:?}: {}", resp.text().await.unwrap());
        assert!(challenge, "{auth:?}");
    }
    let resp = http.get(srv.url("/metrics")).bearer_auth("scrape-me-0123456789").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let resp =
        http.get(srv.url("/metrics")).header("authorization", "bearer scrape-me-0123456789").send().await.unwrap();
    assert_eq!(resp.status(), 200, "the scheme's name in any case");
    assert!(resp.text().await.unwrap().contains("portcullis_http_requests_total"));
    srv.stop().await;

    let opts = Options { tweak: Box::new(|c| c.metrics.listen = "127.0.0.1:0".into()), ..Options::default() };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    assert_eq!(reqwest::get(srv.url("/metrics")).await.unwrap().status(), 404);
    srv.stop().await;
}

/// The names of a process's threads.
fn thread_names(pid: u32) -> Vec<String> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).unwrap();
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
        .map(|n| n.trim_end().to_owned())
        .collect()
}

/// A node with no plugin to run does not set up the plugin engine: no epoch thread waking it
/// every 10 ms, none of wasmtime's set-up in its memory. The first plugin assigned sets it up,
/// on that node, without a restart.
async fn plugin_engine_waits_for_a_plugin(b: Backend) {
    use crate::plugin_fixtures as fx;
    use portcullis::mfa::policy::Policy;
    // Assigned plugins are looked for at every key reload: each second here.
    let Some(nodes) = Nodes::start_with_env(b, 1, &[("PORTCULLIS_TOKENS__KEY_RELOAD_SECONDS", "1")]).await else {
        return;
    };
    let pid = nodes.pid(0);
    // Requests that do not need a plugin: discovery and the sign-in form.
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let base = &nodes.bases[0];
    assert_eq!(http.get(format!("{base}/.well-known/openid-configuration")).send().await.unwrap().status(), 200);
    assert_eq!(http.get(format!("{base}/login")).send().await.unwrap().status(), 200);
    // Two rounds of the look for assigned plugins.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let names = thread_names(pid);
    assert!(names.iter().any(|n| n.starts_with("tokio")), "the thread names are readable: {names:?}");
    assert!(!names.iter().any(|n| n == "plugin-epoch"), "no plugin, yet the engine was set up: {names:?}");

    let file = nodes.dir().join("otp.wasm");
    std::fs::write(&file, fx::fixed(Policy::Otp)).unwrap();
    let file = file.to_str().unwrap();
    for args in
        [&["plugin", "upload", file, "--name", "otp"][..], &["plugin", "assign", "otp", "--global", "--mode", "shadow"]]
    {
        let out = nodes.cli(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !thread_names(pid).iter().any(|n| n == "plugin-epoch") {
        assert!(std::time::Instant::now() < deadline, "the assigned plugin never set the engine up");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
