//! Every sign-in attempt costs one Argon2 verification, whether the user exists or not
//! (DESIGN §5: no user enumeration by timing), and a flood beyond the hashing pool gets 503
//! with Retry-After instead of queueing without bound.

use crate::both_databases;
use crate::common::*;

both_databases!(unknown_user_costs_the_same, flood_gets_503_with_retry_after);

async fn unknown_user_costs_the_same(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    srv.add_user("alice").await;
    let http = reqwest::Client::new();
    let url = srv.url("/api/v1/auth/login");
    let cases = [
        ("alice", "wrong password!!"),
        ("nobody-here", "wrong password!!"),
        ("alice", PASSWORD),
        ("x".repeat(300).leak() as &str, "pw"),
    ];
    for (user, pw) in cases {
        let before = srv.state.hasher.verifications();
        let resp = http.post(&url).json(&serde_json::json!({"username": user, "password": pw})).send().await.unwrap();
        assert!(resp.status() == 200 || resp.status() == 401);
        assert_eq!(srv.state.hasher.verifications() - before, 1, "{user}: exactly one Argon2 verification");
    }
    // Disabled users too.
    portcullis::admin::set_disabled(&srv.state, "alice", true, &Default::default()).await.unwrap();
    let before = srv.state.hasher.verifications();
    let resp =
        http.post(&url).json(&serde_json::json!({"username": "alice", "password": PASSWORD})).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(srv.state.hasher.verifications() - before, 1);
}

async fn flood_gets_503_with_retry_after(b: Backend) {
    // Real OWASP parameters, one hashing slot and no queue: concurrent sign-ins overflow.
    let opts = Options {
        tweak: Box::new(|c| {
            c.password = portcullis::config::PasswordConfig { max_concurrent: 1, max_queue: 0, ..Default::default() };
            // This is about shedding, not guessing: the attempt budget stays out of the way.
            c.limits.password_failures_per_account = 100;
            c.limits.password_failures_per_ip = 100;
        }),
        ..Options::default()
    };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    srv.add_user("alice").await;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let url = srv.url("/api/v1/auth/login");
        set.spawn(async move {
            let r = reqwest::Client::new()
                .post(url)
                .json(&serde_json::json!({"username": "alice", "password": "wrong password!!"}))
                .send()
                .await
                .unwrap();
            let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
            let body: serde_json::Value = r.json().await.unwrap();
            (body["error"].as_str().unwrap().to_owned(), retry)
        });
    }
    let results = set.join_all().await;
    let busy: Vec<_> = results.iter().filter(|(e, _)| e == "temporarily_unavailable").collect();
    assert!(!busy.is_empty(), "some of 16 concurrent sign-ins must be refused: {results:?}");
    assert!(busy.iter().all(|(_, r)| r.as_deref() == Some("1")), "503s carry Retry-After");
    assert!(results.iter().all(|(e, _)| e == "temporarily_unavailable" || e == "invalid_credentials"));
}
