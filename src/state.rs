//! Application state, passed explicitly to every handler (no globals).

use std::sync::{Arc, RwLock};

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::crypto::{KeyRing, MasterKey, PasswordHasher, keystore};
use crate::store::Db;

/// The state every handler gets: one shared allocation, so a request's copy of it is one
/// reference count (axum hands each handler and middleware its own copy; a struct of twenty
/// `Arc`s cost twenty contended increments and decrements per copy).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What `AppState` holds.
pub struct Shared {
    pub config: Arc<Config>,
    /// The issuer's origin, as browsers send it in `Origin` (derived once from the issuer).
    pub issuer_origin: Arc<str>,
    pub db: Db,
    pub master_key: Arc<MasterKey>,
    pub hasher: PasswordHasher,
    pub clock: Arc<dyn Clock>,
    /// The WebAuthn relying party (passkeys) for the issuer.
    pub passkeys: Arc<crate::mfa::passkey::RelyingParty>,
    /// The selector-plugin host (wasmtime engine and compiled plugins).
    pub plugins: Arc<crate::plugin_host::PluginHost>,
    /// The plugin decision log's writer.
    pub decisions: Arc<crate::mfa::decision_log::DecisionLog>,
    /// The SAML signing credential, read (or made) on first use.
    pub saml_credential: Arc<tokio::sync::OnceCell<Arc<crate::saml::credential::Credential>>>,
    /// The delivery outbox's transports and this node's worker signal.
    pub delivery: Arc<crate::delivery::Delivery>,
    /// The product's name, logo and colours on the pages.
    pub brand: Arc<crate::web::brand::Brand>,
    /// This process's Prometheus metrics (`GET /metrics`).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The OIDC client registrations this node has read (see `ClientCache`).
    pub clients: Arc<crate::store::apps::ClientCache>,
    /// Admission to the token endpoint's grants, fair between clients.
    pub grants: Arc<crate::oidc::fair_share::GrantGate>,
    keys: Arc<RwLock<Arc<KeyRing>>>,
    /// When keys were last re-read because a token named an unknown key (at most once a second).
    last_kid_reload: Arc<std::sync::Mutex<Option<std::time::Instant>>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("issuer", &self.config.issuer)
            .field("db", &self.db.kind())
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Opens the database from the configuration, migrates it and loads keys.
    pub async fn init(config: Config) -> anyhow::Result<AppState> {
        let db = Db::connect(&config).await?;
        Self::with_db(config, db, Arc::new(SystemClock)).await
    }

    /// Builds the state on an already-open database (tests pass their own pool and clock).
    pub async fn with_db(config: Config, db: Db, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
        crate::saml::xmlsec_log::route_to_log();
        db.migrate().await?;
        let (master_key, created) = MasterKey::load_or_create(&config.master_key_path())?;
        if created {
            tracing::warn!(path = %config.master_key_path().display(), "generated a new master key; back it up, and give every node the same one");
        }
        let hasher = PasswordHasher::new(&config.password)?;
        if config.password.insecure_test_params {
            tracing::warn!("password.insecure_test_params is set: passwords are hashed with test-only parameters");
        }
        let ring = keystore::load_or_init(&db, &master_key, config.tokens.signing_alg, clock.now()).await?;
        let passkeys = crate::mfa::passkey::RelyingParty::for_issuer(&config.issuer);
        if !passkeys.available() {
            tracing::warn!(issuer = %config.issuer, "passkeys are unavailable: the issuer host is not a domain name");
        }
        let plugins = crate::plugin_host::PluginHost::new(&config.plugins, Some(config.plugin_cache_dir()))?;
        let delivery = crate::delivery::Delivery::from_config(&config)?;
        let brand = crate::web::brand::Brand::from_config(&config.branding).map_err(anyhow::Error::msg)?;
        let grants = crate::oidc::fair_share::GrantGate::new(config.tokens.grants_in_flight);
        Ok(AppState(Arc::new(Shared {
            metrics: Arc::new(crate::metrics::Metrics::new(db.writers_waiting(), db.group_stats(), db.checkpoints())),
            delivery: Arc::new(delivery),
            brand: Arc::new(brand),
            decisions: Arc::new(crate::mfa::decision_log::DecisionLog::start(db.clone())),
            saml_credential: Arc::default(),
            passkeys: Arc::new(passkeys),
            issuer_origin: config.issuer_origin().into(),
            plugins: Arc::new(plugins),
            config: Arc::new(config),
            db,
            master_key: Arc::new(master_key),
            hasher,
            clock,
            clients: Arc::default(),
            grants,
            keys: Arc::new(RwLock::new(Arc::new(ring))),
            last_kid_reload: Arc::default(),
        })))
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    pub fn keys(&self) -> Arc<KeyRing> {
        self.keys.read().expect("key ring lock").clone()
    }

    /// Re-reads keys from the database (after a rotation by another process or node).
    pub async fn reload_keys(&self) -> crate::error::AppResult<()> {
        if let Some(ring) = keystore::load(&self.db, &self.master_key, self.now()).await? {
            *self.keys.write().expect("key ring lock") = Arc::new(ring);
        }
        Ok(())
    }

    /// Re-reads keys because a token named a key this node does not know yet (another node
    /// may have picked up a rotation first). At most once a second, so made-up key ids cannot
    /// turn into a database load. Returns whether it reloaded.
    pub async fn reload_keys_for_unknown_kid(&self) -> crate::error::AppResult<bool> {
        {
            let mut last = self.last_kid_reload.lock().unwrap_or_else(|e| e.into_inner());
            if last.is_some_and(|t| t.elapsed() < std::time::Duration::from_secs(1)) {
                return Ok(false);
            }
            *last = Some(std::time::Instant::now());
        }
        self.reload_keys().await?;
        Ok(true)
    }

    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.config.issuer, path)
    }
}
