//! Every sign-in attempt costs one Argon2 verification, whether the user exists or not
//! (DESIGN §5: no user enumeration by timing), and a flood beyond the hashing pool gets 503
//! with Retry-After instead of queueing without bound. Clients that hang up mid-login neither
//! shrink the queue for those who come after (their place is given back) nor let more hashes
//! run at once than the pool has slots (a slot is freed when its hash ends). The queue takes
//! the places requests come from in turn, so a flood of sign-ins from one address, right
//! passwords included (they cost no attempt), does not shut everyone else out.

use crate::both_databases;
use crate::common::*;

both_databases!(
    unknown_user_costs_the_same,
    flood_gets_503_with_retry_after,
    abandoned_logins_leave_the_pool_whole,
    a_flood_of_right_passwords_from_one_address_leaves_room_for_others
);

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

/// A hashing pool of one slot and a queue of eight, a hash taking some milliseconds (8 MiB,
/// `iterations` passes).
fn one_slot_and_eight_waiting(iterations: u32) -> portcullis::config::PasswordConfig {
    portcullis::config::PasswordConfig {
        memory_kib: 8 * 1024,
        iterations,
        max_concurrent: 1,
        max_queue: 8,
        insecure_test_params: true,
        ..Default::default()
    }
}

async fn abandoned_logins_leave_the_pool_whole(b: Backend) {
    let opts = Options {
        tweak: Box::new(|c| {
            // Hashes slow enough (a few ms) that clients can hang up while they wait or run.
            c.password = one_slot_and_eight_waiting(3);
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

/// An insider signs in to accounts of their own, with the right passwords, as fast as they
/// can from one address: no attempt is counted, so no limit stops them, and the hashing queue
/// stays full. Someone signing in from elsewhere still gets in (the flood's newest request
/// gives up its place), and the flood itself is refused for what is over its share.
async fn a_flood_of_right_passwords_from_one_address_leaves_room_for_others(b: Backend) {
    let opts = Options {
        tweak: Box::new(|c| {
            c.password = one_slot_and_eight_waiting(6);
        }),
        ..Options::default()
    };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    let insiders = ["mallory1", "mallory2", "mallory3", "mallory4"];
    for name in insiders.iter().copied().chain(["alice"]) {
        srv.add_user(name).await;
    }
    let url = srv.url("/api/v1/auth/login");
    let from =
        |last: u8| reqwest::Client::builder().local_address(std::net::IpAddr::from([127, 0, 0, last])).build().unwrap();
    let flooding = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let mut flood = tokio::task::JoinSet::new();
    // 24 at once: within the limits on sign-ins in flight (per account and per address).
    for i in 0..24 {
        let (http, url, flooding) = (from(2), url.clone(), flooding.clone());
        let body = serde_json::json!({"username": insiders[i % insiders.len()], "password": PASSWORD});
        flood.spawn(async move {
            let (mut ok, mut busy) = (0, 0);
            while flooding.load(std::sync::atomic::Ordering::Relaxed) {
                match http.post(&url).json(&body).send().await.unwrap().status().as_u16() {
                    200 => ok += 1,
                    503 => busy += 1,
                    other => panic!("the flood got {other}"),
                }
            }
            (ok, busy)
        });
    }
    let full = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while srv.state.hasher.waiting() < 8 {
        assert!(std::time::Instant::now() < full, "the flood never filled the queue");
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let alice = from(3);
    let body = serde_json::json!({"username": "alice", "password": PASSWORD});
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(alice.post(&url).json(&body).send().await.unwrap().status().as_u16());
    }
    flooding.store(false, std::sync::atomic::Ordering::Relaxed);
    let (ok, busy) = flood.join_all().await.into_iter().fold((0, 0), |(a, b), (c, d)| (a + c, b + d));
    assert_eq!(statuses, [200, 200, 200], "alice got in while the queue was full of the flood");
    assert!(ok > 0 && busy > 0, "the flood was served its share and refused the rest: {ok} and {busy}");
    srv.stop().await;
}
