//! Admission to the token endpoint's work, shared fairly between clients.
//!
//! A grant's cost is its signatures (and, for a refresh or a code, its write): work that one
//! client can ask for as fast as it can send requests. Without a gate, a flood from one client
//! would put thousands of grants ahead of another client's one (RSA signatures on the blocking
//! pool's threads, ECDSA ones on the async workers), and that client would wait for all of
//! them. Here at most `tokens.grants_in_flight` grants are worked on at once; past that, a
//! client's requests wait in a queue of its own, and a slot that frees goes to the clients
//! with waiting requests in turn. A client alone may use every slot (a benchmark, a batch job
//! is not slowed); another client arriving during its flood waits for about one grant, not
//! for the flood.
//!
//! Within a client's turn, the places its requests come from (`Source`) take turns in the
//! same way: anyone can send grants in a public client's name, and a flood from one address
//! must not make the app's own users wait for all of it.
//!
//! Only authenticated clients come here (made-up client ids are refused before), so there is
//! at most one queue per registered client with requests waiting. A request that gives up
//! while waiting (its connection closed) leaves its place, and a slot handed to it goes on to
//! the next one: slots are never lost.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::error::{AppError, AppResult};
use crate::turns::{Source, Turns};

pub struct GrantGate {
    limit: usize,
    inner: Mutex<Inner>,
}

type Waiter = oneshot::Sender<GrantPermit>;

#[derive(Default)]
struct Inner {
    /// Grants being worked on: each holds a `GrantPermit`.
    in_flight: usize,
    /// Requests waiting, by client (entries leave when their queue empties).
    clients: HashMap<Arc<str>, ClientQueue>,
    /// Clients with requests waiting, in the order their turns come.
    turns: VecDeque<Arc<str>>,
    /// Requests waiting now. The queues may also hold requests that gave up: they are passed
    /// over when their turn comes.
    waiting: usize,
}

/// One client's waiting requests, by source. Anyone may send grants in a public client's
/// name (a made-up refresh token costs nothing to send), so within a client the sources
/// take turns too: a flood from one address waits behind its own requests, and the app's
/// users elsewhere wait for about one of its grants each, not for the flood.
#[derive(Default)]
struct ClientQueue(Turns<Source, Waiter>);

impl ClientQueue {
    fn push(&mut self, source: Source, tx: Waiter) {
        // Requests that gave up first are at the front: dropped here, a flood of them does
        // not pile up while every slot is busy.
        self.0.drop_stale(&source, oneshot::Sender::is_closed);
        self.0.push(source, tx);
    }
}

impl Inner {
    /// The next waiting request, taking the clients in turn (and each client's sources).
    fn next_waiter(&mut self) -> Option<Waiter> {
        let client = self.turns.pop_front()?;
        let queue = self.clients.get_mut(&client).expect("a client with a turn has a queue");
        let tx = queue.0.pop().expect("a client's queue is not left empty");
        if queue.0.is_empty() {
            self.clients.remove(&client);
        } else {
            self.turns.push_back(client);
        }
        Some(tx)
    }
}

/// A grant's slot; dropping it frees the slot for the next waiting request.
pub struct GrantPermit {
    gate: Option<Arc<GrantGate>>,
}

impl Drop for GrantPermit {
    fn drop(&mut self) {
        if let Some(gate) = self.gate.take() {
            gate.release();
        }
    }
}

/// Counts a request as waiting until it has its slot or gives up.
struct Waiting<'a>(&'a GrantGate);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.lock().waiting -= 1;
    }
}

impl std::fmt::Debug for GrantGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrantGate").field("limit", &self.limit).finish_non_exhaustive()
    }
}

impl GrantGate {
    /// A gate letting `limit` grants (at least one) be worked on at once.
    pub fn new(limit: usize) -> Arc<GrantGate> {
        Arc::new(GrantGate { limit: limit.max(1), inner: Mutex::new(Inner::default()) })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Nothing panics while holding the lock; a poisoned one still holds consistent counts.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A slot for a grant of `client_id` asked for from `source`: at once while fewer than the
    /// limit are worked on and nobody waits, otherwise when the client's turn comes and,
    /// within it, the source's.
    pub async fn admit(self: &Arc<Self>, client_id: &str, source: Source) -> AppResult<GrantPermit> {
        let rx = {
            let mut g = self.lock();
            if g.in_flight < self.limit && g.turns.is_empty() {
                g.in_flight += 1;
                return Ok(GrantPermit { gate: Some(self.clone()) });
            }
            let (tx, rx) = oneshot::channel();
            match g.clients.get_mut(client_id) {
                Some(queue) => queue.push(source, tx),
                None => {
                    let client: Arc<str> = client_id.into();
                    let mut queue = ClientQueue::default();
                    queue.push(source, tx);
                    g.clients.insert(client.clone(), queue);
                    g.turns.push_back(client);
                }
            }
            g.waiting += 1;
            rx
        };
        let _waiting = Waiting(self);
        rx.await.map_err(|_| AppError::internal("the grant gate went away"))
    }

    /// Hands the slot of a finished grant to the next waiting request that is still there,
    /// or frees it.
    fn release(self: &Arc<Self>) {
        loop {
            let tx = {
                let mut g = self.lock();
                match g.next_waiter() {
                    Some(tx) => tx,
                    None => {
                        g.in_flight -= 1;
                        return;
                    }
                }
            };
            if self.hand_over(tx) {
                return;
            }
        }
    }

    /// Gives a slot to a waiting request; false when it gave up (the slot is still ours).
    fn hand_over(self: &Arc<Self>, tx: Waiter) -> bool {
        match tx.send(GrantPermit { gate: Some(self.clone()) }) {
            Ok(()) => true,
            Err(mut permit) => {
                // Not dropped as a permit: that would free the slot we are still handing on.
                permit.gate = None;
                false
            }
        }
    }

    /// Grants being worked on now.
    pub fn in_flight(&self) -> usize {
        self.lock().in_flight
    }

    /// Requests waiting for a slot now.
    pub fn waiting(&self) -> usize {
        self.lock().waiting
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    use tokio::sync::mpsc;

    use super::*;

    /// Starts a request of `who` (a client, or `client@address`) that reports its slot on
    /// `admitted` when it gets one, and returns once it holds a slot or waits in its queue.
    async fn request(
        gate: &Arc<GrantGate>,
        who: &'static str,
        admitted: &mpsc::UnboundedSender<(&'static str, GrantPermit)>,
    ) -> tokio::task::JoinHandle<()> {
        let (client, address) = who.split_once('@').map_or((who, None), |(c, a)| (c, Some(a)));
        let source = Source::of(address.map(|a| a.parse().unwrap()));
        let before = gate.in_flight() + gate.waiting();
        let (gate2, admitted) = (gate.clone(), admitted.clone());
        let task = tokio::spawn(async move {
            let permit = gate2.admit(client, source).await.unwrap();
            let _ = admitted.send((who, permit));
        });
        while gate.in_flight() + gate.waiting() == before {
            tokio::task::yield_now().await;
        }
        task
    }

    /// Lets the held slots go one at a time, as grants finish, and returns who got each.
    async fn served(
        gate: &Arc<GrantGate>,
        rx: &mut mpsc::UnboundedReceiver<(&'static str, GrantPermit)>,
        mut held: Vec<GrantPermit>,
    ) -> Vec<&'static str> {
        let mut order = Vec::new();
        while gate.waiting() > 0 {
            drop(held.remove(0));
            let (who, permit) = rx.recv().await.unwrap();
            order.push(who);
            held.push(permit);
        }
        order
    }

    #[tokio::test]
    async fn slots_go_to_the_clients_in_turn() {
        let gate = GrantGate::new(2);
        let (tx, mut rx) = mpsc::unbounded_channel();
        // A flood from `a` takes both slots and queues six more; `b` and `c` come after it.
        for _ in 0..8 {
            request(&gate, "a", &tx).await;
        }
        request(&gate, "b", &tx).await;
        request(&gate, "c", &tx).await;
        assert_eq!((gate.in_flight(), gate.waiting()), (2, 8));
        let held = vec![rx.recv().await.unwrap().1, rx.recv().await.unwrap().1];
        let order = served(&gate, &mut rx, held).await;
        assert_eq!(
            order,
            ["a", "b", "c", "a", "a", "a", "a", "a"],
            "b and c waited for one grant each, not for a's flood"
        );
        assert_eq!((gate.in_flight(), gate.waiting()), (0, 0));
        // Free again: the next request is let in at once.
        let _p = gate.admit("b", Source::of(None)).await.unwrap();
        assert_eq!(gate.in_flight(), 1);
    }

    #[tokio::test]
    async fn within_a_client_its_sources_take_turns() {
        let gate = GrantGate::new(1);
        let (tx, mut rx) = mpsc::unbounded_channel();
        // Floods in the app's name (a made-up refresh token costs nothing to send): one from an
        // IPv4 address, one from an IPv6 host hopping between addresses of its /64. Then two
        // of the app's users elsewhere, and another client.
        for _ in 0..5 {
            request(&gate, "app@203.0.113.9", &tx).await;
        }
        for _ in 0..2 {
            for who in ["app@2001:db8:1:2::1", "app@2001:db8:1:2:ffff::7", "app@2001:db8:1:2::8"] {
                request(&gate, who, &tx).await;
            }
        }
        request(&gate, "app@198.51.100.4", &tx).await;
        request(&gate, "app@::ffff:198.51.100.5", &tx).await;
        request(&gate, "other@203.0.113.9", &tx).await;
        let held = vec![rx.recv().await.unwrap().1];
        let order = served(&gate, &mut rx, held).await;
        let short = |w: &'static str| match w {
            "app@203.0.113.9" => "flood",
            w if w.starts_with("app@2001:db8:1:2:") => "flood6",
            "app@198.51.100.4" => "user",
            "app@::ffff:198.51.100.5" => "user2",
            w => w.split('@').next().unwrap(),
        };
        let order: Vec<&str> = order.into_iter().map(short).collect();
        assert_eq!(
            order,
            [
                "flood", "other", "flood6", "user", "user2", "flood", "flood6", "flood", "flood6", "flood", "flood6",
                "flood6", "flood6"
            ],
            "the app's users waited for one grant of each flood (and of the other client's turn), not for them"
        );
        assert_eq!((gate.in_flight(), gate.waiting()), (0, 0));
    }

    #[tokio::test]
    async fn a_request_that_gives_up_loses_no_slot() {
        let gate = GrantGate::new(1);
        let (tx, mut rx) = mpsc::unbounded_channel();
        request(&gate, "a", &tx).await;
        let holder = rx.recv().await.unwrap().1;
        // Two of a's waiting requests give up (their connections closed), then b's waits.
        let gone = [request(&gate, "a", &tx).await, request(&gate, "a", &tx).await];
        request(&gate, "b", &tx).await;
        for t in &gone {
            t.abort();
        }
        for t in gone {
            let _ = t.await;
        }
        drop(holder);
        let (client, permit) = rx.recv().await.unwrap();
        assert_eq!(client, "b", "the slot passed over the requests that gave up");
        assert_eq!((gate.in_flight(), gate.waiting()), (1, 0));

        // A slot handed to a request that goes away before it looks: freed with it.
        let mut late = Box::pin(gate.admit("c", Source::of(None)));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(late.as_mut().poll(&mut cx).is_pending(), "c waits for b's slot");
        drop(permit);
        assert_eq!((gate.in_flight(), gate.waiting()), (1, 1), "the slot is c's, which has not looked yet");
        drop(late);
        assert_eq!((gate.in_flight(), gate.waiting()), (0, 0), "and came back when c went");
        let mut next = pin!(gate.admit("d", Source::of(None)));
        assert!(matches!(next.as_mut().poll(&mut cx), Poll::Ready(Ok(_))));
    }
}
