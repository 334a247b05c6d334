//! No settings change can lock everyone out (DESIGN §5): policies nothing allowed could meet
//! are refused with an error naming the keys, globally, for groups and for apps (and `passkey`
//! where passkeys cannot work); an admin who raises the policy above their own account is
//! warned, and the save still says "saved". `portcullis settings` is the break-glass: it works
//! while a server runs (which picks the change up at the next login) and is audited as done
//! from the CLI.

use serde_json::json;

use crate::both_databases;
use crate::common::*;

both_databases!(contradictions_are_refused, cli_break_glass_with_the_server_running);

async fn contradictions_are_refused(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    assert!(!srv.state.passkeys.available(), "no passkeys on an IP-address issuer");
    srv.add_admin("root").await;
    let app = srv.add_client(false).await;
    let admin = reqwest::Client::builder().cookie_store(true).build().unwrap();
    assert_eq!(api_login(&srv, &admin, "root").await.0, 200);
    let before = portcullis::store::settings::load(&srv.state.db).await.unwrap();
    let patch = |body: serde_json::Value| {
        let admin = admin.clone();
        let url = srv.url("/api/v1/admin/settings");
        async move {
            let resp = admin.patch(url).json(&body).send().await.unwrap();
            (resp.status().as_u16(), resp.json::<serde_json::Value>().await.unwrap())
        }
    };
    for (body, needles) in [
        (json!({"mfa_policy": "passkey", "mfa_allowed_factors": ["totp"]}), vec!["mfa_policy", "mfa_allowed_factors"]),
        (json!({"mfa_policy": "otp", "mfa_allowed_factors": []}), vec!["mfa_policy", "mfa_allowed_factors"]),
        (json!({"mfa_policy": "passkey"}), vec!["mfa_policy", "passkeys need a domain name"]),
        (json!({"mfa_enforce_enrollment": true, "mfa_allowed_factors": ["passkey"]}), vec!["mfa_enforce_enrollment"]),
    ] {
        let (status, err) = patch(body.clone()).await;
        assert_eq!(status, 400, "{body}: {err}");
        let text = err["error_description"].as_str().unwrap();
        for n in needles {
            assert!(text.contains(n), "{body}: `{n}` in {text}");
        }
    }
    // Groups and apps: the same rule, naming the group or app.
    let resp =
        admin.put(srv.url("/api/v1/admin/groups/staff")).json(&json!({"mfa_policy": "passkey"})).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("group `staff`"));
    let resp = admin
        .patch(srv.url(&format!("/api/v1/admin/apps/{}", app.app_id)))
        .json(&json!({"mfa_policy": "passkey"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("app `Test RP`"));
    // A change that would break an existing group minimum is refused too.
    let resp =
        admin.put(srv.url("/api/v1/admin/groups/staff")).json(&json!({"mfa_policy": "otp"})).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let (status, err) = patch(json!({"mfa_allowed_factors": []})).await;
    assert_eq!(status, 400);
    assert!(err["error_description"].as_str().unwrap().contains("group `staff`"), "{err}");
    assert_eq!(portcullis::store::settings::load(&srv.state.db).await.unwrap(), before, "nothing was half-written");

    // Raising the policy above what the admin's own account can pass: saved, with a warning.
    let (status, body) = patch(json!({"mfa_policy": "any"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["mfa_policy"], "any");
    assert!(body["warnings"][0].as_str().unwrap().contains("Your own account has no"), "{body}");
    // Every login still has a way through: the admin is sent to enrolment, not denied.
    let (status, body) = api_login(&srv, &reqwest::Client::new(), "root").await;
    assert_eq!((status, body["mfa_enrollment_required"].as_bool()), (200, Some(true)), "{body}");
    srv.stop().await;
}

fn run(nodes: &Nodes, args: &[&str]) -> (bool, String, String) {
    let out = nodes.cli(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn cli_break_glass_with_the_server_running(b: Backend) {
    let Some(nodes) = Nodes::start(b, 1).await else { return };
    nodes.add_user("alice");
    let login = |base: String| async move {
        let (status, body) = api_post(
            &reqwest::Client::new(),
            &format!("{base}/api/v1/auth/login"),
            json!({"username": "alice", "password": PASSWORD}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        body
    };
    assert_eq!(login(nodes.bases[0].clone()).await["authenticated"], true);

    let (ok, out, _) = run(&nodes, &["settings", "get", "mfa_policy"]);
    assert!(ok);
    assert_eq!(out.trim(), "optional");
    // Contradictions are refused here too, naming the keys; nothing changes.
    let (ok, _, err) = run(&nodes, &["settings", "set", "mfa_allowed_factors", "totp"]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(&nodes, &["settings", "set", "mfa_policy", "passkey"]);
    assert!(!ok && err.contains("mfa_policy") && err.contains("mfa_allowed_factors"), "{err}");
    let (ok, _, err) = run(&nodes, &["settings", "set", "no_such_key", "1"]);
    assert!(!ok && err.contains("no_such_key"), "{err}");
    // A change the running server picks up at the next login.
    let (ok, out, err) = run(&nodes, &["settings", "set", "mfa_policy", "any", "--json"]);
    assert!(ok, "{err}");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&out).unwrap()["value"], "any");
    assert_eq!(login(nodes.bases[0].clone()).await["mfa_enrollment_required"], true);
    // The way back: the break-glass undoes it.
    let (ok, _, err) = run(&nodes, &["settings", "set", "mfa_policy", "optional"]);
    assert!(ok, "{err}");
    assert_eq!(login(nodes.bases[0].clone()).await["authenticated"], true);
    // Group minimums and app policies.
    let (ok, _, err) = run(&nodes, &["settings", "group", "staff", "passkey"]);
    assert!(!ok && err.contains("group `staff`"), "{err}");
    let (ok, _, err) = run(&nodes, &["settings", "group", "staff", "otp"]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(&nodes, &["settings", "group", "staff", "none"]);
    assert!(ok, "{err}");
    let (ok, out, err) =
        run(&nodes, &["app", "add-oidc", "--name", "Wiki", "--redirect-uri", "https://wiki.example/cb", "--json"]);
    assert!(ok, "{err}");
    let client_id = serde_json::from_str::<serde_json::Value>(&out).unwrap()["client_id"].as_str().unwrap().to_owned();
    let (ok, out, err) =
        run(&nodes, &["settings", "app", &client_id, "otp", "--reauth-interval-minutes", "15", "--json"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["policy"]["mfa_policy"].as_str(), v["policy"]["reauth_interval_minutes"].as_i64()),
        (Some("otp"), Some(15))
    );

    // Audited as done from the CLI.
    nodes.add_admin("root");
    let admin = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let (status, _) = api_post(
        &admin,
        &format!("{}/api/v1/auth/login", nodes.bases[0]),
        json!({"username": "root", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 200);
    let audit: serde_json::Value = admin
        .get(format!("{}/api/v1/admin/audit?event=settings.changed", nodes.bases[0]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = audit["entries"].as_array().unwrap();
    assert!(entries.len() >= 5, "{audit}");
    assert!(entries.iter().all(|e| e["ip"] == "cli" && e["user_id"].is_null()), "{audit}");
}
