//! Requests between nodes, as every cluster adapter makes and answers them (the ClusterAdapter
//! messages of [`TransportAdapter`](crate::TransportAdapter) and the older requests of the
//! classic Redis adapter alike): this node's requests waiting for answers, the loops that
//! collect the answers, and the tasks that relay this node's clients' answers to another node's
//! request. The formats differ only in how a message is put on the wire and where its fields
//! are, which the callers pass in.

use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use sio_server::{
    Value,
    adapter::{
        AdapterError, BoxFuture, BroadcastAcks, BroadcastOptions, LocalAdapter, collect_acks,
    },
    proto::Packet,
};
use tokio::sync::mpsc;

/// Node's wait for answers when none is given (socket.io-adapter's `DEFAULT_TIMEOUT`, and the
/// classic Redis adapter's `requestsTimeout`).
pub const DEFAULT_REQUESTS_TIMEOUT: Duration = Duration::from_secs(5);

type Waiting<A> = HashMap<String, mpsc::UnboundedSender<A>>;

/// This node's requests waiting for answers (of type `A`), by request id.
#[derive(Debug)]
pub struct Pending<A = Value> {
    waiting: Mutex<Waiting<A>>,
}

impl<A> Default for Pending<A> {
    fn default() -> Self {
        Pending {
            waiting: Mutex::new(HashMap::new()),
        }
    }
}

impl<A> Pending<A> {
    fn waiting(&self) -> MutexGuard<'_, Waiting<A>> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for answers to request `id` until the returned request is dropped.
    pub fn register(self: &Arc<Self>, id: String) -> PendingRequest<A> {
        let (tx, answers) = mpsc::unbounded_channel();
        self.waiting().insert(id.clone(), tx);
        PendingRequest {
            id,
            answers,
            pending: self.clone(),
        }
    }

    /// Whether `id` is one of this node's requests.
    pub fn contains(&self, id: &str) -> bool {
        self.waiting().contains_key(id)
    }

    /// Hands `answer` to request `id` if this node still waits for it (else it is dropped).
    pub fn answer(&self, id: &str, answer: A) {
        let waiting = self.waiting().get(id).cloned();
        if let Some(waiting) = waiting {
            let _ = waiting.send(answer);
        }
    }
}

/// A request of this node, unregistered when dropped.
#[derive(Debug)]
pub struct PendingRequest<A = Value> {
    /// The request id the answers name.
    pub id: String,
    answers: mpsc::UnboundedReceiver<A>,
    pending: Arc<Pending<A>>,
}

impl<A> Drop for PendingRequest<A> {
    fn drop(&mut self) {
        self.pending.waiting().remove(&self.id);
    }
}

/// A node that asks the others, with answers of type `A`: what [`ask_other_nodes`] needs.
pub trait Requester<A>: Send + Sync {
    /// The number of nodes, this one included.
    fn node_count(&self) -> impl Future<Output = Result<usize, AdapterError>> + Send + '_;

    /// A new request of this node, waiting for answers until it is dropped.
    fn register(&self) -> PendingRequest<A>;
}

/// Asks every other node and waits up to `timeout` for one answer from each, giving each answer
/// to `each`; `publish` sends the request with the id it is given. With no other node nothing
/// is published.
///
/// # Errors
/// [`AdapterError::Transport`] when the nodes cannot be counted, [`AdapterError::Timeout`] when
/// fewer answers came in time.
pub async fn ask_other_nodes<A>(
    node: &impl Requester<A>,
    publish: impl FnOnce(&str),
    timeout: Duration,
    mut each: impl FnMut(A),
) -> Result<(), AdapterError> {
    let expected = node.node_count().await?.saturating_sub(1);
    if expected == 0 {
        return Ok(());
    }
    let mut request = node.register();
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

/// A server-side emit with acknowledgements: asks the other nodes (`publish` sends the request
/// with its id) and collects one answer per node, the argument `packet_of` reads from it. `node`
/// is `None` when this node is going away: no one is asked.
pub fn server_side_answers<A: Send + 'static, R: Requester<A> + 'static>(
    node: Option<Arc<R>>,
    publish: impl FnOnce(&R, &str) + Send + 'static,
    timeout: Duration,
    packet_of: impl Fn(&A) -> Option<&Value> + Send + Sync + 'static,
) -> BoxFuture<'static, Result<Vec<Vec<Value>>, AdapterError>> {
    Box::pin(async move {
        let Some(node) = node else {
            return Ok(Vec::new());
        };
        let mut responses = Vec::new();
        let each = |answer: A| responses.push(packet_of(&answer).cloned().into_iter().collect());
        ask_other_nodes(&*node, |id| publish(&node, id), timeout, each).await?;
        Ok(responses)
    })
}

/// What an answer to a broadcast with acknowledgements says.
#[derive(Debug)]
pub enum AckAnswer {
    /// A node's number of clients that were sent the packet.
    ClientCount(usize),
    /// One client's acknowledgement (its arguments).
    Ack(Vec<Value>),
    /// Something else.
    Other,
}

impl AckAnswer {
    /// A node's number from its answer's `clientCount`: saturated to `usize`, 0 when absent.
    pub fn client_count(value: Option<&Value>) -> Self {
        AckAnswer::ClientCount(
            value
                .and_then(Value::as_u64)
                .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX)),
        )
    }

    /// A client's acknowledgement from its answer's `packet` (its first argument, the only one
    /// Node relays).
    pub fn ack(packet: Option<&Value>) -> Self {
        AckAnswer::Ack(packet.cloned().into_iter().collect())
    }
}

/// Collects a broadcast's acknowledgements, this node's (`local`, `local_count` of them) and,
/// when the other nodes were asked (`asked`: the request and the count of nodes), theirs (the
/// answers to the request, read with `read`), until each node has said how many clients it
/// reached and all of those have answered, or `timeout`.
pub async fn collect_broadcast_acks<A>(
    mut local: mpsc::UnboundedReceiver<Vec<Value>>,
    local_count: usize,
    asked: Option<(
        PendingRequest<A>,
        impl Future<Output = Result<usize, AdapterError>>,
    )>,
    timeout: Duration,
    read: impl Fn(A) -> AckAnswer,
) -> BroadcastAcks {
    let Some((mut request, nodes)) = asked else {
        return collect_acks(local, local_count, timeout).await;
    };
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

/// The number of servers (`nodes`, when this node is still there to count them), at least this
/// one.
pub async fn server_count(
    nodes: Option<impl Future<Output = Result<usize, AdapterError>>>,
) -> usize {
    match nodes {
        Some(nodes) => nodes.await.unwrap_or(1).max(1),
        None => 1,
    }
}

/// Another node's broadcast with acknowledgements: delivered to this node's clients, their
/// number given to `send_count`, and the first argument of each acknowledgement that comes
/// within the requester's wait (`opts.flags.timeout`, capped when read) to `send_ack`.
pub fn relay_broadcast_acks(
    local: &LocalAdapter,
    packet: Packet,
    opts: &BroadcastOptions,
    send_count: impl FnOnce(usize),
    send_ack: impl Fn(Option<Value>) + Send + 'static,
) {
    // The requester's wait, at most MAX_PEER_ACK_TIMEOUT (opts_from_value caps it): the relaying
    // task lives that long.
    let timeout = opts.flags.timeout.unwrap_or(DEFAULT_REQUESTS_TIMEOUT);
    let (collector, answers) = mpsc::unbounded_channel();
    let count = local.broadcast_with_ack(packet, opts, collector);
    send_count(count);
    relay_acks(answers, count, timeout, send_ack);
}

/// Another node's server-side emit `[event, ...args]` (`data`), run by this node's handlers.
/// With `reply` (the sender asked for answers), the first answer's first argument that comes
/// within `timeout` goes to it. Malformed data is dropped.
pub fn run_server_side_emit(
    local: &LocalAdapter,
    data: Option<Value>,
    reply: Option<impl FnOnce(Option<Value>) + Send + 'static>,
    timeout: Duration,
) {
    let Some(Value::Array(data)) = data else {
        return;
    };
    let mut data = data.into_iter();
    let Some(Value::String(event)) = data.next() else {
        return;
    };
    let Some(event) = event.into_str() else {
        return;
    };
    let args: Vec<Value> = data.collect();
    let Some(reply) = reply else {
        local.on_server_side_emit(event, args, None);
        return;
    };
    let (ack, answers) = mpsc::unbounded_channel();
    local.on_server_side_emit(event, args, Some(ack));
    relay_first_answer(answers, timeout, reply);
}

/// Relays the first `count` acknowledgements of this node's clients (`answers`) that come within
/// `timeout`, each as `send(its first argument)`.
fn relay_acks(
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
fn relay_first_answer(
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
