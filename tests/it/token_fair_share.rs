//! The token endpoint shares its work fairly between clients: one client's flood of grants
//! waits in a queue of its own, and another client's grant is let in at the next turn instead
//! of after the flood. Within a client, the addresses its requests come from take turns the
//! same way. Nothing of the flood is lost or refused, and requests that give up while
//! waiting (their connections closed) give their places back.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use portcullis::admin::Admin;
use portcullis::admin::apps::{self, CreatedOidcApp, OidcAppSpec};
use portcullis::turns::Source;

use crate::both_databases;
use crate::common::*;

both_databases!(
    a_flood_does_not_hold_up_another_client,
    a_flood_in_a_public_clients_name_does_not_hold_up_its_users,
    requests_that_give_up_lose_no_slot
);

/// Grants worked on at once in these tests: few, so that a flood queues.
const IN_FLIGHT: usize = 2;

async fn server(b: Backend) -> Option<TestServer> {
    let tweak = Box::new(|c: &mut portcullis::config::Config| c.tokens.grants_in_flight = IN_FLIGHT);
    TestServer::start_with(b, Options { tweak, ..Default::default() }).await
}

async fn service(srv: &TestServer, name: &str) -> CreatedOidcApp {
    let spec = OidcAppSpec {
        name,
        client_id: None,
        redirect_uris: &[],
        post_logout_redirect_uris: &[],
        public: false,
        extra_scopes: &["api:read".to_owned()],
        client_credentials: true,
    };
    apps::add_oidc(&srv.state, &Admin::operator(), &spec).await.unwrap()
}

async fn grant(http: &reqwest::Client, srv: &TestServer, app: &CreatedOidcApp) -> reqwest::Result<u16> {
    let resp = http
        .post(srv.url("/oauth2/token"))
        .basic_auth(&app.client_id, Some(app.client_secret.as_ref().unwrap().expose()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?;
    Ok(resp.status().as_u16())
}

/// Waits (at most 30 s) until `cond` holds.
async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cond() {
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

async fn metric(srv: &TestServer, name: &str) -> i64 {
    let text = reqwest::get(srv.url("/metrics")).await.unwrap().text().await.unwrap();
    let line = text.lines().find(|l| l.split(' ').next() == Some(name)).unwrap_or_else(|| panic!("{name} in {text}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

/// Takes every slot of the gate, as grants being worked on would.
async fn hold_every_slot(srv: &TestServer) -> Vec<portcullis::oidc::fair_share::GrantPermit> {
    let mut held = Vec::new();
    for _ in 0..IN_FLIGHT {
        held.push(srv.state.grants.admit("slow grants", Source::of(None)).await.unwrap());
    }
    held
}

async fn a_flood_does_not_hold_up_another_client(b: Backend) {
    let Some(srv) = server(b).await else { return };
    let srv = Arc::new(srv);
    let flooder = Arc::new(service(&srv, "Batch job").await);
    let other = service(&srv, "Checkout").await;
    let http = reqwest::Client::new();

    // 300 grants at once from one client, all waiting: the slots are taken.
    let held = hold_every_slot(&srv).await;
    const FLOOD: usize = 300;
    let done = Arc::new(AtomicUsize::new(0));
    let mut flood = Vec::new();
    for _ in 0..FLOOD {
        let (srv, http, app, done) = (srv.clone(), http.clone(), flooder.clone(), done.clone());
        flood.push(tokio::spawn(async move {
            let status = grant(&http, &srv, &app).await.unwrap();
            done.fetch_add(1, Ordering::SeqCst);
            status
        }));
    }
    until("the flood waits", || srv.state.grants.waiting() == FLOOD).await;
    assert_eq!(metric(&srv, "portcullis_token_grants_waiting").await, FLOOD as i64);
    assert_eq!(metric(&srv, "portcullis_token_grants_in_flight").await, IN_FLIGHT as i64);

    // Another client's grants, one after another, behind the whole flood: each is let in at
    // its turn, after about one of the flood's grants, not after the 300 queued ahead.
    let other_grants = {
        let (srv, http, done) = (srv.clone(), http.clone(), done.clone());
        tokio::spawn(async move {
            for _ in 0..3 {
                assert_eq!(grant(&http, &srv, &other).await.unwrap(), 200);
            }
            done.load(Ordering::SeqCst)
        })
    };
    until("the other client waits too", || srv.state.grants.waiting() == FLOOD + 1).await;
    drop(held);
    let meanwhile = other_grants.await.unwrap();
    assert!(meanwhile < 40, "the other client waited for {meanwhile} of the flood's {FLOOD} grants");

    // The whole flood is served: nothing lost or refused.
    for t in flood {
        assert_eq!(t.await.unwrap(), 200);
    }
    assert_eq!((srv.state.grants.in_flight(), srv.state.grants.waiting()), (0, 0));
    assert_eq!(metric(&srv, "portcullis_token_grants_waiting").await, 0);
    Arc::into_inner(srv).unwrap().stop().await;
}

/// Anyone can send grants in a public client's name: a flood of made-up refresh tokens from
/// one address lands in that app's queue, but within it the addresses take turns, so the
/// app's user elsewhere waits for about one of the flood's grants, not for the flood.
///
/// The flood's grants are cheap (nothing to look up), so the test meters the slots out itself:
/// it queues requests of its own as another client, which take every other turn, and sees
/// which of the app's requests got the turns in between.
async fn a_flood_in_a_public_clients_name_does_not_hold_up_its_users(b: Backend) {
    let Some(srv) = server(b).await else { return };
    let srv = Arc::new(srv);
    srv.add_user("alice").await;
    let app = Arc::new(srv.add_client(true).await);
    let refresh_token = tokens_from(&srv.url(""), &app.client_id).await["refresh_token"].as_str().unwrap().to_owned();
    // Connections from two addresses of the loopback network.
    let from = |last: u8| reqwest::Client::builder().local_address(IpAddr::from([127, 0, 0, last])).build().unwrap();
    let (attacker, user) = (from(2), from(3));

    let mut held = hold_every_slot(&srv).await;
    const FLOOD: usize = 300;
    let done = Arc::new(AtomicUsize::new(0));
    let mut flood = Vec::new();
    for i in 0..FLOOD {
        let (srv, http, app, done) = (srv.clone(), attacker.clone(), app.clone(), done.clone());
        flood.push(tokio::spawn(async move {
            let made_up = format!("made-up-{i}");
            let form = [("grant_type", "refresh_token"), ("refresh_token", &made_up), ("client_id", &app.client_id)];
            let resp = http.post(srv.url("/oauth2/token")).form(&form).send().await.unwrap();
            let status = resp.status().as_u16();
            let body: serde_json::Value = resp.json().await.unwrap();
            done.fetch_add(1, Ordering::SeqCst);
            (status, body["error"].as_str().unwrap_or_default().to_owned())
        }));
    }
    until("the flood waits", || srv.state.grants.waiting() == FLOOD).await;

    // Alice's app refreshes her tokens from her own address, behind the flood.
    let refresh = {
        let (srv, app) = (srv.clone(), app.clone());
        tokio::spawn(async move {
            let form =
                [("grant_type", "refresh_token"), ("refresh_token", &refresh_token), ("client_id", &app.client_id)];
            user.post(srv.url("/oauth2/token")).form(&form).send().await.unwrap().status().as_u16()
        })
    };
    until("alice's refresh waits too", || srv.state.grants.waiting() == FLOOD + 1).await;
    // Two requests of another client, which take the slots back at their turns.
    let meter: Vec<_> = (0..2)
        .map(|_| {
            let srv = srv.clone();
            tokio::spawn(async move { srv.state.grants.admit("meter", Source::of(None)).await.unwrap() })
        })
        .collect();
    until("the meter waits", || srv.state.grants.waiting() == FLOOD + 3).await;

    // Each slot freed goes to the app, then to the meter: the app had two turns. The first
    // went to the flood (its address came first), the second to alice.
    drop(held.pop());
    drop(held.pop());
    let mut meter_slots = Vec::new();
    for m in meter {
        meter_slots.push(m.await.unwrap());
    }
    let status = tokio::time::timeout(Duration::from_secs(30), refresh).await;
    assert!(matches!(status, Ok(Ok(200))), "alice's refresh was let in at the app's second turn: {status:?}");
    until("the flood's one grant is answered", || done.load(Ordering::SeqCst) == 1).await;
    assert_eq!(srv.state.grants.waiting(), FLOOD - 1, "the rest of the flood still waits");

    // The flood is answered in full, each with the protocol's error.
    drop(meter_slots);
    for t in flood {
        assert_eq!(t.await.unwrap(), (400, "invalid_grant".to_owned()));
    }
    assert_eq!((srv.state.grants.in_flight(), srv.state.grants.waiting()), (0, 0));
    Arc::into_inner(srv).unwrap().stop().await;
}

async fn requests_that_give_up_lose_no_slot(b: Backend) {
    let Some(srv) = server(b).await else { return };
    let srv = Arc::new(srv);
    let flooder = Arc::new(service(&srv, "Batch job").await);
    let other = service(&srv, "Checkout").await;

    // 200 grants waiting for taken slots, whose connections close after a moment.
    let held = hold_every_slot(&srv).await;
    let impatient = reqwest::Client::builder().timeout(Duration::from_millis(300)).build().unwrap();
    let mut flood = Vec::new();
    for _ in 0..200 {
        let (srv, http, app) = (srv.clone(), impatient.clone(), flooder.clone());
        flood.push(tokio::spawn(async move { grant(&http, &srv, &app).await }));
    }
    for t in flood {
        let e = t.await.unwrap().expect_err("no slot was free");
        assert!(e.is_timeout(), "{e}");
    }
    // They leave their places as their connections close, before any slot frees.
    until("the requests that gave up leave", || srv.state.grants.waiting() == 0).await;
    assert_eq!(srv.state.grants.in_flight(), IN_FLIGHT);

    // The slots freed: nothing is left waiting or held (a request the server read just as its
    // client gave up may pass through first), and both clients are served.
    drop(held);
    until("the slots are free", || srv.state.grants.in_flight() == 0 && srv.state.grants.waiting() == 0).await;
    let http = reqwest::Client::new();
    let mut burst = vec![grant(&http, &srv, &flooder)];
    for _ in 0..3 * IN_FLIGHT {
        burst.push(grant(&http, &srv, &other));
    }
    for status in futures_util::future::join_all(burst).await {
        assert_eq!(status.unwrap(), 200);
    }
    assert_eq!((srv.state.grants.in_flight(), srv.state.grants.waiting()), (0, 0));
    Arc::into_inner(srv).unwrap().stop().await;
}
