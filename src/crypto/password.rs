//! Argon2id password hashing (OWASP Password Storage Cheat Sheet: m=19 MiB, t=2, p=1) on a
//! bounded pool. Each hash holds `memory_kib` of RAM, so the number computed at once is capped
//! and so is the queue in front of it: a login flood gets 503 with Retry-After instead of
//! exhausting memory (ASVS 2.4.1; DESIGN §4).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use tokio::sync::Semaphore;

use crate::config::PasswordConfig;
use crate::error::{AppError, AppResult};

#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

struct Inner {
    params: Params,
    slots: Semaphore,
    waiting: AtomicUsize,
    max_queue: usize,
    /// Argon2 verifications run so far (also the unknown-user ones): proof that every
    /// sign-in attempt pays the same work, and a metric.
    verifications: std::sync::atomic::AtomicU64,
    /// A hash of a random password with the current parameters, verified against when the
    /// user does not exist so that an unknown user costs the same as a wrong password.
    dummy_hash: String,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher").field("params", &self.inner.params).finish()
    }
}

impl PasswordHasher {
    pub fn new(cfg: &PasswordConfig) -> anyhow::Result<Self> {
        let params = Params::new(cfg.memory_kib, cfg.iterations, cfg.parallelism, None)
            .map_err(|e| anyhow::anyhow!("invalid Argon2 parameters: {e}"))?;
        let slots = if cfg.max_concurrent == 0 {
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)
        } else {
            cfg.max_concurrent
        };
        let dummy_hash = hash_blocking(&params, &super::random_token())?;
        Ok(PasswordHasher {
            inner: Arc::new(Inner {
                params,
                slots: Semaphore::new(slots),
                waiting: AtomicUsize::new(0),
                max_queue: cfg.max_queue,
                verifications: std::sync::atomic::AtomicU64::new(0),
                dummy_hash,
            }),
        })
    }

    /// Hashes a new password (PHC string).
    pub async fn hash(&self, password: &str) -> AppResult<String> {
        let params = self.inner.params.clone();
        let password = password.to_owned();
        self.run(move || hash_blocking(&params, &password).map_err(AppError::Internal)).await
    }

    /// Verifies `password` against `stored`; with `None` (unknown user, or no password set)
    /// it spends the same work on a dummy hash and returns false.
    pub async fn verify(&self, stored: Option<&str>, password: &str) -> AppResult<bool> {
        let (hash, real) = match stored {
            Some(h) => (h.to_owned(), true),
            None => (self.inner.dummy_hash.clone(), false),
        };
        let password = password.to_owned();
        let counter = self.inner.clone();
        let ok = self
            .run(move || {
                counter.verifications.fetch_add(1, Ordering::Relaxed);
                let ok = Argon2::default().verify_password(password.as_bytes(), hash.as_str()).is_ok();
                Ok(ok)
            })
            .await?;
        Ok(ok && real)
    }

    pub fn verifications(&self) -> u64 {
        self.inner.verifications.load(Ordering::Relaxed)
    }

    /// True when a stored hash was made with other parameters than the configured ones, so it
    /// can be upgraded at the next successful login.
    pub fn needs_rehash(&self, stored: &str) -> bool {
        let p = &self.inner.params;
        let expected = format!("$argon2id$v=19$m={},t={},p={}$", p.m_cost(), p.t_cost(), p.p_cost());
        !stored.starts_with(&expected)
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> AppResult<T> + Send + 'static) -> AppResult<T> {
        let inner = &self.inner;
        // Count ourselves as waiting; refuse when the queue is full.
        let before = inner.waiting.fetch_add(1, Ordering::AcqRel);
        if inner.slots.available_permits() == 0 && before >= inner.max_queue {
            inner.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(AppError::Overloaded { retry_after_seconds: 1 });
        }
        let permit = inner.slots.acquire().await;
        inner.waiting.fetch_sub(1, Ordering::AcqRel);
        let _permit = permit.map_err(|_| AppError::internal("hashing pool closed"))?;
        tokio::task::spawn_blocking(work).await.map_err(|e| AppError::internal(format!("hashing task failed: {e}")))?
    }
}

fn hash_blocking(params: &Params, password: &str) -> anyhow::Result<String> {
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let hash = argon.hash_password(password.as_bytes()).map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))?;
    Ok(hash.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordConfig {
        PasswordConfig { memory_kib: 64, iterations: 1, insecure_test_params: true, ..PasswordConfig::default() }
    }

    #[tokio::test]
    async fn hash_and_verify() {
        let h = PasswordHasher::new(&cheap()).unwrap();
        let stored = h.hash("correct horse").await.unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(h.verify(Some(&stored), "correct horse").await.unwrap());
        assert!(!h.verify(Some(&stored), "wrong").await.unwrap());
        assert!(!h.verify(None, "correct horse").await.unwrap());
        assert!(!h.needs_rehash(&stored));
    }

    #[tokio::test]
    async fn full_queue_is_refused() {
        let cfg = PasswordConfig { max_concurrent: 1, max_queue: 0, ..cheap() };
        let h = PasswordHasher::new(&cfg).unwrap();
        let stored = h.hash("pw").await.unwrap();
        // Hold the only slot, then a second caller must be refused rather than queued.
        let permit = h.inner.slots.acquire().await.unwrap();
        let err = h.verify(Some(&stored), "pw").await.unwrap_err();
        assert!(matches!(err, AppError::Overloaded { .. }));
        drop(permit);
        assert!(h.verify(Some(&stored), "pw").await.unwrap());
    }
}
