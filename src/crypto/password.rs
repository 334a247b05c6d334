//! Argon2id password hashing (OWASP Password Storage Cheat Sheet: m=19 MiB, t=2, p=1) on a
//! bounded pool. Each hash holds `memory_kib` of RAM, so the number computed at once is capped
//! and so is the queue in front of it: a login flood gets 503 with Retry-After instead of
//! exhausting memory (ASVS 2.4.1; DESIGN §4).
//!
//! Under load the hashes reuse their memory: a hash that ends while others wait hands its
//! memory to the next one instead of giving it back to the system, so a flood of sign-ins
//! does not pay for mapping and zeroing `memory_kib` afresh every time. When nobody waits,
//! the memory goes back, so an idle server stays small.
//!
//! The hash is computed by argon2-rust, which picks the widest vector instructions the processor
//! has when the process starts (AVX-512, AVX2, SSE2, NEON): the same parameters and the same
//! hashes as the RustCrypto crate, in about half its processor time (7.0–7.3 against 13.6–14.9
//! ms per OWASP hash on one core of the 2-core benchmark machine). The attacker's cost is set by
//! the parameters, not by our speed; what the faster code buys is sign-ins per core. The
//! RustCrypto crate still reads and writes the PHC strings, and the tests hold the computation
//! to it.
//!
//! A hash computes in an anonymous mapping of its own (argon2-rust's arena, kept in `Arena`),
//! not in the allocator's heap: it goes back to the system when dropped whatever the global
//! allocator keeps for itself, and it asks for transparent huge pages, so a hash on fresh
//! memory takes a few hundred page faults instead of thousands.
//!
//! The queue is served by taking turns between the places the requests come from (`Source`:
//! an IPv4 address, an IPv6 /64), and when it is full a newcomer takes the place of the newest
//! request of the source with the most waiting, unless its own source has as many. Right
//! passwords cost no attempt, so without turns one address signing in to a handful of accounts
//! of its own as fast as it can would keep the queue full, and everyone else would be refused;
//! with them, a newcomer from elsewhere waits for about one hash of each busy source.
//!
//! Both bounds hold against clients that hang up: a place in the queue is a guard that takes
//! it out when the waiting request is dropped, and a slot travels into the blocking task, so it
//! is freed when the hash ends, not when the request that asked for it goes away.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use argon2::{Algorithm, Params, PasswordHash, Version};
use argon2_rust as fast;
use tokio::sync::oneshot;

use crate::audit::Origin;
use crate::config::PasswordConfig;
use crate::error::{AppError, AppResult};
use crate::turns::{Source, Turns};

#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

struct Inner {
    params: Params,
    /// Hashes computed at once, at most.
    slots: usize,
    max_queue: usize,
    queue: Mutex<Queue>,
    /// Hashes being computed now, and the most ever computed at once.
    running: AtomicUsize,
    most_running: AtomicUsize,
    /// Requests shed because the queue was full, and when shedding was last logged.
    shed: std::sync::atomic::AtomicU64,
    shed_logged_at: std::sync::Mutex<Option<std::time::Instant>>,
    /// Argon2 verifications run so far (also the unknown-user ones): proof that every
    /// sign-in attempt pays the same work, and a metric.
    verifications: std::sync::atomic::AtomicU64,
    /// A hash of a random password with the current parameters, verified against when the
    /// user does not exist so that an unknown user costs the same as a wrong password.
    dummy_hash: String,
    /// Argon2 memory handed from a hash that ended to the next one waiting (see the module
    /// documentation); never more than the pool's slots.
    spare: Mutex<Vec<Arena>>,
}

/// The slots given out, and the requests waiting for one, by source.
#[derive(Default)]
struct Queue {
    taken: usize,
    waiting: Turns<Source, (u64, oneshot::Sender<Slot>)>,
    /// The number the next place in the queue is known by.
    next_place: u64,
}

impl Inner {
    fn queue(&self) -> MutexGuard<'_, Queue> {
        // Nothing panics while holding the lock; a poisoned one still holds consistent counts.
        self.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
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
        let dummy_hash = hash_in(&mut Arena::default(), &params, &super::random_token())?;
        Ok(PasswordHasher {
            inner: Arc::new(Inner {
                params,
                slots,
                max_queue: cfg.max_queue,
                queue: Mutex::default(),
                running: AtomicUsize::new(0),
                most_running: AtomicUsize::new(0),
                shed: std::sync::atomic::AtomicU64::new(0),
                shed_logged_at: Mutex::new(None),
                verifications: std::sync::atomic::AtomicU64::new(0),
                dummy_hash,
                spare: Mutex::new(Vec::new()),
            }),
        })
    }

    /// Hashes a new password (PHC string), in the turn of the place the request came `from`.
    pub async fn hash(&self, password: &str, from: &Origin) -> AppResult<String> {
        let params = self.inner.params.clone();
        let password = password.to_owned();
        self.run(Source::of_origin(from), move |memory| hash_in(memory, &params, &password).map_err(AppError::Internal))
            .await
    }

    /// Verifies `password` against `stored`, in the turn of the place the request came `from`;
    /// with `None` (unknown user, or no password set) it spends the same work on a dummy hash
    /// and returns false.
    pub async fn verify(&self, stored: Option<&str>, password: &str, from: &Origin) -> AppResult<bool> {
        let (hash, real) = match stored {
            Some(h) => (h.to_owned(), true),
            None => (self.inner.dummy_hash.clone(), false),
        };
        let password = password.to_owned();
        let counter = self.inner.clone();
        let ok = self
            .run(Source::of_origin(from), move |memory| {
                counter.verifications.fetch_add(1, Ordering::Relaxed);
                verify_in(memory, &hash, password.as_bytes()).map_err(AppError::Internal)
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

    /// The most hashes ever computed at once (never more than the pool's slots).
    pub fn most_running(&self) -> usize {
        self.inner.most_running.load(Ordering::Relaxed)
    }

    /// Requests waiting for a slot now.
    pub fn waiting(&self) -> usize {
        self.inner.queue().waiting.len()
    }

    /// Requests refused because the queue was full, since start.
    pub fn shed(&self) -> u64 {
        self.inner.shed.load(Ordering::Relaxed)
    }

    async fn run<T: Send + 'static>(
        &self,
        source: Source,
        work: impl FnOnce(&mut Arena) -> AppResult<T> + Send + 'static,
    ) -> AppResult<T> {
        let slot = self.slot(source).await?;
        let counters = self.inner.clone();
        // The slot goes with the work: if this request is dropped now, the hash still runs to
        // its end on the blocking pool, and only then is the slot (and its memory) free.
        let task = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let now = counters.running.fetch_add(1, Ordering::AcqRel) + 1;
            counters.most_running.fetch_max(now, Ordering::AcqRel);
            let mut memory = counters.spare.lock().unwrap_or_else(|e| e.into_inner()).pop().unwrap_or_default();
            let out = work(&mut memory);
            // Kept only for a hash that is waiting now; otherwise the memory goes back.
            if !counters.queue().waiting.is_empty() && memory.is_mapped() {
                counters.spare.lock().unwrap_or_else(|e| e.into_inner()).push(memory);
            } else {
                // Nobody waits: this memory, and any a burst left behind, goes back.
                drop(memory);
                counters.spare.lock().unwrap_or_else(|e| e.into_inner()).clear();
            }
            counters.running.fetch_sub(1, Ordering::AcqRel);
            out
        });
        task.await.map_err(|e| AppError::internal(format!("hashing task failed: {e}")))?
    }

    /// A slot for a hash asked for from `source`: at once while one is free and nobody waits,
    /// otherwise when its source's turn comes. With the queue full, the newcomer is refused if
    /// its source has as many waiting as any other (less one); otherwise the newest request of
    /// the source with the most waiting is refused, and the newcomer takes its place.
    async fn slot(&self, source: Source) -> AppResult<Slot> {
        let inner = &self.inner;
        let (place, rx) = {
            let mut q = inner.queue();
            if q.taken < inner.slots && q.waiting.is_empty() {
                q.taken += 1;
                return Ok(Slot(Some(inner.clone())));
            }
            if q.waiting.len() >= inner.max_queue {
                let own = q.waiting.queued(&source);
                let most = q.waiting.longest().filter(|&(_, n)| n > own + 1).map(|(busiest, _)| *busiest);
                match most {
                    // Dropping its sender tells that request it was refused.
                    Some(busiest) => drop(q.waiting.pop_newest(&busiest)),
                    None => {
                        drop(q);
                        self.shedding();
                        return Err(AppError::Overloaded { retry_after_seconds: 1 });
                    }
                }
            }
            let (tx, rx) = oneshot::channel();
            let place = q.next_place;
            q.next_place += 1;
            q.waiting.push(source, (place, tx));
            (place, rx)
        };
        // Leaves the queue however this future ends (a client that hangs up drops it).
        let _place = Place { inner, source, place };
        match rx.await {
            Ok(slot) => Ok(slot),
            Err(_) => {
                self.shedding();
                Err(AppError::Overloaded { retry_after_seconds: 1 })
            }
        }
    }

    /// Shedding is expected under a flood: counted, and logged as one warning a minute at most.
    fn shedding(&self) {
        let n = self.inner.shed.fetch_add(1, Ordering::Relaxed) + 1;
        let mut last = self.inner.shed_logged_at.lock().unwrap_or_else(|e| e.into_inner());
        let due = last.is_none_or(|t| t.elapsed() >= std::time::Duration::from_secs(60));
        if due {
            *last = Some(std::time::Instant::now());
            drop(last);
            tracing::warn!(shed_total = n, "password hashing is at capacity: sign-ins are refused with 503");
        }
    }
}

/// A place in the hashing queue; dropping it leaves the queue (if a slot or a refusal has not
/// taken it out already).
struct Place<'a> {
    inner: &'a Arc<Inner>,
    source: Source,
    place: u64,
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        let left = self.inner.queue().waiting.remove(&self.source, |(p, _)| *p == self.place);
        drop(left);
    }
}

/// A slot of the pool; dropping it hands it to the next waiting request, in turn, or frees it.
struct Slot(Option<Arc<Inner>>);

impl Drop for Slot {
    fn drop(&mut self) {
        let Some(inner) = self.0.take() else { return };
        loop {
            let mut q = inner.queue();
            let Some((_, tx)) = q.waiting.pop() else {
                q.taken -= 1;
                return;
            };
            drop(q);
            match tx.send(Slot(Some(inner.clone()))) {
                Ok(()) => return,
                // That request went away: the slot goes on to the next, not back as a drop.
                Err(mut slot) => slot.0 = None,
            }
        }
    }
}

/// The memory of one hash, with the argon2-rust hasher that computes in it (see the module
/// documentation); empty until the first hash.
#[derive(Default)]
struct Arena(Option<fast::Hasher>);

impl Arena {
    fn is_mapped(&self) -> bool {
        self.0.as_ref().is_some_and(|h| h.reserved_blocks() > 0)
    }

    /// Computes the tag of `password` with `salt` into `out` (its length is the tag's), in
    /// this arena's memory, which grows to the hash's size and stays for the next one (Argon2
    /// writes every block before it reads it). False when the parameters are not a valid
    /// Argon2 hash; memory that cannot be had is an error, never a wrong password.
    fn compute(
        &mut self,
        algorithm: Algorithm,
        version: Version,
        params: &Params,
        password: &[u8],
        salt: &[u8],
        out: &mut [u8],
    ) -> anyhow::Result<bool> {
        let Some(argon) = in_argon2_rust(algorithm, version, params, out.len()) else { return Ok(false) };
        let hasher = self.0.get_or_insert_with(|| argon.hasher());
        hasher.set_argon2(argon);
        match hasher.hash_into(password, salt, out) {
            Ok(()) => Ok(true),
            Err(fast::Error::MemoryAllocationError) => {
                anyhow::bail!("cannot have {} KiB for Argon2", params.m_cost())
            }
            Err(_) => Ok(false),
        }
    }
}

/// The hash `algorithm`, `version` and `params` describe, with a tag of `tag_len` bytes, in
/// argon2-rust's terms; `None` when they are not a valid Argon2 hash.
fn in_argon2_rust(algorithm: Algorithm, version: Version, params: &Params, tag_len: usize) -> Option<fast::Argon2> {
    let algorithm = match algorithm {
        Algorithm::Argon2d => fast::Algorithm::Argon2d,
        Algorithm::Argon2i => fast::Algorithm::Argon2i,
        Algorithm::Argon2id => fast::Algorithm::Argon2id,
    };
    let version = match version {
        Version::V0x10 => fast::Version::V0x10,
        Version::V0x13 => fast::Version::V0x13,
    };
    let params = fast::Params::builder()
        .memory(fast::params::Memory::kib(params.m_cost().into()))
        .passes(params.t_cost())
        .lanes(params.p_cost())
        .tag_len(fast::params::TagLen::bytes(u64::try_from(tag_len).ok()?))
        .build()
        .ok()?;
    Some(fast::Argon2::new(algorithm, version, params))
}

/// Verifies `password` against the PHC string `stored` (any Argon2 variant and parameters),
/// computing in `memory`. A stored string that is no Argon2 hash verifies nothing.
fn verify_in(memory: &mut Arena, stored: &str, password: &[u8]) -> anyhow::Result<bool> {
    let Ok(hash) = PasswordHash::new(stored) else { return Ok(false) };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else { return Ok(false) };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm.as_str()) else { return Ok(false) };
    let version = match hash.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return Ok(false),
    };
    let Ok(params) = Params::try_from(&hash) else { return Ok(false) };
    let mut out = vec![0u8; expected.as_ref().len()];
    let computed = memory.compute(algorithm, version, &params, password, salt.as_ref(), &mut out)?;
    Ok(computed && super::ct_eq(&out, expected.as_ref()))
}

/// Hashes a new password with a random salt (PHC string), computing in `memory`.
fn hash_in(memory: &mut Arena, params: &Params, password: &str) -> anyhow::Result<String> {
    use argon2::password_hash::phc::{Output, ParamsString, Salt};
    let fail = |e: &dyn std::fmt::Display| anyhow::anyhow!("password hashing failed: {e}");
    let salt = super::random_bytes::<{ argon2::RECOMMENDED_SALT_LEN }>();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    if !memory.compute(Algorithm::Argon2id, Version::V0x13, params, password.as_bytes(), &salt, &mut out)? {
        return Err(fail(&"invalid Argon2 parameters"));
    }
    let hash = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|e| fail(&e))?,
        salt: Some(Salt::new(&salt).map_err(|e| fail(&e))?),
        hash: Some(Output::new(&out).map_err(|e| fail(&e))?),
    };
    Ok(hash.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nowhere() -> Origin {
        Origin { ip: None }
    }

    fn cheap() -> PasswordConfig {
        PasswordConfig { memory_kib: 64, iterations: 1, insecure_test_params: true, ..PasswordConfig::default() }
    }

    #[tokio::test]
    async fn hash_and_verify() {
        let h = PasswordHasher::new(&cheap()).unwrap();
        let stored = h.hash("correct horse", &nowhere()).await.unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(h.verify(Some(&stored), "correct horse", &nowhere()).await.unwrap());
        assert!(!h.verify(Some(&stored), "wrong", &nowhere()).await.unwrap());
        assert!(!h.verify(None, "correct horse", &nowhere()).await.unwrap());
        assert!(!h.needs_rehash(&stored));
    }

    /// Verification in reused memory says what the RustCrypto crate's own verification says,
    /// for every variant, version, lane count, tag length and size (a smaller hash after a
    /// larger one included), and the hashes made here are ones that crate verifies.
    #[test]
    fn verification_in_reused_memory_agrees_with_the_rustcrypto_crate() {
        use argon2::{Argon2, PasswordHasher as _, PasswordVerifier as _};
        let mut memory = Arena::default();
        let cases = [
            (Algorithm::Argon2id, Version::V0x13, 64, 1, 1, 32),
            (Algorithm::Argon2i, Version::V0x13, 128, 2, 1, 32),
            (Algorithm::Argon2d, Version::V0x10, 32, 1, 1, 16),
            (Algorithm::Argon2id, Version::V0x10, 16, 3, 1, 32),
            (Algorithm::Argon2id, Version::V0x13, 96, 2, 4, 64),
            (Algorithm::Argon2i, Version::V0x10, 40, 1, 2, 24),
            (Algorithm::Argon2d, Version::V0x13, 72, 4, 3, 48),
        ];
        for (alg, version, m, t, p, len) in cases {
            let params = Params::new(m, t, p, Some(len)).unwrap();
            let salt = b"sixteen byte slt";
            let stored = Argon2::new(alg, version, params).hash_password_with_salt(b"pw", salt).unwrap().to_string();
            for guess in [&b"pw"[..], b"pW", b"", b"pw "] {
                let library = Argon2::default().verify_password(guess, stored.as_str()).is_ok();
                assert_eq!(verify_in(&mut memory, &stored, guess).unwrap(), library, "{stored} with {guess:?}");
                assert_eq!(library, guess == b"pw");
            }
        }
        let kept = memory.0.as_ref().map(fast::Hasher::reserved_blocks);
        assert_eq!(kept, Some(128), "the memory grew to the largest hash and stayed");
        assert!(!verify_in(&mut memory, "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ", b"pw").unwrap(), "no hash part");
        assert!(!verify_in(&mut memory, "not a hash", b"pw").unwrap());
        // A new hash made in the same memory is one the RustCrypto crate reads and verifies.
        let params = Params::new(96, 1, 1, None).unwrap();
        let stored = hash_in(&mut memory, &params, "a new one").unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=96,t=1,p=1$"), "{stored}");
        assert!(Argon2::default().verify_password(b"a new one", stored.as_str()).is_ok());
        assert!(Argon2::default().verify_password(b"another", stored.as_str()).is_err());
        assert!(!verify_in(&mut memory, "$scrypt$ln=1,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2g", b"pw").unwrap());
    }

    /// At the production parameters (OWASP: 19 MiB, t=2, p=1) both implementations give the
    /// same hashes, in fresh memory and in memory that a hash of other parameters used between.
    #[test]
    fn production_parameters_give_the_rustcrypto_crates_hashes() {
        use argon2::{Argon2, PasswordHasher as _, PasswordVerifier as _};
        let params = Params::new(19 * 1024, 2, 1, None).unwrap();
        let small = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(64, 1, 1, None).unwrap())
            .hash_password_with_salt(b"small", b"sixteen byte slt")
            .unwrap()
            .to_string();
        let mut memory = Arena::default();
        for _ in 0..2 {
            let stored = hash_in(&mut memory, &params, "correct horse battery").unwrap();
            assert!(Argon2::default().verify_password(b"correct horse battery", stored.as_str()).is_ok());
            assert!(verify_in(&mut memory, &stored, b"correct horse battery").unwrap());
            assert!(!verify_in(&mut memory, &stored, b"correct horse batterY").unwrap());
            assert!(verify_in(&mut memory, &small, b"small").unwrap());
        }
    }

    /// Every backend this processor can run (scalar, SSE2, AVX2, AVX-512 or NEON) gives the
    /// RustCrypto crate's hash: a hash stored by a node that picked one verifies on a node that
    /// picks another.
    #[test]
    fn every_backend_gives_the_rustcrypto_crates_hashes() {
        use argon2::{Argon2, PasswordHasher as _};
        use fast::__internal::{Backend, hash_with_backend};
        let cases = [
            (Algorithm::Argon2id, Version::V0x13, 19 * 1024, 2, 1, 32),
            (Algorithm::Argon2i, Version::V0x10, 256, 3, 2, 16),
            (Algorithm::Argon2d, Version::V0x13, 96, 1, 3, 48),
        ];
        let backends = [Backend::Scalar, Backend::Sse2, Backend::Avx2, Backend::Avx512, Backend::Neon];
        let available: Vec<_> = backends.into_iter().filter(|b| b.is_available()).collect();
        assert!(available.contains(&fast::detected_backend()), "the backend picked is among those tried");
        for (alg, version, m, t, p, len) in cases {
            let params = Params::new(m, t, p, Some(len)).unwrap();
            let salt = b"sixteen byte slt";
            let stored = Argon2::new(alg, version, params.clone()).hash_password_with_salt(b"pw", salt).unwrap();
            let expected = stored.hash.unwrap();
            let argon = in_argon2_rust(alg, version, &params, len).unwrap();
            for &backend in &available {
                let mut out = vec![0u8; len];
                // SAFETY: `is_available` said this processor can run the backend.
                unsafe {
                    hash_with_backend(
                        backend,
                        argon.algorithm(),
                        argon.version(),
                        argon.params(),
                        b"pw",
                        salt,
                        &[],
                        &[],
                        &mut out,
                    )
                }
                .unwrap();
                assert_eq!(out, expected.as_bytes(), "{backend:?} on {stored}");
            }
        }
    }

    /// A pool of one slot with room for `max_queue` waiting, a stored hash of "pw", and the
    /// slot, held.
    async fn one_slot_held(max_queue: usize) -> (PasswordHasher, String, Slot) {
        let h = PasswordHasher::new(&PasswordConfig { max_concurrent: 1, max_queue, ..cheap() }).unwrap();
        let stored = h.hash("pw", &nowhere()).await.unwrap();
        let slot = h.slot(Source::of(None)).await.unwrap();
        (h, stored, slot)
    }

    #[tokio::test]
    async fn full_queue_is_refused() {
        // Hold the only slot, then a second caller must be refused rather than queued.
        let (h, stored, permit) = one_slot_held(0).await;
        let err = h.verify(Some(&stored), "pw", &nowhere()).await.unwrap_err();
        assert!(matches!(err, AppError::Overloaded { .. }));
        drop(permit);
        assert!(h.verify(Some(&stored), "pw", &nowhere()).await.unwrap());
        assert_eq!(h.shed(), 1);
    }

    /// A flood from one address fills the queue. A newcomer from elsewhere takes the place of
    /// the flood's newest request, an IPv6 host's addresses count as one place, and when the
    /// slot frees the places are served in turn.
    #[tokio::test]
    async fn a_full_queue_makes_room_for_other_places() {
        let (h, _, held) = one_slot_held(4).await;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let flood = std::iter::repeat_n(("flood", "203.0.113.9"), 6);
        let others = [
            ("user", "198.51.100.4"),
            ("host6", "2001:db8:1:2::1"),
            ("host6", "2001:db8:1:2:ffff::7"),
            ("user2", "::ffff:192.0.2.5"),
        ];
        for (who, ip) in flood.chain(others) {
            let before = h.waiting() as u64 + h.shed();
            let (h2, tx) = (h.clone(), tx.clone());
            // What `verify` and `hash` ask for, without the hash: the slot is reported as it
            // comes, and held until the test lets it go.
            tokio::spawn(async move {
                let from = Origin { ip: Some(ip.into()) };
                let _ = tx.send((who, h2.slot(Source::of_origin(&from)).await));
            });
            while h.waiting() as u64 + h.shed() == before {
                tokio::task::yield_now().await;
            }
        }
        assert_eq!((h.waiting(), h.shed()), (4, 6));
        let mut refused = Vec::new();
        for _ in 0..6 {
            let (who, slot) = rx.recv().await.unwrap();
            assert!(matches!(slot, Err(AppError::Overloaded { .. })));
            refused.push(who);
        }
        refused.sort();
        assert_eq!(refused, ["flood", "flood", "flood", "flood", "flood", "host6"], "the flood made room");
        let mut served = Vec::new();
        let mut slot = held;
        while h.waiting() > 0 {
            drop(slot);
            let (who, next) = rx.recv().await.unwrap();
            served.push(who);
            slot = next.unwrap();
        }
        assert_eq!(served, ["flood", "user", "host6", "user2"]);
        drop(slot);
        assert_eq!((h.waiting(), h.inner.queue().taken), (0, 0));
    }

    /// Waiting requests that are dropped (clients hanging up) give their place back.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn abandoned_waiters_leave_the_queue() {
        let (h, stored, permit) = one_slot_held(4).await;
        for _ in 0..20 {
            let h = h.clone();
            let stored = stored.clone();
            let waiter = tokio::spawn(async move { h.verify(Some(&stored), "pw", &nowhere()).await });
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            waiter.abort();
            let _ = waiter.await;
        }
        assert_eq!(h.waiting(), 0, "every abandoned place was given back");
        // The whole queue is still there: four more wait for the busy slot, none is shed.
        let waiters: Vec<_> = (0..4)
            .map(|_| {
                let (h, stored) = (h.clone(), stored.clone());
                tokio::spawn(async move { h.verify(Some(&stored), "pw", &nowhere()).await })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert_eq!((h.waiting(), h.shed()), (4, 0));
        drop(permit);
        for w in waiters {
            assert!(w.await.unwrap().unwrap());
        }
    }

    /// A request dropped while its hash runs does not free the slot early: the number of
    /// hashes computed at once never exceeds the pool.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn slots_are_held_until_the_hash_ends() {
        let slow = PasswordConfig {
            memory_kib: 8 * 1024,
            iterations: 4,
            max_concurrent: 1,
            max_queue: 100,
            insecure_test_params: true,
            ..PasswordConfig::default()
        };
        let h = PasswordHasher::new(&slow).unwrap();
        let stored = h.hash("pw", &nowhere()).await.unwrap();
        for _ in 0..10 {
            let (h2, stored) = (h.clone(), stored.clone());
            let t = tokio::spawn(async move { h2.verify(Some(&stored), "pw", &nowhere()).await });
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            t.abort();
        }
        while h.inner.queue().taken > 0 || h.inner.running.load(Ordering::Acquire) > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert_eq!(h.most_running(), 1, "never more hashes at once than slots");
    }
}
