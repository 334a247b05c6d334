//! The OpenAPI 3.1 document at `/api/v1/openapi.json`: it is served, every operation it names
//! is a route of the live server, and schemathesis (PyPI, pinned in
//! `tests/clients/requirements.txt`, installed into `tests/clients/.venv` by the test command)
//! fuzzes the live server as a signed-in administrator: no answer is a 5xx, and every answer
//! has a documented status, content type, headers and a body that conforms to its schema.
//! (That no route is missing from the document is the unit test in `src/http/api/openapi.rs`.)

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::both_databases;
use crate::common::*;

both_databases!(every_documented_operation_is_a_route, schemathesis_finds_no_server_error_or_nonconformance);

async fn document(srv: &TestServer) -> Value {
    let resp = reqwest::get(srv.url("/api/v1/openapi.json")).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    resp.json().await.unwrap()
}

async fn every_documented_operation_is_a_route(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let doc = document(&srv).await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["servers"][0]["url"], srv.issuer());
    let http = reqwest::Client::new();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        // Each path parameter filled with a value no object has.
        let concrete: String = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "no-such-thing" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        for method in item.as_object().unwrap().keys() {
            operations += 1;
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let mut req = http.request(m, srv.url(&concrete));
            if method != "get" {
                req = req.json(&json!({}));
            }
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap();
            // Without a session nothing reaches an object: a route answers 401, 400 or 200,
            // never "no such route" (404) or "no such method" (405), never a server error.
            assert!(
                !matches!(status, 404 | 405) && status < 500,
                "{method} {path}: {status} {text} — documented but not routed as documented"
            );
            if status >= 400 {
                let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{method} {path}: {text}"));
                assert!(body["error"].is_string() && body["error_description"].is_string(), "{method} {path}: {body}");
            }
        }
    }
    assert!(operations > 70, "only {operations} operations documented");
    srv.stop().await;
}

fn schemathesis() -> Option<PathBuf> {
    let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients/.venv/bin/schemathesis");
    if bin.exists() {
        return Some(bin);
    }
    assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "CI=true but {} is missing", bin.display());
    skip(&format!("the OpenAPI fuzzing: {} is missing (scripts/test installs schemathesis there)", bin.display()));
    None
}

/// The session cookie (`name=value`) of a JSON sign-in as `username`.
async fn session_cookie(srv: &TestServer, username: &str) -> String {
    let resp = reqwest::Client::new()
        .post(srv.url("/api/v1/auth/login"))
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .find(|c| c.contains("portcullis_session="))
        .expect("a session cookie");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["authenticated"], true, "{body}");
    cookie
}

async fn schemathesis_finds_no_server_error_or_nonconformance(b: Backend) {
    let Some(bin) = schemathesis() else { return };
    let Some(srv) = TestServer::start(b).await else { return };
    srv.add_admin("root").await;
    // Things for the fuzzer to find beside what it makes: a user, a group, an app.
    srv.add_user("alice").await;
    srv.add_client(false).await;
    let cookie = session_cookie(&srv, "root").await;
    let resp = reqwest::Client::new()
        .put(srv.url("/api/v1/admin/groups/staff"))
        .header("cookie", &cookie)
        .json(&json!({"mfa_policy": "optional"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // Every operation but two; the global settings on their own, below: a fuzzed settings
    // change may ask a second factor of every administrator (the policy `any`), and this one
    // has none, so the rest of the run would test only that refusal. The password change
    // would end the fuzzer's session. (The fuzzer finds `root` in the lists it reads and
    // tries it: the admin API refuses an administrator's tools on their own account.)
    let everything_else = ["--exclude-operation-id", "settings_patch", "--exclude-operation-id", "password_change"];
    run_schemathesis(&bin, &srv, &cookie, &everything_else).await;
    // It got past the refusals (it may still lock `root` out on its own, e.g. by putting
    // them in a group and raising the group's policy): much of the API answered it with
    // success, by the server's own count (`/metrics`, by route template).
    let metrics = reqwest::get(srv.url("/metrics")).await.unwrap().text().await.unwrap();
    let succeeded: std::collections::BTreeSet<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("portcullis_http_requests_total{") && l.contains("status=\"2"))
        .filter_map(|l| l.split("route=\"").nth(1)?.split('"').next())
        .filter(|route| route.starts_with("/api/v1/"))
        .collect();
    assert!(succeeded.len() >= 25, "only {} routes answered the fuzzer with success: {succeeded:?}", succeeded.len());
    srv.stop().await;

    // The global settings, on a server of their own.
    let Some(srv) = TestServer::start(b).await else { return };
    srv.add_admin("root").await;
    let cookie = session_cookie(&srv, "root").await;
    run_schemathesis(&bin, &srv, &cookie, &["--include-operation-id", "settings_patch"]).await;
    srv.stop().await;
}

async fn run_schemathesis(bin: &PathBuf, srv: &TestServer, cookie: &str, filter: &[&str]) {
    let reports = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(bin);
    // Its cache (`.schemathesis/`) goes with the reports, not into the checkout.
    cmd.current_dir(reports.path())
        .arg("run")
        .arg(srv.url("/api/v1/openapi.json"))
        .args(["--url", srv.issuer()])
        .args(["--header", &format!("Cookie: {cookie}")])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,\
             response_headers_conformance,response_schema_conformance",
        ])
        .args(filter)
        .args(["--max-examples", "30", "--workers", "2", "--request-timeout", "30"])
        .args(["--report", "junit", "--report-junit-path"])
        .arg(reports.path().join("junit.xml"))
        .env("NO_COLOR", "1")
        .env("PYTHONPATH", concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients"))
        .env("SCHEMATHESIS_HOOKS", "schemathesis_hooks")
        .env("SCHEMATHESIS_TELEMETRY", "false");
    // The server answers on this runtime meanwhile.
    let out = tokio::task::spawn_blocking(move || cmd.output()).await.unwrap().expect("run schemathesis");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "schemathesis {filter:?} found problems:\n{stdout}\n{stderr}");
    // A run that tested nothing would pass too.
    let junit = std::fs::read_to_string(reports.path().join("junit.xml")).unwrap_or_default();
    assert!(junit.matches("<testcase").count() >= 1, "schemathesis {filter:?} tested nothing:\n{stdout}");
}
