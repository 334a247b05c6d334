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
//! Only authenticated clients come here (made-up client ids are refused before), so there is
//! at most one queue per registered client with requests waiting. A request that gives up
//! while waiting (its connection closed) leaves its place, and a slot handed to it goes on to
//! the next one: slots are never lost.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::error::{AppError, AppResult};

pub struct GrantGate {
    limit: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Grants being worked on: each holds a `GrantPermit`.
    in_flight: usize,
    /// Requests waiting, by client (entries leave when their queue empties).
    queues: HashMap<Arc<str>, VecDeque<oneshot::Sender<GrantPermit>>>,
    /// Clients with requests waiting, in the order their turns come.
    turns: VecDeque<Arc<str>>,
    /// Requests waiting now. The queues may also hold requests that gave up: they are passed
    /// over when their turn comes.
    waiting: usize,
}

impl Inner {
    /// The next waiting request, taking the clients in turn.
    fn next_waiter(&mut self) -> Option<oneshot::Sender<GrantPermit>> {
        let client = self.turns.pop_front()?;
        let queue = self.queues.get_mut(&client).expect("a client with a turn has a queue");
        let tx = queue.pop_front().expect("a client's queue is not left empty");
        if queue.is_empty() {
            self.queues.remove(&client);
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

    /// A slot for a grant of `client_id`: at once while fewer than the limit are worked on
    /// and nobody waits, otherwise when the client's turn comes.
    pub async fn admit(self: &Arc<Self>, client_id: &str) -> AppResult<GrantPermit> {
        let rx = {
            let mut g = self.lock();
            if g.in_flight < self.limit && g.turns.is_empty() {
                g.in_flight += 1;
                return Ok(GrantPermit { gate: Some(self.clone()) });
            }
            let (tx, rx) = oneshot::channel();
            match g.queues.get_mut(client_id) {
                Some(queue) => {
                    // Requests that gave up first are at the front: dropped here, a flood of
                    // them does not pile up while every slot is busy.
                    while queue.len() > 1 && queue.front().is_some_and(oneshot::Sender::is_closed) {
                        queue.pop_front();
                    }
                    queue.push_back(tx);
                }
                None => {
                    let client: Arc<str> = client_id.into();
                    g.queues.insert(client.clone(), VecDeque::from([tx]));
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
    fn hand_over(self: &Arc<Self>, tx: oneshot::Sender<GrantPermit>) -> bool {
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

    /// Starts a request of `client` that reports its slot on `admitted` when it gets one, and
    /// returns once it holds a slot or waits in its queue.
    async fn request(
        gate: &Arc<GrantGate>,
        client: &'static str,
        admitted: &mpsc::UnboundedSender<(&'static str, GrantPermit)>,
    ) -> tokio::task::JoinHandle<()> {
        let before = gate.in_flight() + gate.waiting();
        let (gate2, admitted) = (gate.clone(), admitted.clone());
        let task = tokio::spawn(async move {
            let permit = gate2.admit(client).await.unwrap();
            let _ = admitted.send((client, permit));
        });
        while gate.in_flight() + gate.waiting() == before {
            tokio::task::yield_now().await;
        }
        task
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
        let mut held = vec![rx.recv().await.unwrap().1, rx.recv().await.unwrap().1];
        let mut order = Vec::new();
        while gate.waiting() > 0 {
            drop(held.remove(0));
            let (client, permit) = rx.recv().await.unwrap();
            order.push(client);
            held.push(permit);
        }
        assert_eq!(
            order,
            ["a", "b", "c", "a", "a", "a", "a", "a"],
            "b and c waited for one grant each, not for a's flood"
        );
        drop(held);
        assert_eq!((gate.in_flight(), gate.waiting()), (0, 0));
        // Free again: the next request is let in at once.
        let _p = gate.admit("b").await.unwrap();
        assert_eq!(gate.in_flight(), 1);
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
        let mut late = Box::pin(gate.admit("c"));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(late.as_mut().poll(&mut cx).is_pending(), "c waits for b's slot");
        drop(permit);
        assert_eq!((gate.in_flight(), gate.waiting()), (1, 1), "the slot is c's, which has not looked yet");
        drop(late);
        assert_eq!((gate.in_flight(), gate.waiting()), (0, 0), "and came back when c went");
        let mut next = pin!(gate.admit("d"));
        assert!(matches!(next.as_mut().poll(&mut cx), Poll::Ready(Ok(_))));
    }
}
