//! Every sign-in attempt costs one Argon2 verification, whether the user exists or not
//! (DESIGN §5: no user enumeration by timing), and a flood beyond the hashing pool gets 503
//! with Retry-After instead of queueing without bound. Clients that hang up mid-login neither
//! shrink the queue for those who come after (their place is given back) nor let more hashes
//! run at once than the pool has slots (a slot is freed when its hash ends).

use crate::both_databases;
use crate::common::*;

both_databases!(unknown_user_costs_the_same, flood_gets_503_with_retry_after, abandoned_logins_leave_the_pool_whole);

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
    portcullis::admin::users::set_disabled(&srv.state, &portcullis::admin::Admin::operator(), "alice", true)
        .await
        .unwrap();
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

async fn abandoned_logins_leave_the_pool_whole(b: Backend) {
    let opts = Options {
        tweak: Box::new(|c| {
            // Hashes slow enough (a few ms) that clients can hang up while they wait or run.
            c.password = portcullis::config::PasswordConfig {
                memory_kib: 8 * 1024,
                iterations: 3,
                max_concurrent: 1,
                max_queue: 8,
                insecure_test_params: true,
                ..Default::default()
            };
            c.limits.password_failures_per_account = 10_000;
            c.limits.password_failures_per_ip = 10_000;
        }),
        ..Options::default()
    };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    srv.add_user("alice").await;
    let url = srv.url("/api/v1/auth/login");
    let body = serde_json::json!({"username": "alice", "password": PASSWORD});
    // 300 clients give up after a few milliseconds, in waves.
    let impatient = reqwest::Client::builder().timeout(std::time::Duration::from_millis(4)).build().unwrap();
    for _ in 0..10 {
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..30 {
            let (http, url, body) = (impatient.clone(), url.clone(), body.clone());
            set.spawn(async move { http.post(url).json(&body).send().await.map(|r| r.status().as_u16()) });
        }
        set.join_all().await;
    }
    // Once the pool is idle again, a burst the size of the queue is served in full.
    for _ in 0..200 {
        if srv.state.hasher.waiting() == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(srv.state.hasher.waiting(), 0, "every abandoned place in the queue was given back");
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (url, body) = (url.clone(), body.clone());
        set.spawn(async move { reqwest::Client::new().post(url).json(&body).send().await.unwrap().status().as_u16() });
    }
    let statuses = set.join_all().await;
    assert!(statuses.iter().all(|s| *s == 200), "no 503 after the flood: {statuses:?}");
    assert_eq!(srv.state.hasher.most_running(), 1, "never more hashes at once than the pool's one slot");
    srv.stop().await;
}
