//! Queues whose places are served by taking turns between the ones they belong to (the
//! places requests come from, the clients they are made for), so that a flood from one of
//! them waits behind its own requests and not in front of everyone else's. Used by the queues
//! in front of the token endpoint's work (`oidc::fair_share`) and of password hashing
//! (`crypto::password`).

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;

use crate::audit::{Origin, address_block};

/// Where a request comes from, as far as taking turns goes: its address's block
/// (`audit::address_block`: an IPv4 address, or an IPv6 address's /64, so that a host hopping
/// between the addresses of its /64 still has one turn), or unknown (the router driven
/// in-process, the `portcullis` command).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Source(Option<IpAddr>);

impl Source {
    pub fn of(address: Option<IpAddr>) -> Source {
        Source(address.map(address_block))
    }

    /// The source of a request whose origin was recorded for the audit log.
    pub fn of_origin(origin: &Origin) -> Source {
        Source::of(origin.ip.as_deref().and_then(|ip| ip.parse().ok()))
    }
}

/// Values queued under keys, taken out with the keys in turn: the first value of the key
/// whose turn it is, and that key goes to the back of the turns if it has more.
pub struct Turns<K, V> {
    /// The values waiting, by key; a key leaves when its queue empties.
    queues: HashMap<K, VecDeque<V>>,
    /// The keys with values waiting, in the order their turns come.
    order: VecDeque<K>,
    len: usize,
}

impl<K, V> Default for Turns<K, V> {
    fn default() -> Self {
        Turns { queues: HashMap::new(), order: VecDeque::new(), len: 0 }
    }
}

impl<K: Hash + Eq + Clone, V> Turns<K, V> {
    /// Values waiting, under every key.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Values waiting under `key`.
    pub fn queued(&self, key: &K) -> usize {
        self.queues.get(key).map_or(0, VecDeque::len)
    }

    /// Queues `value` behind the others of `key`; a new key's turn comes after the others'.
    pub fn push(&mut self, key: K, value: V) {
        match self.queues.get_mut(&key) {
            Some(queue) => queue.push_back(value),
            None => {
                self.queues.insert(key.clone(), VecDeque::from([value]));
                self.order.push_back(key);
            }
        }
        self.len += 1;
    }

    /// The first value of the key whose turn it is.
    pub fn pop(&mut self) -> Option<V> {
        let key = self.order.pop_front()?;
        let queue = self.queues.get_mut(&key).expect("a key with a turn has a queue");
        let value = queue.pop_front().expect("a key's queue is never left empty");
        if queue.is_empty() {
            self.queues.remove(&key);
        } else {
            self.order.push_back(key);
        }
        self.len -= 1;
        Some(value)
    }

    /// The key with the most values waiting (the first in turn among equals), and how many.
    pub fn longest(&self) -> Option<(&K, usize)> {
        let mut best: Option<(&K, usize)> = None;
        for key in &self.order {
            let n = self.queued(key);
            if best.is_none_or(|(_, most)| n > most) {
                best = Some((key, n));
            }
        }
        best
    }

    /// Takes out the last value queued under `key`.
    pub fn pop_newest(&mut self, key: &K) -> Option<V> {
        let value = self.queues.get_mut(key)?.pop_back()?;
        self.taken_from(key);
        Some(value)
    }

    /// Takes out the first value of `key` that `matches`.
    pub fn remove(&mut self, key: &K, mut matches: impl FnMut(&V) -> bool) -> Option<V> {
        let queue = self.queues.get_mut(key)?;
        let value = queue.remove(queue.iter().position(&mut matches)?)?;
        self.taken_from(key);
        Some(value)
    }

    /// Takes out the values at the front of `key`'s queue while they are `stale`, but not its
    /// last one: the key keeps its turn, and no other key's is looked at (a caller may do this
    /// at every push, with many keys waiting).
    pub fn drop_stale(&mut self, key: &K, mut stale: impl FnMut(&V) -> bool) {
        let Some(queue) = self.queues.get_mut(key) else { return };
        while queue.len() > 1 && queue.front().is_some_and(&mut stale) {
            queue.pop_front();
            self.len -= 1;
        }
    }

    /// Counts a value taken out of `key`'s queue, and lets the key go if none is left.
    fn taken_from(&mut self, key: &K) {
        self.len -= 1;
        if self.queues.get(key).is_some_and(VecDeque::is_empty) {
            self.queues.remove(key);
            self.order.retain(|k| k != key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_take_turns_and_leave_when_empty() {
        let mut t = Turns::default();
        for (k, v) in [("a", 1), ("a", 2), ("a", 3), ("b", 4), ("c", 5), ("c", 6)] {
            t.push(k, v);
        }
        assert_eq!((t.len(), t.queued(&"a"), t.longest()), (6, 3, Some((&"a", 3))));
        assert_eq!(t.pop_newest(&"a"), Some(3));
        assert_eq!(t.longest(), Some((&"a", 2)), "the first in turn among equals");
        assert_eq!(t.remove(&"b", |v| *v == 4), Some(4));
        assert_eq!(t.remove(&"b", |_| true), None, "b left with its last value");
        let mut order = Vec::new();
        while let Some(v) = t.pop() {
            order.push(v);
        }
        assert_eq!(order, [1, 5, 2, 6]);
        assert!(t.is_empty() && t.longest().is_none());
        t.push("b", 7);
        t.push("b", 8);
        t.push("a", 9);
        t.drop_stale(&"b", |v| *v < 10);
        assert_eq!((t.len(), t.queued(&"b")), (2, 1), "the last one stays");
        assert_eq!((t.pop(), t.pop(), t.pop()), (Some(8), Some(9), None));
    }

    #[test]
    fn a_source_is_an_ipv4_address_or_an_ipv6_64() {
        let s = |a: &str| Source::of(Some(a.parse().unwrap()));
        assert_eq!(s("2001:db8:1:2::1"), s("2001:db8:1:2:ffff:eeee:dddd:cccc"));
        assert_ne!(s("2001:db8:1:2::1"), s("2001:db8:1:3::1"));
        assert_eq!(s("::ffff:192.0.2.1"), s("192.0.2.1"), "an IPv4-mapped address is its IPv4 address");
        assert_ne!(s("192.0.2.1"), s("192.0.2.2"));
        assert_ne!(s("192.0.2.1"), Source::of(None));
        let o = |ip: &str| Source::of_origin(&Origin { ip: Some(ip.into()) });
        assert_eq!(o("2001:db8:1:2::1"), s("2001:db8:1:2::9"));
        assert_eq!(o("cli"), Source::of(None));
        assert_eq!(Source::of_origin(&Origin { ip: None }), Source::of(None));
    }
}
