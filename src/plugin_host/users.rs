//! What each user may ask of the active evaluation slots on this node: at most `PER_USER`
//! evaluations at a time, and at most `per_minute` started per minute (a token bucket holding a
//! minute's worth, refilled evenly). One account looping on an app's sign-in can then neither
//! hold that app's share of the slots nor burn its plugin's CPU: past the rate its logins are
//! paced, each waiting up to one token's worth of time for the next token (and, if another of
//! its logins got it, failing `busy`, secure, without the plugin having run). Waiting, rather
//! than failing at once, keeps a looping client to the rate instead of letting it spin the
//! server; a person past the rate just signs in a little later.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Active evaluations one user may have running at once.
pub const PER_USER: usize = 2;

/// Entries kept before idle ones are looked for and dropped.
const PRUNE_FLOOR: usize = 1024;

#[derive(Debug)]
struct Load {
    running: usize,
    /// Evaluations this user may still start, as of `at`.
    tokens: f64,
    at: Instant,
}

#[derive(Debug)]
pub struct Users {
    per_minute: u64,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    loads: HashMap<String, Load>,
    prune_at: usize,
}

impl Users {
    /// `per_minute` 0: no rate, only the concurrency share.
    pub fn new(per_minute: u64) -> Users {
        Users { per_minute, inner: Mutex::new(Inner { loads: HashMap::new(), prune_at: PRUNE_FLOOR }) }
    }

    pub fn per_minute(&self) -> u64 {
        self.per_minute
    }

    /// How long a login past the rate may wait for the user's next token: one token's worth
    /// of time (the user's logins are paced to the rate, one at a time).
    pub fn pace(&self) -> Duration {
        if self.per_minute == 0 { Duration::ZERO } else { Duration::from_secs_f64(60.0 / self.per_minute as f64) }
    }

    /// Spends one of the user's tokens for an evaluation starting now; past the rate, how long
    /// until the next one.
    pub fn take_token(&self, user_id: &str, now: Instant) -> Result<(), Duration> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let mut inner = self.lock(now);
        let cap = self.per_minute as f64;
        let load = inner.load(user_id, cap, now);
        load.refill(self.per_minute, now);
        if load.tokens < 1.0 {
            return Err(Duration::from_secs_f64((1.0 - load.tokens) * 60.0 / cap));
        }
        load.tokens -= 1.0;
        Ok(())
    }

    /// Takes one of the user's `PER_USER` places; `false` when they are all in use.
    pub fn enter(&self, user_id: &str, now: Instant) -> bool {
        let mut inner = self.lock(now);
        let load = inner.load(user_id, self.per_minute as f64, now);
        if load.running >= PER_USER {
            return false;
        }
        load.running += 1;
        true
    }

    /// The map, with idle users dropped once it has grown (amortised: each prune at least
    /// halves what it keeps relative to the next threshold).
    fn lock(&self, now: Instant) -> std::sync::MutexGuard<'_, Inner> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.loads.len() >= inner.prune_at {
            let per_minute = self.per_minute;
            inner.loads.retain(|_, l| !l.idle(per_minute, now));
            inner.prune_at = (inner.loads.len() * 2).max(PRUNE_FLOOR);
        }
        inner
    }

    /// Gives back a place taken by `enter`.
    pub fn leave(&self, user_id: &str, now: Instant) {
        let mut inner = self.lock(now);
        if let Some(load) = inner.loads.get_mut(user_id) {
            load.running = load.running.saturating_sub(1);
            if load.idle(self.per_minute, now) {
                inner.loads.remove(user_id);
            }
        }
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.inner.lock().unwrap().loads.len()
    }
}

impl Inner {
    /// The user's entry, new users starting with a full bucket of `cap` tokens.
    fn load(&mut self, user_id: &str, cap: f64, now: Instant) -> &mut Load {
        self.loads.entry(user_id.to_owned()).or_insert(Load { running: 0, tokens: cap, at: now })
    }
}

impl Load {
    fn refill(&mut self, per_minute: u64, now: Instant) {
        let secs = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + secs * per_minute as f64 / 60.0).min(per_minute as f64);
        self.at = now;
    }

    /// Nothing running and a full bucket: forgetting the user loses nothing.
    fn idle(&self, per_minute: u64, now: Instant) -> bool {
        if self.running > 0 {
            return false;
        }
        let secs = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens + secs * per_minute as f64 / 60.0 >= per_minute as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_a_minute_then_the_rate() {
        let users = Users::new(6);
        assert_eq!(users.pace(), Duration::from_secs(10));
        let t0 = Instant::now();
        for _ in 0..6 {
            users.take_token("u", t0).unwrap();
        }
        assert_eq!(users.take_token("u", t0), Err(Duration::from_secs(10)));
        // Another user is not affected.
        users.take_token("v", t0).unwrap();
        // One token comes back every 10 s.
        assert_eq!(users.take_token("u", t0 + Duration::from_secs(9)), Err(Duration::from_secs(1)));
        users.take_token("u", t0 + Duration::from_secs(10)).unwrap();
        assert!(users.take_token("u", t0 + Duration::from_secs(11)).is_err());
        // No rate: always a token.
        let free = Users::new(0);
        assert!((0..1000).all(|_| free.take_token("u", t0).is_ok()));
    }

    #[test]
    fn two_at_a_time() {
        let users = Users::new(3);
        let t = Instant::now();
        assert!(users.enter("u", t) && users.enter("u", t));
        assert!(!users.enter("u", t));
        assert!(users.enter("v", t));
        users.leave("u", t);
        assert!(users.enter("u", t));
    }

    #[test]
    fn idle_users_are_forgotten_only_with_a_full_bucket() {
        let users = Users::new(60);
        let t = Instant::now();
        users.take_token("u", t).unwrap();
        assert!(users.enter("u", t));
        users.leave("u", t);
        // One token short: remembered, or a flood could reset its bucket by pausing.
        assert_eq!(users.tracked(), 1);
        assert!(users.enter("u", t + Duration::from_secs(2)));
        users.leave("u", t + Duration::from_secs(2));
        assert_eq!(users.tracked(), 0);
        // Without a rate, a user is forgotten as soon as nothing runs.
        let free = Users::new(0);
        assert!(free.enter("u", t));
        free.leave("u", t);
        assert_eq!(free.tracked(), 0);
    }

    #[test]
    fn many_users_do_not_grow_the_map_without_bound() {
        let users = Users::new(60);
        let t = Instant::now();
        for i in 0..10 * PRUNE_FLOOR {
            let at = t + Duration::from_secs(i as u64);
            let id = format!("u{i}");
            users.take_token(&id, at).unwrap();
            assert!(users.enter(&id, at));
            users.leave(&id, at);
        }
        assert!(users.tracked() <= 2 * PRUNE_FLOOR, "{}", users.tracked());
    }
}
