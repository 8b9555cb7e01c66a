//! Requests between nodes, as the pub/sub and streams adapters both make and answer them: this
//! node's requests waiting for answers, the loops that collect the answers, and the tasks that
//! relay this node's clients' answers to another node's request. The adapters differ only in
//! how a message is put on the wire and where its fields are, which they pass in.

use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use sio_server::{AdapterError, BroadcastAcks, Value};
use tokio::sync::mpsc;

/// This node's requests waiting for answers, by request id.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    waiting: Mutex<HashMap<String, mpsc::UnboundedSender<Value>>>,
}

impl Pending {
    fn waiting(&self) -> MutexGuard<'_, HashMap<String, mpsc::UnboundedSender<Value>>> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for answers to request `id` until the returned request is dropped.
    pub(crate) fn register(self: &Arc<Self>, id: String) -> PendingRequest {
        let (tx, answers) = mpsc::unbounded_channel();
        self.waiting().insert(id.clone(), tx);
        PendingRequest {
            id,
            answers,
            pending: self.clone(),
        }
    }

    /// Whether `id` is one of this node's requests.
    pub(crate) fn contains(&self, id: &str) -> bool {
        self.waiting().contains_key(id)
    }

    /// Hands `answer` to request `id` if this node still waits for it (else it is dropped).
    pub(crate) fn answer(&self, id: &str, answer: Value) {
        let waiting = self.waiting().get(id).cloned();
        if let Some(waiting) = waiting {
            let _ = waiting.send(answer);
        }
    }
}

/// A request of this node, unregistered when dropped.
pub(crate) struct PendingRequest {
    pub(crate) id: String,
    answers: mpsc::UnboundedReceiver<Value>,
    pending: Arc<Pending>,
}

impl Drop for PendingRequest {
    fn drop(&mut self) {
        self.pending.waiting().remove(&self.id);
    }
}

/// Asks every other node (`nodes` counts this one) and waits up to `timeout` for one answer from
/// each, giving each answer to `each`. With no other node nothing is published.
///
/// # Errors
/// [`AdapterError::Transport`] when the nodes cannot be counted, [`AdapterError::Timeout`] when
/// fewer answers came in time.
pub(crate) async fn ask_other_nodes(
    nodes: impl Future<Output = Result<usize, AdapterError>>,
    register: impl FnOnce() -> PendingRequest,
    publish: impl FnOnce(&str),
    timeout: Duration,
    mut each: impl FnMut(Value),
) -> Result<(), AdapterError> {
    let expected = nodes.await?.saturating_sub(1);
    if expected == 0 {
        return Ok(());
    }
    let mut request = register();
    publish(&request.id);
    let deadline = tokio::time::Instant::now() + timeout;
    for received in 0..expected {
        match tokio::time::timeout_at(deadline, request.answers.recv()).await {
            Ok(Some(answer)) => each(answer),
            Ok(None) | Err(_) => return Err(AdapterError::Timeout { received, expected }),
        }
    }
    Ok(())
}

/// What an answer to a broadcast with acknowledgements says.
pub(crate) enum AckAnswer {
    /// A node's number of clients that were sent the packet.
    ClientCount(usize),
    /// One client's acknowledgement (its arguments).
    Ack(Vec<Value>),
    /// Something else.
    Other,
}

/// Collects a broadcast's acknowledgements, this node's (`local`, `local_count` of them) and the
/// other nodes' (answers to `request`, read with `read`), until each node has said how many
/// clients it reached and all of those have answered, or `timeout`.
pub(crate) async fn collect_broadcast_acks(
    mut local: mpsc::UnboundedReceiver<Vec<Value>>,
    local_count: usize,
    mut request: PendingRequest,
    nodes: impl Future<Output = Result<usize, AdapterError>>,
    timeout: Duration,
    read: impl Fn(Value) -> AckAnswer,
) -> BroadcastAcks {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut expected = local_count;
    let mut responses = Vec::with_capacity(expected);
    let servers = tokio::time::timeout_at(deadline, nodes)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or(1);
    let mut answered_servers = 1;
    let mut local_open = true;
    while answered_servers < servers || responses.len() < expected {
        tokio::select! {
            answer = local.recv(), if local_open => match answer {
                Some(answer) => responses.push(answer),
                None => local_open = false,
            },
            remote = request.answers.recv() => {
                let Some(remote) = remote else { break };
                match read(remote) {
                    AckAnswer::ClientCount(count) => {
                        answered_servers += 1;
                        // Another node's number: saturate rather than overflow.
                        expected = expected.saturating_add(count);
                    }
                    AckAnswer::Ack(answer) => responses.push(answer),
                    AckAnswer::Other => {}
                }
            }
            () = tokio::time::sleep_until(deadline) => break,
        }
    }
    if answered_servers < servers {
        // Some node never said how many clients it reached: the answer is incomplete.
        expected = expected.max(responses.len().saturating_add(1));
    }
    BroadcastAcks {
        responses,
        expected,
    }
}

/// A node's number from an answer (`clientCount`): saturated to `usize`, 0 when absent.
pub(crate) fn client_count(value: Option<&Value>) -> usize {
    value
        .and_then(Value::as_u64)
        .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX))
}

/// Relays the first `count` acknowledgements of this node's clients (`answers`) that come within
/// `timeout`, each as `send(its first argument)`.
pub(crate) fn relay_acks(
    mut answers: mpsc::UnboundedReceiver<Vec<Value>>,
    count: usize,
    timeout: Duration,
    send: impl Fn(Option<Value>) + Send + 'static,
) {
    if count == 0 {
        return;
    }
    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + timeout;
        for _ in 0..count {
            let Ok(Some(answer)) = tokio::time::timeout_at(deadline, answers.recv()).await else {
                return;
            };
            send(answer.into_iter().next());
        }
    });
}

/// Relays the first answer of this node's server-side handlers (`answers`) that comes within
/// `timeout` as `send(its first argument)`; only the first counts, as in Node.
pub(crate) fn relay_first_answer(
    mut answers: mpsc::UnboundedReceiver<Vec<Value>>,
    timeout: Duration,
    send: impl FnOnce(Option<Value>) + Send + 'static,
) {
    tokio::spawn(async move {
        if let Ok(Some(answer)) = tokio::time::timeout(timeout, answers.recv()).await {
            send(answer.into_iter().next());
        }
    });
}
