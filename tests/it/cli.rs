//! The `portcullis` binary: configuration errors name the key, admin subcommands print JSON
//! that scripts can read, and `serve` stops gracefully on SIGTERM.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::both_databases;
use crate::common::*;

both_databases!(admin_commands_with_json, serve_and_sigterm, plugin_commands, config_documents_through_the_binary);

struct Env {
    dir: tempfile::TempDir,
    db_url: String,
    _schema: Option<PgSchema>,
}

async fn env(b: Backend) -> Option<Env> {
    let dir = tempfile::tempdir().unwrap();
    match b {
        Backend::Sqlite => Some(Env { dir, db_url: String::new(), _schema: None }),
        Backend::Postgres => {
            let url = std::env::var("PORTCULLIS_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty());
            let Some(url) = url else {
                assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "CI needs PORTCULLIS_TEST_POSTGRES_URL");
                skip("the PostgreSQL runs: PORTCULLIS_TEST_POSTGRES_URL is not set");
                return None;
            };
            let schema = PgSchema::create(&url, "cli").await;
            Some(Env { dir, db_url: schema.db_url(), _schema: Some(schema) })
        }
    }
}

impl Env {
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_portcullis"));
        c.args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PORTCULLIS_DATA_DIR", self.dir.path())
            .env("PORTCULLIS_DATABASE_URL", &self.db_url)
            .env("PORTCULLIS_DEV_MODE", "true")
            .env("PORTCULLIS_PASSWORD__INSECURE_TEST_PARAMS", "true")
            .env("PORTCULLIS_PASSWORD__MEMORY_KIB", "64")
            .env("PORTCULLIS_PASSWORD__ITERATIONS", "1");
        c
    }

    fn json(&self, args: &[&str], stdin: Option<&str>) -> serde_json::Value {
        let mut c = self.cmd(args);
        c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        if let Some(s) = stdin {
            child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
    }
}

#[test]
fn configuration_errors_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let run_cmd = |cmd: &str, envs: &[(&str, &str)], config: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_portcullis"));
        c.arg(cmd).current_dir(dir.path()).env_clear().env("PORTCULLIS_DATA_DIR", dir.path());
        if let Some(text) = config {
            let p = dir.path().join("bad.toml");
            std::fs::write(&p, text).unwrap();
            c.arg("--config").arg(p);
        }
        for (k, v) in envs {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let run = |envs: &[(&str, &str)], config: Option<&str>| run_cmd("migrate", envs, config);
    let (code, err) = run_cmd("serve", &[("PORTCULLIS_ISSUER", "http://idp.example.com")], None);
    assert_eq!(code, Some(2));
    assert!(err.contains("`issuer`"), "{err}");
    // Subcommands that serve nothing run with the default (http) issuer in an empty directory.
    let (code, err) = run(&[("PATH", &std::env::var("PATH").unwrap_or_default())], None);
    assert_eq!(code, Some(0), "{err}");
    let (code, err) = run(&[], Some("isuer = \"https://x\"\n"));
    assert_eq!(code, Some(2));
    assert!(err.contains("isuer"), "unknown keys are named: {err}");
    let (code, err) =
        run(&[("PORTCULLIS_TOKENS__SIGNING_ALG", "HS256"), ("PORTCULLIS_ISSUER", "https://idp.example")], None);
    assert_eq!(code, Some(2));
    assert!(err.contains("tokens.signing_alg"), "{err}");
    let (code, err) =
        run(&[("PORTCULLIS_ISSUER", "https://idp.example"), ("PORTCULLIS_PASSWORD__MEMORY_KIB", "1024")], None);
    assert_eq!(code, Some(2));
    assert!(err.contains("password.memory_kib"), "{err}");
    let (code, err) =
        run(&[("PORTCULLIS_ISSUER", "https://idp.example")], Some("[tokens]\ncode_ttl_seconds = 100000\n"));
    assert_eq!(code, Some(2));
    assert!(err.contains("tokens.code_ttl_seconds"), "{err}");
}

async fn admin_commands_with_json(b: Backend) {
    let Some(e) = env(b).await else { return };
    let user = e.json(
        &["user", "add", "bob", "--email", "bob@example.test", "--group", "ops", "--password-stdin", "--json"],
        Some("a long enough password\n"),
    );
    assert_eq!(user["username"], "bob");
    assert!(user["password"].is_null(), "a password read from stdin is not echoed");
    let generated = e.json(&["user", "add", "carol", "--json"], None);
    assert_eq!(generated["password"].as_str().unwrap().len(), 20);
    let dup = e.cmd(&["user", "add", "bob", "--json"]).output().unwrap();
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already exists"));
    let g = e.json(&["user", "group-add", "bob", "auditors", "--json"], None);
    assert_eq!(g["changed"], true);
    let g = e.json(&["user", "group-remove", "bob", "auditors", "--json"], None);
    assert_eq!(g["changed"], true);
    let missing = e.cmd(&["user", "group-add", "nobody", "auditors"]).output().unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no user `nobody`"));
    let users = e.json(&["user", "list", "--json"], None);
    assert_eq!(users.as_array().unwrap().len(), 2);
    assert!(users[0].get("password_hash").is_none(), "hashes never leave the database");
    let app = e.json(
        &[
            "app",
            "add-oidc",
            "--name",
            "Wiki",
            "--redirect-uri",
            "https://wiki.example/cb",
            "--scope",
            "api:read",
            "--json",
        ],
        None,
    );
    let client_id = app["client_id"].as_str().unwrap();
    // Generated ids must be safe to pass as a command-line argument (never a leading `-`).
    assert!(client_id.len() == 32 && client_id.bytes().all(|b| b.is_ascii_hexdigit()), "{client_id}");
    assert_eq!(app["client_secret"].as_str().unwrap().len(), 43);
    let shown = e.json(&["app", "show", client_id, "--json"], None);
    assert_eq!(shown["oidc"]["redirect_uris"], serde_json::json!(["https://wiki.example/cb"]));
    assert!(shown["oidc"]["allowed_scopes"].as_array().unwrap().iter().any(|s| s == "api:read"));
    assert!(shown.to_string().find(app["client_secret"].as_str().unwrap()).is_none(), "the secret is shown only once");
    let bad =
        e.cmd(&["app", "add-oidc", "--name", "X", "--redirect-uri", "http://evil.example/cb#x"]).output().unwrap();
    assert!(!bad.status.success());
    let key = e.json(&["keys", "rotate", "--alg", "ES256", "--json"], None);
    let keys = e.json(&["keys", "list", "--json"], None);
    assert_eq!(keys.as_array().unwrap().len(), 2);
    assert_eq!(keys[0]["kid"], key["kid"]);
    let pw = e.json(&["user", "set-password", "bob", "--json"], None);
    assert!(pw["password"].is_string());
    let reset = e.json(&["user", "reset-mfa", "bob", "--json"], None);
    assert_eq!(reset["mfa_reset"], true);
    e.json(&["user", "disable", "bob", "--json"], None);
    let removed = e.json(&["app", "remove", client_id, "--json"], None);
    assert_eq!(removed["removed"], app["app_id"]);
    assert!(e.json(&["app", "list", "--json"], None).as_array().unwrap().is_empty());
    // Every change above is in the audit log, as the operator's (no administrator account).
    let audit = e.json(&["audit", "--limit", "200", "--json"], None);
    let entries = audit.as_array().unwrap();
    let events: Vec<&str> = entries.iter().map(|e| e["event"].as_str().unwrap()).collect();
    for want in [
        "user.created",
        "app.created",
        "user.password_set",
        "mfa.factor_removed",
        "user.disabled",
        "app.removed",
        "security.event",
        "group.member_added",
        "group.member_removed",
    ] {
        assert!(events.contains(&want), "{want} missing from {events:?}");
    }
    assert!(entries.iter().all(|e| e["ip"] == "cli" && e["actor_id"].is_null()), "{audit}");
    let bob = e.json(&["audit", "--user", "bob", "--event", "user.created", "--json"], None);
    assert_eq!(bob.as_array().unwrap().len(), 1, "{bob}");
    assert!(bob[0]["detail"].as_str().unwrap().contains("\"ops\""), "{bob}");

    // A SAML service provider from its metadata (as samael's SP side writes it) and a PEM
    // certificate given beside it.
    use samael::traits::ToXml;
    let cert = crate::saml_registration::sp_certificate();
    let sp_side = samael::service_provider::ServiceProviderBuilder::default()
        .entity_id("https://hr.example/saml".to_string())
        .acs_url("https://hr.example/saml/acs".to_string())
        .build()
        .unwrap();
    let metadata = e.dir.path().join("hr.xml");
    std::fs::write(&metadata, sp_side.metadata().unwrap().to_string().unwrap()).unwrap();
    let pem = e.dir.path().join("hr.pem");
    let x509 = openssl::x509::X509::from_der(&cert).unwrap();
    std::fs::write(&pem, x509.to_pem().unwrap()).unwrap();
    let sp = e.json(
        &[
            "app",
            "add-saml",
            "--name",
            "HR",
            "--metadata",
            metadata.to_str().unwrap(),
            "--sp-certificate",
            pem.to_str().unwrap(),
            "--want-signed-requests",
            "--attribute",
            "mail=email",
            "--sign",
            "assertion",
            "--json",
        ],
        None,
    );
    assert_eq!(sp["acs"][0]["url"], "https://hr.example/saml/acs");
    assert_eq!(sp["want_requests_signed"], true);
    assert_eq!(sp["attributes"], serde_json::json!([{"name": "mail", "source": "email"}]));
    let shown = e.json(&["app", "show", "https://hr.example/saml", "--json"], None);
    assert_eq!(shown["app"]["protocol"], "saml");
    assert_eq!(shown["saml"]["entity_id"], "https://hr.example/saml");
    assert!(shown["oidc"].is_null());
    let missing = e.cmd(&["app", "add-saml", "--name", "X", "--acs-url", "https://x.example/acs"]).output().unwrap();
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("entity ID"),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
    let bad_attr = e
        .cmd(&[
            "app",
            "add-saml",
            "--name",
            "X",
            "--entity-id",
            "https://x.example",
            "--acs-url",
            "https://x.example/a",
            "--attribute",
            "mail",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&bad_attr.stderr).contains("NAME=SOURCE"));
}

async fn serve_and_sigterm(b: Backend) {
    let Some(e) = env(b).await else { return };
    // A port already taken stops the start before the first administrator is made: its
    // password is shown only once, by the start that goes on to serve.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = taken.local_addr().unwrap().port();
    let refused = e.cmd(&["serve", "--demo"]).env("PORTCULLIS_LISTEN", format!("127.0.0.1:{busy}")).output().unwrap();
    assert!(!refused.status.success());
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(why.contains(&format!("cannot listen on 127.0.0.1:{busy}")), "{why}");
    assert!(!String::from_utf8_lossy(&refused.stdout).contains("username: admin"));
    drop(taken);
    let Listening { child, port, stdout } = listening(None, |port| {
        let mut c = e.cmd(&["serve", "--demo"]);
        c.env("PORTCULLIS_LISTEN", format!("127.0.0.1:{port}"))
            .env("PORTCULLIS_ISSUER", format!("http://127.0.0.1:{port}"))
            .env("PORTCULLIS_LOG_FORMAT", "json")
            .stderr(Stdio::piped());
        c
    });
    let base = format!("http://127.0.0.1:{port}");
    assert!(wait_ready(&base).await, "server did not become ready");
    // The container health check: ready here, not on a port nothing listens on.
    let ready = e.cmd(&["health"]).env("PORTCULLIS_LISTEN", format!("0.0.0.0:{port}")).output().unwrap();
    assert!(ready.status.success(), "{}", String::from_utf8_lossy(&ready.stderr));
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let down = e.cmd(&["health", "--url", &format!("http://127.0.0.1:{closed}")]).output().unwrap();
    assert!(!down.status.success());
    let demo = reqwest::get(format!("{base}/demo")).await.unwrap();
    assert_eq!(demo.status(), 200);
    let secret_link = reqwest::get(format!("{base}/recover?token=NeverLogThisToken123")).await.unwrap();
    let link_request = secret_link.headers()["x-request-id"].to_str().unwrap().to_owned();
    let term = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(term.success());
    let status = tokio::task::spawn_blocking(move || child.wait_with_output()).await.unwrap().unwrap();
    assert!(status.status.success(), "graceful exit on SIGTERM: {status:?}");
    let stdout = stdout.join().unwrap();
    assert!(stdout.contains("username: admin"), "first start prints the admin account: {stdout}");
    assert!(stdout.contains("username: demo"));
    let stderr = String::from_utf8_lossy(&status.stderr);
    let first = stderr.lines().find(|l| l.contains("Portcullis is ready")).expect("ready log line");
    let v: serde_json::Value = serde_json::from_str(first).expect("JSON log lines");
    assert_eq!(v["fields"]["database"], if b == Backend::Sqlite { "sqlite" } else { "postgres" });
    assert!(stderr.contains("shutting down"));
    // One line per request: its id, method, path (never the query), status and latency; no colour.
    assert!(!stderr.contains('\u{1b}'), "no ANSI escapes when standard error is not a terminal");
    assert!(!stderr.contains("NeverLogThisToken123"), "tokens in query strings stay out of the log");
    let answered: Vec<serde_json::Value> = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["fields"]["message"] == "answered")
        .collect();
    let line = answered.iter().find(|v| v["span"]["request_id"] == link_request.as_str()).expect("the link's request");
    assert_eq!((line["span"]["method"].as_str(), line["span"]["path"].as_str()), (Some("GET"), Some("/recover")));
    assert_eq!(line["fields"]["status"], 200);
    assert!(line["fields"]["latency_ms"].as_f64().is_some(), "{line}");
}

async fn plugin_commands(b: Backend) {
    use crate::plugin_fixtures as fx;
    use portcullis::mfa::policy::Policy;
    let Some(e) = env(b).await else { return };
    let dir = e.dir.path();
    std::fs::write(dir.join("otp.wasm"), fx::fixed(Policy::Otp)).unwrap();
    std::fs::write(dir.join("trap.wasm"), fx::trap()).unwrap();
    std::fs::write(dir.join("ctx.json"), serde_json::to_string(&fx::context()).unwrap()).unwrap();

    // `plugin test` runs offline on a context file, for authors.
    let t = e.json(&["plugin", "test", "otp.wasm", "--context", "ctx.json", "--json"], None);
    assert_eq!(t["outcome"]["decision"]["policy"], "otp");
    // ...with no configuration at all (an author's machine): only `[plugins]` applies.
    let bare = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["plugin", "test", "otp.wasm", "--context", "ctx.json"])
        .current_dir(dir)
        .env_clear()
        .output()
        .unwrap();
    assert!(bare.status.success(), "{}", String::from_utf8_lossy(&bare.stderr));
    assert!(String::from_utf8_lossy(&bare.stdout).contains("otp"));
    let failed = e.cmd(&["plugin", "test", "trap.wasm", "--context", "ctx.json"]).output().unwrap();
    assert!(!failed.status.success());
    assert!(String::from_utf8_lossy(&failed.stdout).contains("failed (trap)"));
    std::fs::write(dir.join("bad.json"), "{}").unwrap();
    let bad = e.cmd(&["plugin", "test", "otp.wasm", "--context", "bad.json"]).output().unwrap();
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a login context"));

    // The registry: upload, assign, list, show, delete refused while assigned.
    let up = e.json(&["plugin", "upload", "otp.wasm", "--name", "otp", "--fuel", "1000000", "--json"], None);
    assert_eq!((up["version"].as_i64(), up["fuel"].as_i64()), (Some(1), Some(1_000_000)));
    let not_wasm = e.cmd(&["plugin", "upload", "ctx.json", "--name", "x"]).output().unwrap();
    assert!(String::from_utf8_lossy(&not_wasm.stderr).contains("not a WebAssembly component"));
    let a = e.json(&["plugin", "assign", "otp", "--global", "--mode", "shadow", "--json"], None);
    assert_eq!((a["mode"].as_str(), a["on_error"].as_str()), (Some("shadow"), Some("fail_secure")));
    e.json(&["plugin", "mode", "otp@1", "active", "--global", "--json"], None);
    let list = e.json(&["plugin", "list", "--json"], None);
    assert_eq!(list[0]["assignments"][0]["mode"], "active");
    let shown = e.json(&["plugin", "show", "otp", "--json"], None);
    assert_eq!(shown["stats"]["evaluations"], 0);
    let refused = e.cmd(&["plugin", "delete", "otp"]).output().unwrap();
    assert!(String::from_utf8_lossy(&refused.stderr).contains("assigned"));
    e.json(&["plugin", "assign", "otp", "--global", "--remove", "--json"], None);
    e.json(&["plugin", "delete", "otp@1", "--json"], None);
    assert_eq!(e.json(&["plugin", "list", "--json"], None), serde_json::json!([]));
}

/// `config export`, `config apply [--dry-run]` and `serve --apply` through the binary: the diff
/// on standard output, a broken document refused with its line and a failing exit status.
async fn config_documents_through_the_binary(b: Backend) {
    let Some(env) = env(b).await else { return };
    let run = |args: &[&str]| {
        let out = env.cmd(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, yaml, err) = run(&["config", "export"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(yaml.starts_with("# Portcullis configuration") && yaml.contains("version: 1"), "{yaml}");
    let file = env.dir.path().join("portcullis.yaml");
    let with_group = yaml.replace("groups: []", "groups:\n- name: ops\n  mfa_policy: any");
    assert_ne!(with_group, yaml, "{yaml}");
    std::fs::write(&file, &with_group).unwrap();
    let path = file.to_str().unwrap();
    let (code, out, err) = run(&["config", "apply", path, "--dry-run"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("+ group ops") && out.contains("dry run: nothing changed"), "{out}");
    let (_, again, _) = run(&["config", "export"]);
    assert_eq!(again, yaml, "the dry run changed nothing");
    let (code, out, err) = run(&["config", "apply", path]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("1 change(s) applied"), "{out}");
    let (_, out, _) = run(&["config", "apply", path]);
    assert!(out.contains("nothing to change"), "{out}");
    let (_, exported, _) = run(&["config", "export"]);
    assert_eq!(exported, with_group, "export after apply is the document");

    // A broken document: refused, its line named, nothing applied; `serve --apply` does not start.
    let broken = with_group.replace("mfa_policy: any", "mfa_policy: sometimes");
    std::fs::write(&file, &broken).unwrap();
    let line = broken.lines().position(|l| l.contains("sometimes")).unwrap() + 1;
    let (code, _, err) = run(&["config", "apply", path]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains(&format!("line {line}")), "{err}");
    let (code, _, err) = run(&["serve", "--apply", path]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains(&format!("line {line}")), "{err}");
    let (_, exported, _) = run(&["config", "export"]);
    assert_eq!(exported, with_group);
}
