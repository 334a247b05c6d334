//! How much processor time each scope's plugin may take on this node: every evaluation's time
//! is charged to its scope (the global assignment, one app, or all shadow runs together) in a
//! bucket refilled at `ms_per_second` and holding `BURST_SECONDS` of it. A scope in debt starts
//! no evaluation until the refill has paid it back, so a plugin burning its whole deadline on
//! every login of a flooded app takes at most that share of a core, however many slots and
//! logins there are, and the rest of the machine stays with everyone else. A selector that
//! answers in microseconds never gets near its share.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many seconds of its share a scope may spend at once after being idle.
pub const BURST_SECONDS: f64 = 4.0;

#[derive(Debug)]
struct Share {
    /// Milliseconds of processor time the scope may still spend (negative: in debt), as of `at`.
    balance_ms: f64,
    at: Instant,
}

#[derive(Debug)]
pub struct CpuShares {
    ms_per_second: u64,
    shares: Mutex<HashMap<String, Share>>,
}

impl CpuShares {
    /// `ms_per_second` 0: no limit.
    pub fn new(ms_per_second: u64) -> CpuShares {
        CpuShares { ms_per_second, shares: Mutex::new(HashMap::new()) }
    }

    pub fn ms_per_second(&self) -> u64 {
        self.ms_per_second
    }

    fn cap(&self) -> f64 {
        self.ms_per_second as f64 * BURST_SECONDS
    }

    /// `Ok` when `scope` may start an evaluation now; otherwise how long until its debt is paid.
    pub fn check(&self, scope: &str, now: Instant) -> Result<(), Duration> {
        if self.ms_per_second == 0 {
            return Ok(());
        }
        let mut shares = self.shares.lock().unwrap_or_else(|e| e.into_inner());
        let Some(share) = shares.get_mut(scope) else { return Ok(()) };
        share.refill(self.ms_per_second, self.cap(), now);
        if share.balance_ms > 0.0 {
            return Ok(());
        }
        Err(Duration::from_secs_f64(-share.balance_ms / self.ms_per_second as f64 + 0.001))
    }

    /// Charges `spent` to `scope` (an evaluation that ran).
    pub fn charge(&self, scope: &str, spent: Duration, now: Instant) {
        if self.ms_per_second == 0 || spent.is_zero() {
            return;
        }
        let cap = self.cap();
        let mut shares = self.shares.lock().unwrap_or_else(|e| e.into_inner());
        let share = shares.entry(scope.to_owned()).or_insert(Share { balance_ms: cap, at: now });
        share.refill(self.ms_per_second, cap, now);
        share.balance_ms -= spent.as_secs_f64() * 1000.0;
        // A full bucket is the same as no entry: forget scopes that went quiet (the map holds
        // at most the scopes in use, and those only while they have spent something).
        if shares.len() > 64 {
            shares.retain(|_, s| {
                s.refill(self.ms_per_second, cap, now);
                s.balance_ms < cap
            });
        }
    }
}

impl Share {
    fn refill(&mut self, ms_per_second: u64, cap: f64, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.balance_ms = (self.balance_ms + elapsed * ms_per_second as f64).min(cap);
        self.at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_in_debt_waits_for_the_refill_and_others_do_not() {
        let c = CpuShares::new(250);
        let t0 = Instant::now();
        assert!(c.check("f", t0).is_ok());
        // Ten runs of 100 ms: the 1 s burst is spent, then the scope is in debt.
        for _ in 0..10 {
            assert!(c.check("f", t0).is_ok());
            c.charge("f", Duration::from_millis(100), t0);
        }
        let wait = c.check("f", t0).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_millis(10), "{wait:?}");
        c.charge("f", Duration::from_millis(100), t0);
        let wait = c.check("f", t0).unwrap_err();
        assert!(wait >= Duration::from_millis(400) && wait < Duration::from_millis(420), "{wait:?}");
        assert!(c.check("c", t0).is_ok(), "another scope is not affected");
        // The refill pays the debt back at 250 ms a second.
        assert!(c.check("f", t0 + Duration::from_millis(300)).is_err());
        assert!(c.check("f", t0 + Duration::from_millis(410)).is_ok());
        // Over a long run the scope gets its share and no more.
        let (mut t, mut ran) = (t0 + Duration::from_secs(10), Duration::ZERO);
        let end = t + Duration::from_secs(60);
        while t < end {
            if c.check("f", t).is_ok() {
                c.charge("f", Duration::from_millis(100), t);
                ran += Duration::from_millis(100);
            }
            t += Duration::from_millis(10);
        }
        let per_second = ran.as_secs_f64() * 1000.0 / 60.0;
        assert!((250.0..=250.0 + 1000.0 / 60.0 + 2.0).contains(&per_second), "{per_second} ms/s");
    }

    #[test]
    fn zero_is_no_limit_and_quiet_scopes_are_forgotten() {
        let c = CpuShares::new(0);
        c.charge("f", Duration::from_secs(100), Instant::now());
        assert!(c.check("f", Instant::now()).is_ok());
        let c = CpuShares::new(100);
        let t0 = Instant::now();
        for i in 0..200 {
            c.charge(&format!("app{i}"), Duration::from_millis(1), t0);
        }
        c.charge("late", Duration::from_millis(1), t0 + Duration::from_secs(60));
        assert!(c.shares.lock().unwrap().len() <= 2, "the quiet ones were dropped");
    }
}
