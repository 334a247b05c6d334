//! Compilation is budgeted (DESIGN §3): a component within every limit read before compiling
//! can still be expensive to compile, so compilation runs in a child process that the kernel
//! stops at `plugins.compile_memory_mib` and `plugins.compile_seconds`. The server keeps
//! nothing of a refused component (no artefact, no row), answers the uploader naming the limit,
//! compiles identical bytes once however many ask at the same time, and goes on compiling
//! ordinary plugins afterwards.

use std::time::{Duration, Instant};

use portcullis::config::PluginsConfig;
use portcullis::mfa::policy::Policy;
use portcullis::plugin_host::PluginHost;

use crate::both_databases;
use crate::common::*;
use crate::plugin_fixtures as fx;
use crate::plugins_login::{admin_client, upload};

/// Values kept live at once by the expensive fixtures: 600 KiB of component that takes about
/// 150 MiB to compile, and 2.4 MiB that takes about 3 s of CPU (measured on this project's
/// 2-core machines, debug build).
const LIVE: usize = 200_000;
const LIVE_SLOW: usize = 800_000;

fn cached_files(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default()
}

fn assert_still_compiles(h: &PluginHost) {
    let bytes = fx::fixed(Policy::Otp);
    let p = h.compile(&hex::encode(portcullis::crypto::sha256(&bytes)), &bytes).expect("an ordinary plugin compiles");
    let e = h.evaluate_blocking(&p, &h.default_limits(), &fx::context());
    assert_eq!(e.outcome.unwrap().policy, Policy::Otp);
}

#[test]
fn the_memory_budget_stops_the_compiler() {
    let dir = tempfile::tempdir().unwrap();
    let caps = PluginsConfig { compile_memory_mib: 64, compile_seconds: 120, ..plugin_caps() };
    let h = PluginHost::new(&caps, Some(dir.path().to_path_buf())).unwrap();
    let bytes = fx::slow_to_compile(LIVE);
    assert!(bytes.len() < 1024 * 1024, "small: {} bytes", bytes.len());
    let err = h.compile("heavy", &bytes).err().expect("over the memory budget");
    assert!(err.contains("compile budget of 64 MiB (plugins.compile_memory_mib)"), "{err}");
    assert!(h.loaded("heavy").is_none());
    assert!(cached_files(dir.path()).is_empty(), "nothing cached: {:?}", cached_files(dir.path()));
    assert_still_compiles(&h);
}

#[test]
fn the_time_budget_stops_the_compiler() {
    let dir = tempfile::tempdir().unwrap();
    let caps = PluginsConfig { compile_seconds: 1, compile_memory_mib: 16 * 1024, ..plugin_caps() };
    let h = PluginHost::new(&caps, Some(dir.path().to_path_buf())).unwrap();
    let started = Instant::now();
    let err = h.compile("heavy", &fx::slow_to_compile(LIVE_SLOW)).err().expect("over the time budget");
    assert!(err.contains("compile budget of 1 s (plugins.compile_seconds)"), "{err}");
    // One CPU second, or three on the wall clock when the machine is busy: then it is killed.
    assert!(started.elapsed() < Duration::from_secs(20), "stopped, not left to finish: {:?}", started.elapsed());
    assert!(cached_files(dir.path()).is_empty());
    assert_still_compiles(&h);
}

/// A compiler that is not a Portcullis compiler (here: a program that prints nothing useful)
/// produces no artefact wasmtime accepts, and that is said, not trusted.
#[test]
fn an_artefact_must_come_from_a_compatible_engine() {
    let caps = PluginsConfig { compiler_program: "/bin/echo".into(), ..plugin_caps() };
    let h = PluginHost::new(&caps, None).unwrap();
    let err = h.compile("echo", &fx::fixed(Policy::Otp)).err().expect("refused");
    assert!(err.contains("did not produce a usable artefact"), "{err}");
}

/// Artefacts no stored plugin uses (an upload that failed after compiling, a version deleted
/// on another node, an older engine's) are swept from the disk cache, once old enough.
#[test]
fn unused_artefacts_are_swept() {
    let dir = tempfile::tempdir().unwrap();
    let h = PluginHost::new(&plugin_caps(), Some(dir.path().to_path_buf())).unwrap();
    let (a, b) = (fx::fixed(Policy::Otp), fx::fixed(Policy::Any));
    let (sha_a, sha_b) = (hex::encode(portcullis::crypto::sha256(&a)), hex::encode(portcullis::crypto::sha256(&b)));
    h.compile(&sha_a, &a).unwrap();
    h.compile(&sha_b, &b).unwrap();
    std::fs::write(dir.path().join(format!("{sha_a}-0123456789abcdef.cwasm")), b"an older engine's").unwrap();
    let used: std::collections::HashSet<String> = [sha_a.clone()].into();
    assert_eq!(h.sweep_cache(&used, Duration::from_secs(3600)), 0, "nothing old enough yet");
    assert_eq!(h.sweep_cache(&used, Duration::ZERO), 2);
    let left = cached_files(dir.path());
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].starts_with(&sha_a));
}

both_databases!(
    an_upload_over_budget_is_refused_naming_the_limit,
    an_upload_outlasts_the_request_deadline_within_its_compile_budget
);

async fn an_upload_over_budget_is_refused_naming_the_limit(b: Backend) {
    let opts = Options { tweak: Box::new(|c| c.plugins.compile_memory_mib = 64), ..Options::default() };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    let admin = admin_client(&srv).await;
    let heavy = fx::slow_to_compile(LIVE);
    let compiles = srv.state.plugins.compiles();
    let mut uploads = tokio::task::JoinSet::new();
    for i in 0..4 {
        let (admin, url, body) =
            (admin.clone(), srv.url(&format!("/api/v1/admin/plugins?name=heavy-{i}")), heavy.clone());
        uploads.spawn(async move {
            let r = admin.post(url).header("content-type", "application/wasm").body(body).send().await.unwrap();
            (r.status().as_u16(), r.json::<serde_json::Value>().await.unwrap())
        });
    }
    for (status, body) in uploads.join_all().await {
        assert_eq!(status, 400, "{body}");
        let text = body.to_string();
        assert!(text.contains("compile budget of 64 MiB (plugins.compile_memory_mib)"), "{body}");
    }
    assert_eq!(srv.state.plugins.compiles() - compiles, 1, "four uploads of the same bytes, one compilation");
    let list: serde_json::Value =
        admin.get(srv.url("/api/v1/admin/plugins")).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["plugins"], serde_json::json!([]), "nothing stored");
    let cache = srv.state.config.plugin_cache_dir();
    assert!(cached_files(&cache).is_empty(), "nothing cached: {:?}", cached_files(&cache));
    // The server goes on: an ordinary plugin uploads and compiles.
    upload(&srv, &admin, "fine", fx::fixed(Policy::Otp)).await;
    srv.stop().await;
}

/// A compiler that waits `seconds` (holding none of the pipes) before it runs the real one, as a
/// busy machine makes it do; the directory keeps the script.
fn late_compiler(seconds: u32) -> (tempfile::TempDir, String) {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("late-compiler");
    let real = env!("CARGO_BIN_EXE_portcullis");
    std::fs::write(&path, format!("#!/bin/sh\nsleep {seconds} </dev/null >/dev/null 2>&1\nexec '{real}' \"$@\"\n"))
        .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let program = path.to_string_lossy().into_owned();
    (dir, program)
}

/// Compiling is bounded by its own budget, not by the request deadline
/// (`server.request_timeout_seconds`): an upload whose compile outlasts that deadline is
/// stored and answered when the compile ends, and one whose compile outlasts its budget is
/// answered with the budget's name, not with a generic "busy" while the compile goes on. Every
/// other request keeps the ordinary deadline (the `http::deadline` unit tests).
async fn an_upload_outlasts_the_request_deadline_within_its_compile_budget(b: Backend) {
    let (_late, program) = late_compiler(3);
    let opts = Options {
        tweak: Box::new(move |c| {
            c.server.request_timeout_seconds = 1;
            c.plugins.compiler_program = program;
        }),
        ..Options::default()
    };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    let admin = admin_client(&srv).await;
    let started = Instant::now();
    let plugin = upload(&srv, &admin, "late", fx::fixed(Policy::Otp)).await;
    assert!(started.elapsed() >= Duration::from_secs(3), "the compile did wait: {:?}", started.elapsed());
    assert_eq!(plugin["name"], "late", "{plugin}");
    // The admin page's upload form has the same deadline.
    let page = signed_in(&srv, "root").await;
    let csrf = hidden_input(&get_page(&page, &srv, "/admin/plugins").await, "csrf").unwrap();
    let form = crate::plugin_pages::upload_form(Some(&csrf), "late-page", fx::fixed(Policy::Any));
    let started = Instant::now();
    let resp = page.post(srv.url("/admin/plugins")).multipart(form).send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(3), "the compile did wait: {:?}", started.elapsed());
    assert_eq!(resp.status(), 303, "{}", resp.text().await.unwrap());
    assert_eq!(portcullis::store::plugins::list(&srv.state.db).await.unwrap().len(), 2);
    srv.stop().await;

    // Over its budget (one CPU second, so killed after three on the wall clock): the budget's
    // answer, two seconds past the ordinary deadline.
    let (_later, program) = late_compiler(30);
    let opts = Options {
        tweak: Box::new(move |c| {
            c.server.request_timeout_seconds = 1;
            c.plugins.compile_seconds = 1;
            c.plugins.compiler_program = program;
        }),
        ..Options::default()
    };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    let admin = admin_client(&srv).await;
    let resp = admin
        .post(srv.url("/api/v1/admin/plugins?name=later"))
        .header("content-type", "application/wasm")
        .body(fx::fixed(Policy::Otp))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("compile budget of 1 s (plugins.compile_seconds)"), "{body}");
    srv.stop().await;
}
