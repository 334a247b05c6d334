//! The delivery outbox against real receivers (`tests/clients/receivers.py`): a real SMTP
//! server (aiosmtpd) over STARTTLS with AUTH, AWS SNS as moto serves it with IAM signature
//! checks on, a Twilio double that checks the request as Twilio documents it, and a webhook
//! receiver verifying Standard Webhooks signatures with that project's own library. Then the
//! outbox's promises: transient failures retried, permanent ones kept as failed with the body
//! dropped, each message sent once by two nodes polling one database, and a node killed
//! mid-send losing nothing.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use portcullis::admin::Admin;
use portcullis::delivery::Channel;
use portcullis::store::outbox::{self, Status, Summary};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::both_databases;
use crate::common::*;

both_databases!(
    email_goes_out_over_starttls_with_auth,
    a_refused_message_is_kept_as_failed_without_its_body,
    twilio_gets_the_documented_request_and_a_503_is_retried,
    sns_accepts_only_a_correctly_signed_publish,
    webhook_signatures_verify_with_the_standard_library,
    two_nodes_send_each_message_once,
    a_node_killed_mid_send_loses_nothing
);

/// One receiver process; its messages arrive as JSON lines.
pub struct Receiver {
    child: Child,
    pub port: u16,
    /// What followed the port on the `READY` line (moto's access key and secret).
    extra: Vec<String>,
    lines: mpsc::UnboundedReceiver<Value>,
}

impl Receiver {
    pub fn start(kind: &str, env: &[(&str, &str)]) -> Option<Receiver> {
        let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients/.venv/bin/python");
        if !python.exists() {
            assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "CI=true but {} is missing", python.display());
            skip(&format!(
                "the delivery tests: {} is missing (scripts/test installs the receivers there)",
                python.display()
            ));
            return None;
        }
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients/receivers.py");
        let mut child = Command::new(python)
            .arg(script)
            .arg(kind)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut ready = String::new();
        out.read_line(&mut ready).unwrap();
        let mut words = ready.split_whitespace();
        assert_eq!(words.next(), Some("READY"), "the {kind} receiver did not start: {ready:?}");
        let port = words.next().unwrap().parse().unwrap();
        let extra = words.map(str::to_owned).collect();
        let (tx, lines) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in out.lines() {
                let Ok(line) = line else { break };
                if tx.send(serde_json::from_str(&line).unwrap()).is_err() {
                    break;
                }
            }
        });
        Some(Receiver { child, port, extra, lines })
    }

    /// The next message, waiting up to `secs` seconds.
    pub async fn next(&mut self, secs: u64) -> Option<Value> {
        tokio::time::timeout(Duration::from_secs(secs), self.lines.recv()).await.ok().flatten()
    }

    /// Whether another message arrives within `secs` seconds.
    pub async fn quiet_for(&mut self, secs: u64) -> bool {
        self.next(secs).await.is_none()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls until message `id` is in `status` (within `secs`); returns its record.
async fn until_status(state: &portcullis::AppState, id: &str, status: Status, secs: u64) -> Summary {
    until(state, id, secs, |m| m.status == status).await
}

/// Polls until message `id`'s record meets `done` (within `secs`); returns it.
async fn until(state: &portcullis::AppState, id: &str, secs: u64, done: impl Fn(&Summary) -> bool) -> Summary {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let m = outbox::find(&state.db, id).await.unwrap().expect("the message is recorded");
        if done(&m) {
            return m;
        }
        assert!(tokio::time::Instant::now() < deadline, "message {id} never got there: {m:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A private CA and a server certificate it issued for 127.0.0.1, as PEM files: (CA, server
/// certificate, server key). The client trusts the CA through `email.smtp.ca_file`.
fn certificates(dir: &std::path::Path) -> (String, String, String) {
    use openssl::asn1::Asn1Time;
    use openssl::hash::MessageDigest;
    use openssl::pkey::{PKey, Private};
    use openssl::x509::extension::{BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName};
    use openssl::x509::{X509, X509Builder, X509NameBuilder};
    fn key() -> PKey<Private> {
        let group = openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap();
        PKey::from_ec_key(openssl::ec::EcKey::generate(&group).unwrap()).unwrap()
    }
    fn builder(cn: &str, serial: u32, key: &PKey<Private>) -> X509Builder {
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", cn).unwrap();
        let mut b = X509::builder().unwrap();
        b.set_version(2).unwrap();
        b.set_subject_name(&name.build()).unwrap();
        b.set_pubkey(key).unwrap();
        b.set_serial_number(&openssl::bn::BigNum::from_u32(serial).unwrap().to_asn1_integer().unwrap()).unwrap();
        b.set_not_before(&Asn1Time::days_from_now(0).unwrap()).unwrap();
        b.set_not_after(&Asn1Time::days_from_now(2).unwrap()).unwrap();
        b
    }
    let ca_key = key();
    let mut ca = builder("Test mail CA", 1, &ca_key);
    let ca_name = {
        let mut n = X509NameBuilder::new().unwrap();
        n.append_entry_by_text("CN", "Test mail CA").unwrap();
        n.build()
    };
    ca.set_issuer_name(&ca_name).unwrap();
    ca.append_extension(BasicConstraints::new().critical().ca().build().unwrap()).unwrap();
    ca.append_extension(KeyUsage::new().critical().key_cert_sign().build().unwrap()).unwrap();
    ca.sign(&ca_key, MessageDigest::sha256()).unwrap();
    let ca = ca.build();

    let leaf_key = key();
    let mut leaf = builder("127.0.0.1", 2, &leaf_key);
    leaf.set_issuer_name(ca.subject_name()).unwrap();
    leaf.append_extension(BasicConstraints::new().build().unwrap()).unwrap();
    leaf.append_extension(ExtendedKeyUsage::new().server_auth().build().unwrap()).unwrap();
    let san = SubjectAlternativeName::new().ip("127.0.0.1").build(&leaf.x509v3_context(Some(&ca), None)).unwrap();
    leaf.append_extension(san).unwrap();
    leaf.sign(&ca_key, MessageDigest::sha256()).unwrap();

    let paths = ["ca.pem", "smtp.pem", "smtp.key"].map(|f| dir.join(f));
    std::fs::write(&paths[0], ca.to_pem().unwrap()).unwrap();
    std::fs::write(&paths[1], leaf.build().to_pem().unwrap()).unwrap();
    std::fs::write(&paths[2], leaf_key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    let [a, b, c] = paths.map(|p| p.display().to_string());
    (a, b, c)
}

async fn admin_session(srv: &TestServer) -> reqwest::Client {
    srv.add_admin("root").await;
    let http = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let (status, body) = api_login(srv, &http, "root").await;
    assert_eq!((status, &body["authenticated"]), (200, &json!(true)), "{body}");
    http
}

async fn email_goes_out_over_starttls_with_auth(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = certificates(dir.path());
    let env =
        [("TLS_CERT", cert.as_str()), ("TLS_KEY", key.as_str()), ("SMTP_USER", "idp"), ("SMTP_PASSWORD", "pw-123")];
    let Some(mut smtp) = Receiver::start("smtp", &env) else { return };
    let port = smtp.port;
    let opts = Options {
        tweak: Box::new(move |c| {
            c.email.transport = portcullis::config::EmailTransportKind::Smtp;
            c.email.from = "Example Sign-in <idp@example.com>".into();
            c.email.reply_to = "help@example.com".into();
            c.email.smtp.host = "127.0.0.1".into();
            c.email.smtp.port = port;
            c.email.smtp.username = "idp".into();
            c.email.smtp.password = "pw-123".into();
            c.email.smtp.ca_file = ca.clone();
        }),
        ..Options::default()
    };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    let http = admin_session(&srv).await;

    let (status, queued) = api_post(
        &http,
        &srv.url("/api/v1/admin/delivery/test"),
        json!({"channel": "email", "to": " alice@example.com "}),
    )
    .await;
    assert_eq!(status, 202, "{queued}");
    assert_eq!(queued["recipient"], "a***@example.com", "only a masked address is shown: {queued}");
    let mail = smtp.next(10).await.expect("the mail server received the message");
    assert_eq!(mail["rcpt_tos"], json!(["alice@example.com"]));
    assert_eq!(mail["mail_from"], "idp@example.com");
    assert_eq!(mail["tls"], true, "STARTTLS was used: {mail}");
    assert_eq!(mail["authenticated"], true, "SMTP AUTH was used: {mail}");
    assert_eq!(mail["subject"], "Portcullis test message");
    assert!(mail["from"].as_str().unwrap().contains("Example Sign-in"), "{mail}");
    assert_eq!(mail["reply_to"], "help@example.com");
    assert!(mail["text"].as_str().unwrap().contains("asked for one"), "{mail}");
    assert!(mail["html"].as_str().unwrap().contains("<strong>"), "{mail}");

    let id = queued["id"].as_str().unwrap();
    let sent = until_status(&srv.state, id, Status::Sent, 5).await;
    assert_eq!(sent.attempts, 1);
    assert!(!outbox::holds_body(&srv.state.db, id).await.unwrap(), "the body is dropped once sent");
    let listed: Value =
        http.get(srv.url("/api/v1/admin/outbox?status=sent")).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed["messages"][0]["id"], id, "{listed}");
    assert!(!listed.to_string().contains("alice@"), "admins see masked recipients only: {listed}");
    assert_eq!(srv.audit(None, "delivery.test_requested", 5).await.len(), 1);

    // Bad input gets a clear answer and queues nothing.
    for (body, want) in [
        (json!({"channel": "email", "to": "not an address"}), "not an email address"),
        (json!({"channel": "fax", "to": "a@example.com"}), "not email or sms"),
        (json!({"channel": "sms", "to": "+14155552671"}), "no sms transport"),
    ] {
        let (status, err) = api_post(&http, &srv.url("/api/v1/admin/delivery/test"), body).await;
        assert_eq!(status, 400, "{err}");
        assert!(err.to_string().contains(want), "{err}");
    }
    assert_eq!(outbox::list(&srv.state.db, None, 10).await.unwrap().len(), 1);
    assert!(smtp.quiet_for(1).await);
    srv.stop().await;
}

async fn a_refused_message_is_kept_as_failed_without_its_body(b: Backend) {
    let Some(mut smtp) = Receiver::start("smtp", &[("SMTP_USER", "idp"), ("SMTP_PASSWORD", "right")]) else { return };
    let port = smtp.port;
    let opts = Options {
        tweak: Box::new(move |c| {
            mail_to(c, port);
            c.email.smtp.username = "idp".into();
            c.email.smtp.password = "wrong".into();
        }),
        ..Options::default()
    };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    let msg = portcullis::admin::delivery::send_test(&srv.state, &Admin::operator(), Channel::Email, "bob@example.com")
        .await
        .unwrap();
    let failed = until_status(&srv.state, &msg.id, Status::Failed, 10).await;
    assert_eq!(failed.attempts, 1, "a permanent refusal is not retried");
    assert!(failed.last_error.as_deref().unwrap().contains("535"), "the server's reason is kept: {failed:?}");
    assert!(!outbox::holds_body(&srv.state.db, &msg.id).await.unwrap(), "the body is dropped when given up");
    // The audit record follows the status by a moment (written after it, by the worker).
    let mut audit = srv.audit(None, "delivery.failed", 5).await;
    for _ in 0..100 {
        if !audit.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        audit = srv.audit(None, "delivery.failed", 5).await;
    }
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert!(!audit[0].detail.as_deref().unwrap().contains("bob@"), "{audit:?}");
    assert!(smtp.quiet_for(1).await, "nothing was delivered");
    srv.stop().await;
}

fn twilio_config(port: u16) -> impl FnOnce(&mut portcullis::config::Config) + Send {
    move |c| {
        c.sms.transport = portcullis::config::SmsTransportKind::Twilio;
        c.sms.allowed_country_codes = vec![1];
        c.sms.twilio.account_sid = "AC0123456789abcdef".into();
        c.sms.twilio.auth_token = "tw-token".into();
        c.sms.twilio.from = "+15005550006".into();
        c.sms.twilio.api_base = format!("http://127.0.0.1:{port}");
    }
}

async fn twilio_gets_the_documented_request_and_a_503_is_retried(b: Backend) {
    let env = [("TWILIO_SID", "AC0123456789abcdef"), ("TWILIO_TOKEN", "tw-token"), ("FAIL_FIRST", "1")];
    let Some(mut twilio) = Receiver::start("twilio", &env) else { return };
    let opts = Options { manual_clock: true, tweak: Box::new(twilio_config(twilio.port)), ..Options::default() };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    let msg = portcullis::admin::delivery::send_test(&srv.state, &Admin::operator(), Channel::Sms, "+1 (415) 555-2671")
        .await
        .unwrap();
    assert_eq!(msg.recipient, "+1***2671");
    let refused =
        portcullis::admin::delivery::send_test(&srv.state, &Admin::operator(), Channel::Sms, "+44 20 7946 0018").await;
    assert!(
        matches!(&refused, Err(portcullis::error::AppError::BadRequest(m)) if m.to_string().contains("+44")),
        "a country off the allow-list is refused: {refused:?}"
    );

    // The first answer is a 503: the message waits for its next attempt.
    let waiting = until(&srv.state, &msg.id, 10, |m| m.status == Status::Pending && m.attempts == 1).await;
    assert!(waiting.last_error.as_deref().unwrap().contains("HTTP 503"), "{waiting:?}");
    assert!(waiting.next_attempt_at > srv.now(), "{waiting:?}");
    assert!(twilio.quiet_for(1).await, "not retried before its time");
    srv.advance(60);
    let got = twilio.next(10).await.expect("the retry reached Twilio");
    assert_eq!(got["form"], json!({"To": "+14155552671", "From": "+15005550006", "Body": got["form"]["Body"]}));
    assert!(got["form"]["Body"].as_str().unwrap().contains("test message"), "{got}");
    let sent = until_status(&srv.state, &msg.id, Status::Sent, 5).await;
    assert_eq!((sent.attempts, sent.last_error), (2, None));
    srv.stop().await;
}

async fn sns_accepts_only_a_correctly_signed_publish(b: Backend) {
    let Some(mut sns) = Receiver::start("sns", &[]) else { return };
    let (port, key_id, secret) = (sns.port, sns.extra[0].clone(), sns.extra[1].clone());
    for (secret, ok) in [(secret.clone(), true), (format!("{secret}x"), false)] {
        let key_id = key_id.clone();
        let opts = Options {
            tweak: Box::new(move |c| {
                c.sms.transport = portcullis::config::SmsTransportKind::Sns;
                c.sms.allowed_country_codes = vec![1];
                c.sms.sns.endpoint = format!("http://127.0.0.1:{port}/");
                c.sms.sns.access_key_id = key_id;
                c.sms.sns.secret_access_key = secret.into();
            }),
            ..Options::default()
        };
        let Some(srv) = TestServer::start_with(b, opts).await else { return };
        let msg = portcullis::admin::delivery::send_test(&srv.state, &Admin::operator(), Channel::Sms, "+14155552671")
            .await
            .unwrap();
        if ok {
            let got = sns.next(10).await.expect("moto recorded the Publish");
            assert_eq!(got["to"], "+14155552671");
            assert!(got["message"].as_str().unwrap().contains("test message"), "{got}");
            until_status(&srv.state, &msg.id, Status::Sent, 5).await;
        } else {
            let failed = until_status(&srv.state, &msg.id, Status::Failed, 10).await;
            assert!(
                failed.last_error.as_deref().unwrap().contains("HTTP 403"),
                "a bad signature is refused: {failed:?}"
            );
            assert!(sns.quiet_for(1).await);
        }
        srv.stop().await;
    }
}

const WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn webhook_env(port: u16, secret: &'static str) -> Vec<(String, String)> {
    vec![
        ("PORTCULLIS_SMS__TRANSPORT".into(), "webhook".into()),
        ("PORTCULLIS_SMS__WEBHOOK__URL".into(), format!("http://127.0.0.1:{port}/sms")),
        ("PORTCULLIS_SMS__WEBHOOK__SECRET".into(), secret.into()),
        ("PORTCULLIS_SMS__ALLOWED_COUNTRY_CODES".into(), "[1]".into()),
    ]
}

async fn webhook_signatures_verify_with_the_standard_library(b: Backend) {
    let Some(mut hook) = Receiver::start("webhook", &[("WEBHOOK_SECRET", WEBHOOK_SECRET)]) else { return };
    let port = hook.port;
    for (secret, ok) in [(WEBHOOK_SECRET, true), ("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", false)] {
        let opts = Options {
            tweak: Box::new(move |c| {
                c.sms.transport = portcullis::config::SmsTransportKind::Webhook;
                c.sms.allowed_country_codes = vec![44];
                c.sms.webhook.url = format!("http://127.0.0.1:{port}/sms");
                c.sms.webhook.secret = secret.into();
            }),
            ..Options::default()
        };
        let Some(srv) = TestServer::start_with(b, opts).await else { return };
        let msg = portcullis::admin::delivery::send_test(&srv.state, &Admin::operator(), Channel::Sms, "+442079460018")
            .await
            .unwrap();
        let got = hook.next(10).await.expect("the webhook was called");
        assert_eq!(got["verified"], ok, "{got}");
        if ok {
            assert_eq!(got["id"], msg.id.as_str());
            assert_eq!(got["payload"]["type"], "sms.send");
            assert_eq!(got["payload"]["data"]["to"], "+442079460018");
            assert_eq!(got["payload"]["data"]["message_id"], msg.id.as_str());
            until_status(&srv.state, &msg.id, Status::Sent, 5).await;
        } else {
            let failed = until_status(&srv.state, &msg.id, Status::Failed, 5).await;
            assert!(failed.last_error.as_deref().unwrap().contains("HTTP 401"), "{failed:?}");
        }
        srv.stop().await;
    }
}

/// Queues a test text message through the command line (another process); returns its id.
fn queue_by_cli(nodes: &Nodes, env: &[(String, String)], to: &str) -> String {
    let out = nodes
        .cli(&["delivery", "test", "--sms", to, "--json"])
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap();
    assert!(out.status.success(), "delivery test: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice::<Value>(&out.stdout).unwrap()["id"].as_str().unwrap().to_owned()
}

fn listed(nodes: &Nodes) -> Vec<Value> {
    let out = nodes.cli(&["delivery", "list", "--limit", "1000", "--json"]).output().unwrap();
    assert!(out.status.success(), "delivery list: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn two_nodes_send_each_message_once(b: Backend) {
    // A slow receiver keeps sends in flight while both nodes poll every 50 ms.
    let env = [("WEBHOOK_SECRET", WEBHOOK_SECRET), ("DELAY_MS", "50")];
    let Some(mut hook) = Receiver::start("webhook", &env) else { return };
    let port = hook.port;
    let mut env = webhook_env(port, WEBHOOK_SECRET);
    env.push(("PORTCULLIS_DELIVERY__POLL_INTERVAL_MS".into(), "50".into()));
    env.push(("PORTCULLIS_DELIVERY__MAX_IN_FLIGHT".into(), "8".into()));
    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let Some(nodes) = Nodes::start_with_env(b, 2, &env_refs).await else { return };

    // One message through the command line (another process), as an operator would...
    let first = queue_by_cli(&nodes, &env, "+14155552600");
    // ...then a burst committed at once, so both nodes find the same due messages and claim
    // against each other, round after round.
    const N: usize = 120;
    let state = nodes
        .state(move |c| {
            c.sms.transport = portcullis::config::SmsTransportKind::Webhook;
            c.sms.allowed_country_codes = vec![1];
            c.sms.webhook.url = format!("http://127.0.0.1:{port}/sms");
            c.sms.webhook.secret = WEBHOOK_SECRET.into();
        })
        .await;
    let rows: Vec<_> = (0..N)
        .map(|i| {
            portcullis::delivery::prepare(
                &state,
                portcullis::delivery::Outgoing {
                    channel: Channel::Sms,
                    to: format!("+1415555{:04}", 2601 + i),
                    user_id: None,
                    content: portcullis::delivery::Content::Test { requested_by: "the test".into() },
                    ttl_seconds: None,
                },
            )
            .unwrap()
        })
        .collect();
    let committed: Result<(), sqlx::Error> = async {
        match &state.db {
            portcullis::store::Db::Sqlite(s) => {
                let mut tx = s.writer.begin().await?;
                for r in &rows {
                    portcullis::queue_message!(&mut *tx, r);
                }
                tx.commit().await
            }
            portcullis::store::Db::Postgres(p) => {
                let mut tx = p.pool.begin().await?;
                for r in &rows {
                    portcullis::queue_message!(&mut *tx, r);
                }
                tx.commit().await
            }
        }
    }
    .await;
    committed.unwrap();

    let mut queued: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    queued.push(first);
    let mut seen = std::collections::HashMap::<String, usize>::new();
    while seen.len() < queued.len() {
        let got =
            hook.next(30).await.unwrap_or_else(|| panic!("only {} of {} messages arrived", seen.len(), queued.len()));
        assert_eq!(got["verified"], true, "{got}");
        *seen.entry(got["id"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    assert!(hook.quiet_for(2).await, "no message arrived twice");
    assert!(seen.values().all(|&n| n == 1), "{seen:?}");
    let mut ids: Vec<&String> = seen.keys().collect();
    ids.sort();
    queued.sort();
    assert_eq!(ids, queued.iter().collect::<Vec<_>>());
    let records = listed(&nodes);
    assert!(records.iter().all(|m| m["status"] == "sent" && m["attempts"] == 1), "{records:?}");
}

async fn a_node_killed_mid_send_loses_nothing(b: Backend) {
    // The receiver holds its first request unanswered; the node sending it is killed then.
    let env = [("WEBHOOK_SECRET", WEBHOOK_SECRET), ("STALL_FIRST", "1")];
    let Some(mut hook) = Receiver::start("webhook", &env) else { return };
    let mut env = webhook_env(hook.port, WEBHOOK_SECRET);
    for (k, v) in [("ATTEMPT_TIMEOUT_SECONDS", "3"), ("LEASE_SECONDS", "8"), ("POLL_INTERVAL_MS", "100")] {
        env.push((format!("PORTCULLIS_DELIVERY__{k}"), v.into()));
    }
    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let Some(mut nodes) = Nodes::start_with_env(b, 1, &env_refs).await else { return };
    let id = queue_by_cli(&nodes, &env, "+14155552671");
    let stalled = hook.next(10).await.expect("the first node began sending");
    assert_eq!(stalled["stalled"], true, "{stalled}");
    nodes.kill(0);
    let records = listed(&nodes);
    assert_eq!((records[0]["status"].as_str(), records[0]["attempts"].as_i64()), (Some("sending"), Some(1)));

    // Another node takes the message over once the lease has run out, not before.
    nodes.spawn(&env_refs).await;
    assert!(hook.quiet_for(3).await, "nobody takes a message over while its lease holds");
    let got = hook.next(15).await.expect("the message was delivered after the lease ran out");
    assert_eq!((got["verified"].as_bool(), got["id"].as_str()), (Some(true), Some(id.as_str())), "{got}");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let records = listed(&nodes);
        if records[0]["status"] == "sent" {
            assert_eq!(records[0]["attempts"], 2, "{records:?}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{records:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
