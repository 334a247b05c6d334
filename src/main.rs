//! The `portcullis` command: serve, migrate, and the admin subcommands.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

mod plugin_cli;
mod settings_cli;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use portcullis::admin::Admin;
use portcullis::admin::apps::{self, OidcAppSpec, SamlAppSpec};
use portcullis::admin::users::{self, UserSpec};
use portcullis::config::{Config, LogFormat, SigningAlg};
use portcullis::crypto::keystore;
use portcullis::error::AppError;
use portcullis::state::AppState;
use portcullis::store::{self, Db};
use serde_json::json;

#[derive(Parser)]
#[command(
    name = "portcullis",
    version,
    about = "Self-hosted identity provider: OpenID Connect with a policy-driven MFA step"
)]
struct Cli {
    /// Configuration file (default: config/portcullis.toml when present).
    #[arg(long, global = true, env = "PORTCULLIS_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (migrates the database first).
    Serve {
        /// Register the demo app and the `demo` user, and serve the demo at /demo.
        #[arg(long)]
        demo: bool,
        /// Development mode: allow an http://localhost issuer (sets `dev_mode`).
        #[arg(long)]
        dev: bool,
        /// Apply this configuration document (see `config apply`) before serving; a document
        /// that does not apply stops the start.
        #[arg(long, value_name = "FILE")]
        apply: Option<std::path::PathBuf>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Ask a running server whether it is ready (`/readyz` on `listen`): exit 0 when it is,
    /// 1 when not (for container health checks; no shell or curl needed).
    Health {
        /// Another address to ask, e.g. http://127.0.0.1:8080.
        #[arg(long)]
        url: Option<String>,
    },
    /// Manage users.
    #[command(subcommand)]
    User(UserCmd),
    /// Manage applications (relying parties).
    #[command(subcommand)]
    App(AppCmd),
    /// Manage token signing keys.
    #[command(subcommand)]
    Keys(KeysCmd),
    /// Manage selector plugins (WebAssembly components), or test one offline.
    #[command(subcommand)]
    Plugin(plugin_cli::PluginCmd),
    /// Read or change sign-in policy (global settings, group minimums, app policies) in the
    /// database: a break-glass that works with the server stopped or running, audited.
    #[command(subcommand)]
    Settings(settings_cli::SettingsCmd),
    /// Apps, groups, settings and plugin assignments as one YAML document: export it, or make
    /// the database match one (GitOps).
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Outgoing email and text messages: send a test, list what was sent or failed.
    #[command(subcommand)]
    Delivery(DeliveryCmd),
    /// Read the audit log, newest first.
    Audit {
        /// Only entries concerning this user (an id, or a username).
        #[arg(long)]
        user: Option<String>,
        /// Only this event (e.g. `user.created`, `settings.changed`).
        #[arg(long)]
        event: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[command(flatten)]
        out: JsonOut,
    },
}

#[derive(Subcommand)]
enum ConfigCmd {
    /// Write the configuration as YAML (to standard output, or a file). Client secrets are
    /// written as references to environment variables, never in clear.
    Export {
        #[arg(long, short, value_name = "FILE")]
        output: Option<std::path::PathBuf>,
    },
    /// Make the database match a document, in one transaction, printing what changes.
    Apply {
        file: std::path::PathBuf,
        /// Print what would change; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Also remove the apps, groups and plugin assignments the document does not name.
        #[arg(long)]
        prune: bool,
    },
}

#[derive(Subcommand)]
enum DeliveryCmd {
    /// Queue a test message; a running server delivers it (within a second or so). Prints the
    /// message id, to follow with `delivery list`.
    Test {
        /// Send an email to this address.
        #[arg(long, conflicts_with = "sms", required_unless_present = "sms")]
        email: Option<String>,
        /// Send a text message to this number, with its country code (+1 555 555 5671).
        #[arg(long)]
        sms: Option<String>,
        #[command(flatten)]
        out: JsonOut,
    },
    /// List messages, newest first (never their bodies).
    List {
        /// Only messages in this state.
        #[arg(long, value_parser = ["pending", "sending", "sent", "failed"])]
        status: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[command(flatten)]
        out: JsonOut,
    },
}

#[derive(Args)]
pub(crate) struct JsonOut {
    /// Machine-readable output.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Subcommand)]
enum UserCmd {
    /// Add a user. Without --password-stdin a password is generated and printed once.
    Add {
        username: String,
        #[arg(long)]
        email: Option<String>,
        /// The address is known to be the user's: recovery and reset links may go to it.
        #[arg(long, requires = "email")]
        email_verified: bool,
        #[arg(long)]
        name: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        #[arg(long)]
        admin: bool,
        /// Group membership (repeatable).
        #[arg(long = "group")]
        groups: Vec<String>,
        #[command(flatten)]
        out: JsonOut,
    },
    /// List users.
    List {
        #[command(flatten)]
        out: JsonOut,
    },
    /// Set a user's password (ends their sessions). Generated unless --password-stdin.
    SetPassword {
        username: String,
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        out: JsonOut,
    },
    /// Disable a user (ends their sessions and revokes their tokens).
    Disable {
        username: String,
        #[command(flatten)]
        out: JsonOut,
    },
    /// Put a user in a group (created if new).
    GroupAdd {
        username: String,
        group: String,
        #[command(flatten)]
        out: JsonOut,
    },
    /// Take a user out of a group.
    GroupRemove {
        username: String,
        group: String,
        #[command(flatten)]
        out: JsonOut,
    },
    /// Remove all of a user's second factors and trusted devices (lost device). The next
    /// login leads to enrolment wherever a second factor is required.
    ResetMfa {
        username: String,
        #[command(flatten)]
        out: JsonOut,
    },
    /// Re-enable a disabled user.
    Enable {
        username: String,
        #[command(flatten)]
        out: JsonOut,
    },
}

#[derive(Subcommand)]
enum AppCmd {
    /// Register an OpenID Connect client. Prints the client id and (once) the secret.
    AddOidc {
        #[arg(long)]
        name: String,
        /// Redirect URI (repeatable; matched exactly). A public client needs one; a service
        /// (the client credentials grant) none.
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// Post-logout redirect URI (repeatable).
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// Choose the client id instead of generating one.
        #[arg(long)]
        client_id: Option<String>,
        /// Public client (SPA, native app): no secret, PKCE required.
        #[arg(long)]
        public: bool,
        /// Extra scope the client may request (repeatable), e.g. api:read.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Allow the client credentials grant: the client asks for access tokens in its own
        /// name, with no user (confidential clients only; the tokens carry its extra scopes).
        #[arg(long, conflicts_with = "public")]
        client_credentials: bool,
        #[command(flatten)]
        out: JsonOut,
    },
    /// Register a SAML service provider, from its metadata file and/or flags (flags win).
    AddSaml {
        #[arg(long)]
        name: String,
        /// The SP's metadata (an EntityDescriptor XML file) to import.
        #[arg(long)]
        metadata: Option<PathBuf>,
        #[arg(long)]
        entity_id: Option<String>,
        /// Assertion consumer service URL, HTTP-POST (repeatable; the first is the default).
        #[arg(long = "acs-url")]
        acs_urls: Vec<String>,
        /// Single logout URL of the SP (HTTP-Redirect).
        #[arg(long)]
        slo_url: Option<String>,
        /// The SP's signing certificate (PEM file), for signed requests.
        #[arg(long)]
        sp_certificate: Option<PathBuf>,
        /// Refuse AuthnRequests not signed with the SP's certificate.
        #[arg(long)]
        want_signed_requests: bool,
        #[arg(long, value_parser = ["persistent", "transient", "emailAddress", "unspecified"])]
        name_id_format: Option<String>,
        /// A SAML attribute and the user field it carries, NAME=SOURCE (repeatable); SOURCE is
        /// id, username, email, name, groups or static:VALUE.
        #[arg(long = "attribute")]
        attributes: Vec<String>,
        /// What to sign (default both).
        #[arg(long, value_parser = ["assertion", "response", "both"])]
        sign: Option<String>,
        /// Allow IdP-initiated sign-in to this SP.
        #[arg(long)]
        allow_idp_initiated: bool,
        /// RelayState sent with IdP-initiated responses (at most 80 bytes).
        #[arg(long)]
        default_relay_state: Option<String>,
        #[command(flatten)]
        out: JsonOut,
    },
    /// List applications.
    List {
        #[command(flatten)]
        out: JsonOut,
    },
    /// Show one application (by app id, client id or SAML entity ID).
    Show {
        id: String,
        #[command(flatten)]
        out: JsonOut,
    },
    /// Remove an application and everything issued to it.
    Remove {
        id: String,
        #[command(flatten)]
        out: JsonOut,
    },
}

#[derive(Subcommand)]
enum KeysCmd {
    /// Add a new active signing key; the old one stays published until it expires.
    Rotate {
        /// RS256 or ES256 (default: tokens.signing_alg).
        #[arg(long)]
        alg: Option<String>,
        #[command(flatten)]
        out: JsonOut,
    },
    /// List published keys.
    List {
        #[command(flatten)]
        out: JsonOut,
    },
}

fn main() -> ExitCode {
    // A plugin compiler child (see `plugin_host::compiler`): nothing else of the program runs.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == portcullis::plugin_host::compiler::WORKER_ARG) {
        return portcullis::plugin_host::compiler::worker_main(&args[2..]);
    }
    portcullis::server::tune_allocator();
    let cli = Cli::parse();
    let mut config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("portcullis: {e}");
            return ExitCode::from(2);
        }
    };
    let serving = matches!(cli.command, Command::Serve { .. });
    if let Command::Serve { dev: true, .. } = cli.command {
        config.dev_mode = true;
    }
    // `plugin test` runs a component offline: only the plugin limits matter to it.
    let offline = matches!(&cli.command, Command::Plugin(cmd) if plugin_cli::is_offline(cmd));
    let valid = if offline {
        config.validate_plugins()
    } else if serving {
        config.validate_for_serving()
    } else {
        config.validate()
    };
    if let Err(e) = valid {
        eprintln!("portcullis: {e}");
        return ExitCode::from(2);
    }
    init_tracing(&config, serving);
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("portcullis: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("portcullis: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(config: &Config, serving: bool) {
    use tracing_subscriber::EnvFilter;
    let default = if serving { config.log_level.clone() } else { "warn".to_owned() };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // Colour only for a person at a terminal; files, pipes and collectors get plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    match config.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// `portcullis health`: 0 when `/readyz` answers 200 within 5 seconds.
async fn health(config: &Config, url: Option<&str>) -> anyhow::Result<()> {
    let base = match url {
        Some(u) => u.trim_end_matches('/').to_owned(),
        None => {
            // A wildcard listen address is reached on loopback.
            let listen = config.listen.replace("0.0.0.0", "127.0.0.1").replace("[::]", "[::1]");
            format!("http://{listen}")
        }
    };
    let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(5)).build()?;
    let resp = client.get(format!("{base}/readyz")).send().await?;
    anyhow::ensure!(resp.status() == reqwest::StatusCode::OK, "{base}/readyz answered {}", resp.status());
    println!("ready");
    Ok(())
}

fn read_password_line() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

pub(crate) fn print(json_out: bool, value: serde_json::Value, text: impl FnOnce() -> String) {
    if json_out {
        println!("{}", serde_json::to_string_pretty(&value).expect("JSON serialises"));
    } else {
        println!("{}", text());
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { demo, apply, .. } => serve(config, demo, apply).await,
        Command::Config(cmd) => config_cmd(AppState::init(config).await?, cmd).await,
        Command::Health { url } => health(&config, url.as_deref()).await,
        Command::Migrate => {
            let db = Db::connect(&config).await?;
            db.migrate().await?;
            println!("migrations applied ({})", db.kind());
            Ok(())
        }
        Command::User(cmd) => user(AppState::init(config).await?, cmd).await,
        Command::App(cmd) => app(AppState::init(config).await?, cmd).await,
        Command::Keys(cmd) => keys(AppState::init(config).await?, cmd).await,
        Command::Plugin(cmd) if plugin_cli::is_offline(&cmd) => {
            if plugin_cli::test_offline(&config, cmd)? {
                Ok(())
            } else {
                anyhow::bail!("the plugin produced no decision")
            }
        }
        Command::Plugin(cmd) => plugin_cli::run(AppState::init(config).await?, cmd).await,
        Command::Settings(cmd) => settings_cli::run(AppState::init(config).await?, cmd).await,
        Command::Delivery(cmd) => delivery(AppState::init(config).await?, cmd).await,
        Command::Audit { user, event, limit, out } => {
            audit(AppState::init(config).await?, user, event, limit, out).await
        }
    }
}

async fn audit(
    state: AppState,
    user: Option<String>,
    event: Option<String>,
    limit: i64,
    out: JsonOut,
) -> anyhow::Result<()> {
    let user_id = match user {
        Some(u) => match store::users::find_by_username(&state.db, &u).await? {
            Some(found) => Some(found.id),
            None => Some(u),
        },
        None => None,
    };
    let filter = store::audit::Filter { user_id: user_id.as_deref(), event: event.as_deref(), ..Default::default() };
    let entries = store::audit::list(&state.db, &filter, limit.clamp(1, 10_000)).await?;
    print(out.json, json!(entries), || {
        let mut s = format!("{:<10}  {:<26}  {:<36}  {}", "AT", "EVENT", "USER", "DETAIL");
        for e in &entries {
            s.push_str(&format!(
                "\n{:<10}  {:<26}  {:<36}  {}",
                e.at,
                e.event,
                e.user_id.as_deref().unwrap_or("-"),
                plugin_cli::printable(e.detail.as_deref().unwrap_or(""))
            ));
        }
        s
    });
    Ok(())
}

async fn delivery(state: AppState, cmd: DeliveryCmd) -> anyhow::Result<()> {
    use portcullis::delivery::Channel;
    let admin = Admin::operator();
    match cmd {
        DeliveryCmd::Test { email, sms, out } => {
            let (channel, to) = match (email, sms) {
                (Some(to), _) => (Channel::Email, to),
                (None, Some(to)) => (Channel::Sms, to),
                (None, None) => anyhow::bail!("give --email or --sms"),
            };
            let msg = portcullis::admin::delivery::send_test(&state, &admin, channel, &to).await?;
            print(out.json, json!(msg), || format!("queued {} to {} ({})", msg.id, msg.recipient, msg.channel));
        }
        DeliveryCmd::List { status, limit, out } => {
            let messages = portcullis::admin::delivery::list(&state, &admin, status.as_deref(), limit).await?;
            print(out.json, json!(messages), || {
                let mut s = format!(
                    "{:<32}  {:<5}  {:<8}  {:<22}  {:<8}  {:>8}  {}",
                    "ID", "CHAN", "PURPOSE", "TO", "STATUS", "ATTEMPTS", "LAST ERROR"
                );
                for m in &messages {
                    s.push_str(&format!(
                        "\n{:<32}  {:<5}  {:<8}  {:<22}  {:<8}  {:>8}  {}",
                        m.id,
                        m.channel,
                        m.purpose,
                        m.recipient,
                        m.status,
                        m.attempts,
                        plugin_cli::printable(m.last_error.as_deref().unwrap_or(""))
                    ));
                }
                s
            });
        }
    }
    Ok(())
}

async fn serve(config: Config, demo: bool, apply: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let listen = config.listen.clone();
    let state = AppState::init(config).await?;
    if let Some(file) = apply {
        apply_document(&state, &file, false, false).await?;
    }
    // Listening first: a port already taken must stop the start before the first
    // administrator is made, whose password is shown only once (below).
    let listener =
        tokio::net::TcpListener::bind(&listen).await.map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    let admin_password = users::ensure_initial_admin(&state).await?;
    let demo_password = if demo { Some(portcullis::demo::register(&state).await?) } else { None };
    tracing::info!(
        issuer = %state.issuer(),
        open = %format!("{}/{}", state.issuer(), if demo { "demo" } else { "" }),
        listen = %listener.local_addr()?,
        database = state.db.kind(),
        ready_ms = started.elapsed().as_millis() as u64,
        "Portcullis is ready"
    );
    println!("Portcullis is running at {}", state.issuer());
    if let Some(pw) = admin_password {
        println!("\nCreated the first administrator (shown only this once; change it after signing in):");
        println!("  username: admin\n  password: {pw}");
    }
    if let Some(pw) = demo_password {
        println!("\nDemo: open {}/demo and sign in with", state.issuer());
        println!("  username: demo\n  password: {pw}");
        let kept = state.config.data_dir.join("demo-password");
        println!("  (the same on every start; kept in {})", kept.display());
    }
    let m = &state.config.metrics;
    if m.enabled && !m.listen.is_empty() {
        let at = m.listen.clone();
        let metrics = tokio::net::TcpListener::bind(&at)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {at} (metrics.listen): {e}"))?;
        tracing::info!(listen = %metrics.local_addr()?, "metrics are served on their own address");
        let router = portcullis::http::metrics_router(state.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(metrics, router).await {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
        });
    }
    let app = if demo { portcullis::app_with_demo(state.clone()) } else { portcullis::app(state.clone()) };
    portcullis::server::serve(listener, state, app, portcullis::server::shutdown_signal()).await
}

async fn config_cmd(state: AppState, cmd: ConfigCmd) -> anyhow::Result<()> {
    match cmd {
        ConfigCmd::Export { output } => {
            let yaml = portcullis::admin::declarative::export(&state).await.map_err(user_error)?;
            match output {
                Some(path) => {
                    std::fs::write(&path, yaml).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?
                }
                None => print!("{yaml}"),
            }
            Ok(())
        }
        ConfigCmd::Apply { file, dry_run, prune } => apply_document(&state, &file, dry_run, prune).await,
    }
}

/// Applies a configuration document as the operator, printing each change.
async fn apply_document(state: &AppState, file: &std::path::Path, dry_run: bool, prune: bool) -> anyhow::Result<()> {
    let yaml = std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    use portcullis::admin::declarative::{How, apply, process_env};
    let how = How { dry_run, prune, env: &process_env };
    let applied = apply(state, &Admin::operator(), &yaml, how)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {}", file.display(), user_error(e)))?;
    for line in &applied.changes {
        println!("{line}");
    }
    let n = applied.changes.len();
    match (n, dry_run) {
        (0, _) => println!("{}: nothing to change", file.display()),
        (_, true) => println!("{}: {n} change(s) would be made (dry run: nothing changed)", file.display()),
        (_, false) => println!("{}: {n} change(s) applied", file.display()),
    }
    Ok(())
}

async fn user(state: AppState, cmd: UserCmd) -> anyhow::Result<()> {
    let admin = Admin::operator();
    match cmd {
        UserCmd::Add { username, email, email_verified, name, password_stdin, admin: is_admin, groups, out } => {
            let (password, generated) =
                if password_stdin { (read_password_line()?, false) } else { (users::generate_password(), true) };
            let u = users::add(
                &state,
                &admin,
                &UserSpec {
                    username: &username,
                    password: &password,
                    email: email.as_deref(),
                    email_verified,
                    display_name: name.as_deref(),
                    is_admin,
                    groups: &groups,
                },
            )
            .await
            .map_err(user_error)?;
            let shown = generated.then_some(password);
            print(out.json, json!({"id": u.id, "username": u.username, "password": shown}), || {
                let mut s = format!("created user {} (id {})", u.username, u.id);
                if let Some(p) = &shown {
                    s.push_str(&format!("\npassword: {p}"));
                }
                s
            });
        }
        UserCmd::List { out } => {
            let users = store::users::list(&state.db).await?;
            print(out.json, json!(users), || {
                let mut s = format!("{:<36}  {:<20}  {:<8}  {}", "ID", "USERNAME", "STATUS", "EMAIL");
                for u in &users {
                    let status = if u.disabled {
                        "disabled"
                    } else if u.is_admin {
                        "admin"
                    } else {
                        "active"
                    };
                    s.push_str(&format!(
                        "\n{:<36}  {:<20}  {:<8}  {}",
                        u.id,
                        u.username,
                        status,
                        u.email.as_deref().unwrap_or("")
                    ));
                }
                s
            });
        }
        UserCmd::SetPassword { username, password_stdin, out } => {
            let (password, generated) =
                if password_stdin { (read_password_line()?, false) } else { (users::generate_password(), true) };
            users::set_password(&state, &admin, &username, &password).await.map_err(user_error)?;
            let shown = generated.then_some(password);
            print(out.json, json!({"username": username, "password": shown}), || match &shown {
                Some(p) => format!("password for {username} set\npassword: {p}"),
                None => format!("password for {username} set"),
            });
        }
        UserCmd::Disable { username, out } => {
            users::set_disabled(&state, &admin, &username, true).await.map_err(user_error)?;
            print(out.json, json!({"username": username, "disabled": true}), || format!("{username} disabled"));
        }
        UserCmd::GroupAdd { username, group, out } => {
            let added = users::add_to_group(&state, &admin, &username, &group).await.map_err(not_a_user(&username))?;
            print(out.json, json!({"username": username, "group": group, "changed": added}), || {
                if added {
                    format!("{username} added to {group}")
                } else {
                    format!("{username} was already in {group}")
                }
            });
        }
        UserCmd::GroupRemove { username, group, out } => {
            let removed =
                users::remove_from_group(&state, &admin, &username, &group).await.map_err(not_a_user(&username))?;
            print(out.json, json!({"username": username, "group": group, "changed": removed}), || {
                if removed {
                    format!("{username} removed from {group}")
                } else {
                    format!("{username} was not in {group}")
                }
            });
        }
        UserCmd::ResetMfa { username, out } => {
            users::reset_mfa(&state, &admin, &username).await.map_err(user_error)?;
            print(out.json, json!({"username": username, "mfa_reset": true}), || {
                format!("{username}: second factors and trusted devices removed")
            });
        }
        UserCmd::Enable { username, out } => {
            users::set_disabled(&state, &admin, &username, false).await.map_err(user_error)?;
            print(out.json, json!({"username": username, "disabled": false}), || format!("{username} enabled"));
        }
    }
    Ok(())
}

/// `NotFound` from a user lookup, said as the CLI says it.
fn not_a_user(username: &str) -> impl FnOnce(AppError) -> anyhow::Error + '_ {
    move |e| match e {
        AppError::NotFound => anyhow::anyhow!("no user `{username}`"),
        other => user_error(other),
    }
}

/// Domain errors as the CLI says them.
pub(crate) fn user_error(e: AppError) -> anyhow::Error {
    match e {
        AppError::BadRequest(m) | AppError::Conflict(m) => anyhow::anyhow!(m),
        other => other.into(),
    }
}

/// An app by id, client id or SAML entity ID, or the error the CLI prints.
pub(crate) async fn find_app(state: &AppState, reference: &str) -> anyhow::Result<store::apps::App> {
    match apps::find(state, reference).await {
        Err(AppError::NotFound) => anyhow::bail!("no app with id, client id or SAML entity ID `{reference}`"),
        r => Ok(r?),
    }
}

async fn app(state: AppState, cmd: AppCmd) -> anyhow::Result<()> {
    let admin = Admin::operator();
    match cmd {
        AppCmd::AddOidc {
            name,
            redirect_uris,
            post_logout_redirect_uris,
            client_id,
            public,
            scopes,
            client_credentials,
            out,
        } => {
            let created = apps::add_oidc(
                &state,
                &admin,
                &OidcAppSpec {
                    name: &name,
                    client_id: client_id.as_deref(),
                    redirect_uris: &redirect_uris,
                    post_logout_redirect_uris: &post_logout_redirect_uris,
                    public,
                    extra_scopes: &scopes,
                    client_credentials,
                },
            )
            .await
            .map_err(user_error)?;
            print(out.json, json!(created), || {
                let mut s = format!(
                    "registered {} (app id {})\nclient_id: {}",
                    created.name, created.app_id, created.client_id
                );
                match &created.client_secret {
                    Some(secret) => {
                        s.push_str(&format!("\nclient_secret: {}\n(the secret is shown only now)", secret.expose()))
                    }
                    None => s.push_str("\npublic client: no secret, PKCE (S256) required"),
                }
                if created.client_credentials {
                    s.push_str("\nclient credentials grant: allowed");
                }
                s
            });
        }
        AppCmd::AddSaml {
            name,
            metadata,
            entity_id,
            acs_urls,
            slo_url,
            sp_certificate,
            want_signed_requests,
            name_id_format,
            attributes,
            sign,
            allow_idp_initiated,
            default_relay_state,
            out,
        } => {
            let read = |p: &PathBuf| std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()));
            let attributes = if attributes.is_empty() {
                None
            } else {
                let parsed = attributes
                    .iter()
                    .map(|a| {
                        let (name, source) = a.split_once('=').context("--attribute takes NAME=SOURCE")?;
                        Ok(store::saml::AttributeMapping { name: name.to_owned(), source: source.to_owned() })
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?;
                Some(parsed)
            };
            let spec = SamlAppSpec {
                name,
                metadata: metadata.as_ref().map(read).transpose()?,
                entity_id,
                acs_urls,
                slo_url,
                certificate: sp_certificate.as_ref().map(read).transpose()?,
                want_requests_signed: want_signed_requests.then_some(true),
                name_id_format,
                attributes,
                sign,
                allow_idp_initiated,
                default_relay_state,
            };
            let sp = apps::add_saml(&state, &admin, spec).await.map_err(user_error)?;
            let idp = portcullis::saml::endpoints(&state);
            print(out.json, json!(sp), || {
                format!(
                    "registered {} (app id {})\nentity ID: {}\nACS: {}\nIdP metadata: {}",
                    sp.name,
                    sp.app_id,
                    sp.entity_id,
                    sp.acs.iter().map(|a| a.url.as_str()).collect::<Vec<_>>().join(", "),
                    idp.entity_id
                )
            });
        }
        AppCmd::List { out } => {
            let apps = store::apps::list(&state.db).await?;
            print(out.json, json!(apps), || {
                let mut s = format!("{:<36}  {:<8}  {}", "APP ID", "PROTOCOL", "NAME");
                for a in &apps {
                    s.push_str(&format!("\n{:<36}  {:<8}  {}", a.id, a.protocol, a.name));
                }
                s
            });
        }
        AppCmd::Show { id, out } => {
            let a = find_app(&state, &id).await?;
            let c = store::apps::find_client_by_app(&state.db, &a.id).await?;
            let client = c.as_ref().map(|c| {
                json!({
                    "client_id": c.client_id,
                    "public": c.is_public(),
                    "redirect_uris": c.redirect_uris,
                    "post_logout_redirect_uris": c.post_logout_redirect_uris,
                    "allowed_scopes": c.allowed_scopes,
                    "client_credentials": c.client_credentials(),
                })
            });
            let saml = store::saml::find_by_app(&state.db, &a.id).await?;
            let v = json!({"app": a, "oidc": client, "saml": saml});
            print(out.json, v.clone(), || serde_json::to_string_pretty(&v).expect("JSON serialises"));
        }
        AppCmd::Remove { id, out } => {
            let a = find_app(&state, &id).await?;
            apps::remove(&state, &admin, &a).await.map_err(user_error)?;
            print(out.json, json!({"removed": a.id}), || format!("removed {} ({})", a.name, a.id));
        }
    }
    Ok(())
}

async fn keys(state: AppState, cmd: KeysCmd) -> anyhow::Result<()> {
    match cmd {
        KeysCmd::Rotate { alg, out } => {
            let alg = match alg {
                Some(a) => SigningAlg::parse(&a).ok_or_else(|| anyhow::anyhow!("--alg must be RS256 or ES256"))?,
                None => state.config.tokens.signing_alg,
            };
            // Published now, signing after two reload intervals: every node has it in its
            // JWKS before any node signs with it.
            let delay = 2 * state.config.tokens.key_reload_seconds as i64;
            let kid = keystore::rotate(
                &state.db,
                &state.master_key,
                alg,
                state.now(),
                delay,
                state.config.tokens.retired_key_publish_seconds,
            )
            .await?;
            let activates_at = state.now() + delay;
            print(out.json, json!({"kid": kid, "alg": alg.as_str(), "activates_at": activates_at}), || {
                format!("new key {kid} ({}) is published now and signs from {delay} s on", alg.as_str())
            });
        }
        KeysCmd::List { out } => {
            let rows = store::keys::find_published(&state.db, state.now()).await?;
            let list: Vec<_> = rows
                .iter()
                .map(|k| json!({"kid": k.kid, "alg": k.alg, "created_at": k.created_at, "activates_at": k.activates_at.unwrap_or(k.created_at), "retired_at": k.retired_at, "expires_at": k.expires_at}))
                .collect();
            print(out.json, json!(list), || {
                let mut s = format!("{:<18}  {:<6}  {}", "KID", "ALG", "STATUS");
                let now = state.now();
                for k in &rows {
                    let from = k.activates_at.unwrap_or(k.created_at);
                    let status = match k.retired_at {
                        _ if from > now => format!("published, signs from {from}"),
                        Some(r) if r <= now => format!("retired, published until {}", k.expires_at.unwrap_or(0)),
                        Some(r) => format!("active until {r}"),
                        None => "active".to_owned(),
                    };
                    s.push_str(&format!("\n{:<18}  {:<6}  {}", k.kid, k.alg, status));
                }
                s
            });
        }
    }
    Ok(())
}
