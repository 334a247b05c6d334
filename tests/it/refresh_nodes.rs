//! Refresh rotations and client registrations across server processes on one database:
//! - a node killed outright (SIGKILL) in the middle of a flood of rotations — which share
//!   transactions on SQLite (group commit) — loses none that it answered;
//! - one refresh token presented to two nodes at once has exactly one winner;
//! - a client's secret rotated, or its app removed, by another process (the CLI, another node)
//!   stops working on every node within the cache's recheck interval.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::both_databases;
use crate::common::*;

both_databases!(
    a_crash_loses_no_answered_rotation,
    one_token_at_two_nodes_has_one_winner,
    client_changes_reach_every_node
);

/// Nodes with alice and an app made through the CLI (public unless `secret`); returns the
/// app's `--json` answer.
async fn nodes_with_app(b: Backend, n: usize, public: bool) -> Option<(Nodes, serde_json::Value)> {
    let nodes = Nodes::start(b, n).await?;
    nodes.add_user("alice");
    let mut args = vec!["app", "add-oidc", "--name", "RP", "--redirect-uri", REDIRECT, "--json"];
    if public {
        args.push("--public");
    }
    let out = nodes.cli(&args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    Some((nodes, serde_json::from_slice(&out.stdout).unwrap()))
}

async fn refresh_at(
    http: &reqwest::Client,
    base: &str,
    client_id: &str,
    token: &str,
) -> reqwest::Result<(u16, serde_json::Value)> {
    let resp = http
        .post(format!("{base}/oauth2/token"))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", token), ("client_id", client_id)])
        .send()
        .await?;
    let status = resp.status().as_u16();
    Ok((status, resp.json().await?))
}

async fn a_crash_loses_no_answered_rotation(b: Backend) {
    let Some((mut nodes, app)) = nodes_with_app(b, 1, true).await else { return };
    let client_id = app["client_id"].as_str().unwrap().to_owned();
    let base = nodes.bases[0].clone();
    let mut chains = Vec::new();
    for _ in 0..16 {
        let t = tokens_from(&base, &client_id).await;
        chains.push(Arc::new(Mutex::new(t["refresh_token"].as_str().unwrap().to_owned())));
    }
    let answered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let mut set = tokio::task::JoinSet::new();
    for chain in &chains {
        let (chain, answered, http, base, client_id) =
            (chain.clone(), answered.clone(), http.clone(), base.clone(), client_id.clone());
        set.spawn(async move {
            loop {
                let token = chain.lock().unwrap().clone();
                match refresh_at(&http, &base, &client_id, &token).await {
                    Ok((200, body)) => {
                        *chain.lock().unwrap() = body["refresh_token"].as_str().unwrap().to_owned();
                        answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    Ok((status, body)) => panic!("refused while the node was up: {status} {body}"),
                    // The node is gone: this chain's last answered token is the one it holds.
                    Err(_) => return,
                }
            }
        });
    }
    let started = Instant::now();
    while answered.load(std::sync::atomic::Ordering::Relaxed) < 300 {
        assert!(started.elapsed() < Duration::from_secs(60), "the rotations did not get going");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    nodes.kill(0);
    while set.join_next().await.is_some() {}

    // Every token a client was given is in the database: unused, or used by a rotation whose
    // answer the crash cut off (which is the client's to retry, not a lost grant).
    let state = nodes.state(|_| {}).await;
    let mut unused = Vec::new();
    for chain in &chains {
        let token = chain.lock().unwrap().clone();
        let row = portcullis::oidc::token::locate_refresh_token(&state, &token).await.unwrap();
        let row = row.unwrap_or_else(|| panic!("an answered refresh token names no row"));
        let found = portcullis::store::grants::find_by_refresh_token(&state.db, &row).await.unwrap();
        let (_, used, _) = found.unwrap_or_else(|| panic!("an answered refresh token was lost in the crash"));
        if !used {
            unused.push(token);
        }
    }
    state.db.close().await;
    // A node started again carries on every chain whose answered token is unused.
    let i = nodes.spawn(&[]).await;
    let base = nodes.bases[i].clone();
    for token in &unused {
        let (status, body) = refresh_at(&http, &base, &client_id, token).await.unwrap();
        assert_eq!(status, 200, "{body}");
    }
}

async fn one_token_at_two_nodes_has_one_winner(b: Backend) {
    let Some((nodes, app)) = nodes_with_app(b, 2, true).await else { return };
    let client_id = app["client_id"].as_str().unwrap();
    let http = reqwest::Client::new();
    for round in 0..3 {
        let token = tokens_from(&nodes.bases[0], client_id).await["refresh_token"].as_str().unwrap().to_owned();
        let answers =
            futures_util::future::join_all((0..16).map(|i| refresh_at(&http, &nodes.bases[i % 2], client_id, &token)))
                .await;
        let answers: Vec<(u16, serde_json::Value)> = answers.into_iter().map(Result::unwrap).collect();
        let winners: Vec<&serde_json::Value> = answers.iter().filter(|(s, _)| *s == 200).map(|(_, b)| b).collect();
        assert_eq!(winners.len(), 1, "round {round}: {answers:?}");
        for (status, body) in answers.iter().filter(|(s, _)| *s != 200) {
            assert_eq!((*status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
        }
        // The losers were reuse: the winner's new token went with its family.
        let next = winners[0]["refresh_token"].as_str().unwrap();
        let (status, body) = refresh_at(&http, &nodes.bases[1], client_id, next).await.unwrap();
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    }
}

/// What the token endpoint says of a client authenticating with `secret` (the refresh token
/// is made up, so a client that authenticates gets `invalid_grant`, one that does not
/// `invalid_client`).
async fn client_check(http: &reqwest::Client, base: &str, client_id: &str, secret: &str) -> String {
    let resp = http
        .post(format!("{base}/oauth2/token"))
        .basic_auth(client_id, Some(secret))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "made-up")])
        .send()
        .await
        .unwrap();
    resp.json::<serde_json::Value>().await.unwrap()["error"].as_str().unwrap().to_owned()
}

/// Waits until every node says `want` for `secret`; returns how long that took.
async fn until_every_node(nodes: &Nodes, client_id: &str, secret: &str, want: &str) -> Duration {
    let http = reqwest::Client::new();
    let started = Instant::now();
    for base in &nodes.bases {
        loop {
            let got = client_check(&http, base, client_id, secret).await;
            if got == want {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(5), "{base} still says {got}, not {want}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    started.elapsed()
}

async fn client_changes_reach_every_node(b: Backend) {
    let Some((nodes, app)) = nodes_with_app(b, 2, false).await else { return };
    let client_id = app["client_id"].as_str().unwrap().to_owned();
    let old = app["client_secret"].as_str().unwrap().to_owned();
    // Both nodes have the client cached (it authenticates at each).
    until_every_node(&nodes, &client_id, &old, "invalid_grant").await;

    // Another process rotates the secret (as another node's admin would).
    let state = nodes.state(|_| {}).await;
    let registered = portcullis::admin::apps::find(&state, &client_id).await.unwrap();
    let admin = portcullis::admin::Admin::operator();
    let new = portcullis::admin::apps::rotate_secret(&state, &admin, &registered).await.unwrap();
    let took = until_every_node(&nodes, &client_id, &old, "invalid_client").await;
    assert!(took < Duration::from_secs(2), "the old secret worked for {took:?} after the rotation");
    until_every_node(&nodes, &client_id, new.expose(), "invalid_grant").await;
    state.db.close().await;

    // The CLI removes the app: the new secret stops working everywhere too.
    let out = nodes.cli(&["app", "remove", &client_id]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let took = until_every_node(&nodes, &client_id, new.expose(), "invalid_client").await;
    assert!(took < Duration::from_secs(2), "a removed client authenticated for {took:?}");
}
