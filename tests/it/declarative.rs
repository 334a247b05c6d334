//! Declarative configuration (`portcullis config export|apply`): a document exported from one
//! database and applied to an empty one exports the same again; applying it twice changes
//! nothing; a dry run changes nothing; a broken document changes nothing and names its line;
//! `--prune` removes what the document does not name; secrets travel by reference only.

use std::collections::HashMap;

use portcullis::admin::Admin;
use portcullis::admin::declarative::{self, How};
use portcullis::mfa::policy::{AppPolicy, Factor, Policy};

use crate::both_databases;
use crate::common::*;

both_databases!(
    export_apply_export_is_the_same_document,
    broken_documents_change_nothing,
    prune_removes_what_is_not_named
);

const SECRET: &str = "s3cret-of-at-least-thirty-two-characters";

fn env_with_secret() -> impl Fn(&str) -> Option<String> + Sync {
    let map: HashMap<String, String> =
        [("PORTCULLIS_CLIENT_SECRET_PAYROLL".to_owned(), SECRET.to_owned())].into_iter().collect();
    move |k: &str| map.get(k).cloned()
}

async fn apply(srv: &TestServer, yaml: &str, dry_run: bool, prune: bool) -> Result<Vec<String>, String> {
    let env = env_with_secret();
    let how = How { dry_run, prune, env: &env };
    declarative::apply(&srv.state, &Admin::operator(), yaml, how)
        .await
        .map(|a| a.changes)
        .map_err(|e| e.public_message())
}

async fn export(srv: &TestServer) -> String {
    declarative::export(&srv.state).await.unwrap()
}

/// The same plugin component on a server.
async fn upload_plugin(srv: &TestServer) -> portcullis::store::plugins::Plugin {
    portcullis::admin::plugins::upload(
        &srv.state,
        &Admin::operator(),
        &portcullis::admin::plugins::Upload {
            name: "risk",
            description: "",
            bytes: &crate::plugin_fixtures::fixed(Policy::Any),
            fuel: None,
            memory_mib: None,
            timeout_ms: None,
        },
    )
    .await
    .unwrap()
}

/// A server with some of everything: settings, groups, a confidential and a public OIDC app
/// with policies, a SAML app, plugin assignments to an app and to every app.
async fn populated(b: Backend) -> Option<TestServer> {
    let srv = TestServer::start(b).await?;
    let admin = Admin::operator();
    let s = &srv.state;
    portcullis::admin::settings::update(s, &admin, &serde_json::json!({"mfa_reauth_interval_minutes": 720}))
        .await
        .unwrap();
    portcullis::admin::settings::set_group_policy(s, &admin, "staff", Some(Policy::Otp)).await.unwrap();
    portcullis::admin::settings::set_group_policy(s, &admin, "contractors", None).await.unwrap();
    let spec = portcullis::admin::apps::OidcAppSpec {
        name: "Payroll",
        client_id: Some("payroll"),
        redirect_uris: &["https://payroll.example/cb".to_owned()],
        post_logout_redirect_uris: &["https://payroll.example/bye".to_owned()],
        public: false,
        extra_scopes: &["payroll:read".to_owned()],
        client_credentials: true,
    };
    let payroll = portcullis::admin::apps::add_oidc(s, &admin, &spec).await.unwrap();
    // The secret the document will reference.
    let hash = portcullis::oidc::token::client_secret_hash(SECRET);
    let c = portcullis::store::apps::find_client(&s.db, "payroll").await.unwrap().unwrap();
    assert!(
        portcullis::store::apps::update_client_secret(
            &s.db,
            "payroll",
            c.secret_hash.as_deref().unwrap(),
            &hash,
            s.now()
        )
        .await
        .unwrap()
    );
    let policy = AppPolicy {
        mfa_policy: Some(Policy::Otp),
        reauth_interval_minutes: 30,
        allow_trusted_devices: false,
        allowed_factors: Some(vec![Factor::Totp, Factor::Passkey]),
    };
    portcullis::admin::settings::set_app_policy(s, &admin, &payroll.app_id, &policy).await.unwrap();
    let spa = portcullis::admin::apps::OidcAppSpec {
        name: "Dashboard",
        client_id: Some("dashboard"),
        redirect_uris: &["http://127.0.0.1:5173/cb".to_owned()],
        post_logout_redirect_uris: &[],
        public: true,
        extra_scopes: &[],
        client_credentials: false,
    };
    portcullis::admin::apps::add_oidc(s, &admin, &spa).await.unwrap();
    let saml = portcullis::saml::registration::SamlAppSpec {
        name: "Wiki".into(),
        entity_id: Some("https://wiki.example/saml".into()),
        acs_urls: vec!["https://wiki.example/acs".into(), "https://wiki.example/acs2".into()],
        slo_url: Some("https://wiki.example/slo".into()),
        sign: Some("assertion".into()),
        ..Default::default()
    };
    portcullis::admin::apps::add_saml(s, &admin, saml).await.unwrap();
    let plugin = upload_plugin(&srv).await;
    portcullis::admin::plugins::assign(s, &admin, &plugin, &payroll.app_id, "shadow", Some("fail_open")).await.unwrap();
    portcullis::admin::plugins::assign(s, &admin, &plugin, "global", "active", None).await.unwrap();
    Some(srv)
}

async fn export_apply_export_is_the_same_document(b: Backend) {
    let Some(source) = populated(b).await else { return };
    let yaml = export(&source).await;
    for part in [
        "version: 1",
        "client_id: payroll",
        "client_credentials: true",
        "env: PORTCULLIS_CLIENT_SECRET_PAYROLL",
        "entity_id: https://wiki.example/saml",
        "name: staff",
        "mfa_reauth_interval_minutes: 720",
        "plugin: risk",
    ] {
        assert!(yaml.contains(part), "{part} in\n{yaml}");
    }
    let hash = portcullis::oidc::token::client_secret_hash(SECRET);
    assert!(!yaml.contains(SECRET) && !yaml.contains(&hash), "no secret, not even its hash:\n{yaml}");
    assert_eq!(
        apply(&source, &yaml, false, false).await.unwrap(),
        Vec::<String>::new(),
        "a database is its own export"
    );

    // An empty database: a dry run says everything and changes nothing, then the real thing.
    let Some(target) = TestServer::start(b).await else { return };
    upload_plugin(&target).await;
    let empty = export(&target).await;
    let planned = apply(&target, &yaml, true, false).await.unwrap();
    assert!(planned.iter().any(|c| c.starts_with("+ app Payroll")), "{planned:?}");
    assert_eq!(export(&target).await, empty, "a dry run changes nothing");
    let done = apply(&target, &yaml, false, false).await.unwrap();
    assert_eq!(done, planned);
    assert_eq!(export(&target).await, yaml, "export, apply on an empty database, export: the same document");
    assert_eq!(
        apply(&target, &yaml, false, false).await.unwrap(),
        Vec::<String>::new(),
        "applying again changes nothing"
    );
    let entries = target.audit(None, "config.applied", 10).await;
    assert_eq!(entries.len(), 1, "one audit record for the one change");

    // The referenced secret is the client's secret on the new database; the public client has none.
    let client = portcullis::store::apps::find_client(&target.state.db, "payroll").await.unwrap().unwrap();
    assert_eq!(client.secret_hash.as_deref(), Some(hash.as_str()));
    let resp = reqwest::Client::new()
        .post(target.url("/oauth2/token"))
        .basic_auth("payroll", Some(SECRET))
        .form(&[("grant_type", "authorization_code"), ("code", "x"), ("redirect_uri", "https://payroll.example/cb")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400, "the client authenticates; only the made-up code is refused");
    let spa = portcullis::store::apps::find_client(&target.state.db, "dashboard").await.unwrap().unwrap();
    assert!(spa.is_public(), "a public client stays without a secret");

    // A change in the document is one change in the database.
    let edited = yaml.replace("https://payroll.example/bye", "https://payroll.example/goodbye");
    let changes = apply(&target, &edited, false, false).await.unwrap();
    assert_eq!(changes, vec!["~ app Payroll (payroll): post_logout_redirect_uris".to_owned()]);

    // The client credentials grant travels with the document, and goes when it says so.
    let cc = || {
        reqwest::Client::new()
            .post(target.url("/oauth2/token"))
            .basic_auth("payroll", Some(SECRET))
            .form(&[("grant_type", "client_credentials")])
            .send()
    };
    let token = json(cc().await.unwrap()).await;
    assert_eq!(token["scope"], "payroll:read");
    let token = token["access_token"].as_str().unwrap().to_owned();
    let in_force = |t: String| {
        let state = target.state.clone();
        async move { portcullis::oidc::token::verify_access_token(&state, &t).await.unwrap().is_some() }
    };
    assert!(in_force(token.clone()).await);
    assert_eq!(yaml.matches("client_credentials: true").count(), 1, "only the client that has it:\n{yaml}");
    let without: String =
        edited.lines().filter(|l| l.trim() != "client_credentials: true").map(|l| format!("{l}\n")).collect();
    let changes = apply(&target, &without, false, false).await.unwrap();
    assert_eq!(changes, vec!["~ app Payroll (payroll): client_credentials".to_owned()]);
    assert_eq!(json(cc().await.unwrap()).await["error"], "unauthorized_client");
    assert!(!in_force(token.clone()).await);
    // Back on: new tokens, and the one issued before it went off stays ended (whether or not
    // this is still the second it was issued in).
    apply(&target, &edited, false, false).await.unwrap();
    let fresh = json(cc().await.unwrap()).await["access_token"].as_str().unwrap().to_owned();
    assert!(in_force(fresh).await);
    assert!(!in_force(token).await, "the document turning the grant on again brought an old token back");
    source.stop().await;
    target.stop().await;
}

async fn broken_documents_change_nothing(b: Backend) {
    let Some(source) = populated(b).await else { return };
    let yaml = export(&source).await;
    let Some(target) = TestServer::start(b).await else { return };
    upload_plugin(&target).await;
    let before = export(&target).await;
    let line_of = |doc: &str, needle: &str| doc.lines().position(|l| l.contains(needle)).unwrap() + 1;

    // Not YAML of ours: the parser's line.
    let typo = yaml.replacen("redirect_uris:", "redirect_uri:", 1);
    let e = apply(&target, &typo, false, false).await.unwrap_err();
    assert!(e.contains(&format!("line {}", line_of(&typo, "redirect_uri:"))), "{e}");
    // Valid YAML, a value we refuse, after apps that would be fine: nothing of them is made.
    let bad_uri = yaml.replace("https://wiki.example/acs2", "ftp://wiki.example/acs2");
    let e = apply(&target, &bad_uri, false, false).await.unwrap_err();
    let wiki = bad_uri.lines().position(|l| l.contains("name: Wiki")).unwrap() + 1;
    assert!(e.contains(&format!("line {wiki}")) && e.contains("ftp://wiki.example/acs2"), "{e}");
    // A secret that is not there, a plugin whose hash differs, a second active plugin.
    let e = apply(&target, &yaml.replace("PORTCULLIS_CLIENT_SECRET_PAYROLL", "NOT_SET_ANYWHERE"), false, false)
        .await
        .unwrap_err();
    assert!(e.contains("NOT_SET_ANYWHERE is not set") && e.starts_with("line "), "{e}");
    let sha = yaml.lines().find_map(|l| l.trim().strip_prefix("sha256: ")).unwrap().to_owned();
    let e = apply(&target, &yaml.replace(&sha, &"0".repeat(64)), false, false).await.unwrap_err();
    assert!(e.contains("SHA-256"), "{e}");
    // A group name with a control character, as the admin API refuses it.
    let tab = yaml.replacen("name: contractors", "name: \"contra\\tctors\"", 1);
    let e = apply(&target, &tab, false, false).await.unwrap_err();
    assert!(e.contains(&format!("line {}", line_of(&tab, "contra"))), "{e}");
    // A policy no one could meet.
    let e = apply(&target, &yaml.replace("mfa_policy: otp", "mfa_policy: passkey"), false, false).await.unwrap_err();
    assert!(e.contains("cannot be met") || e.contains("needs"), "{e}");
    assert_eq!(export(&target).await, before, "nothing of a refused document is applied");
    source.stop().await;
    target.stop().await;
}

async fn prune_removes_what_is_not_named(b: Backend) {
    let Some(srv) = populated(b).await else { return };
    let yaml = export(&srv).await;
    // A document without the Wiki app and the contractors group.
    let mut lines: Vec<&str> = yaml.lines().collect();
    let start = lines.iter().position(|l| l.contains("name: Wiki")).unwrap();
    let end = (start + 1..lines.len()).find(|&i| lines[i].starts_with("- ") || !lines[i].starts_with(' ')).unwrap();
    lines.drain(start..end);
    let g = lines.iter().position(|l| l.contains("name: contractors")).unwrap();
    lines.remove(g);
    let smaller = lines.join("\n") + "\n";
    assert_eq!(
        apply(&srv, &smaller, false, false).await.unwrap(),
        Vec::<String>::new(),
        "without --prune, nothing goes"
    );
    let changes = apply(&srv, &smaller, false, true).await.unwrap();
    assert!(changes.contains(&"- group contractors (0 members leave it)".to_owned()), "{changes:?}");
    assert!(changes.iter().any(|c| c.starts_with("- app Wiki")), "{changes:?}");
    assert!(
        portcullis::store::saml::find_by_entity_id(&srv.state.db, "https://wiki.example/saml").await.unwrap().is_none()
    );
    assert_eq!(export(&srv).await, smaller);
    srv.stop().await;
}
