//! The pub/sub channels of a namespace of the streams and sharded adapters (`p#nsp#` for every
//! node, `p#nsp#uid#` for the answers to node `uid`), and the routing of what the subscriber
//! receives on them to the namespace's adapter.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock, Weak},
};

use sio_cluster_adapter::{ClusterMessage, ClusterTransport, TransportAdapter, WireError};
use sio_server::{
    Value,
    adapter::{AdapterError, BoxFuture},
};

use crate::redis_io::{Connections, Handler, Incoming, SubscriberKind};

/// Adapters by channel (or by namespace name, for the stream reader).
pub(crate) type Routes<T> = RwLock<HashMap<String, Weak<TransportAdapter<T>>>>;

/// The adapter `key` routes to, if it is still there.
pub(crate) fn lookup<T: ClusterTransport>(
    routes: &Routes<T>,
    key: &str,
) -> Option<Arc<TransportAdapter<T>>> {
    routes
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(key)
        .and_then(Weak::upgrade)
}

/// Hands each pub/sub message to the adapter of its channel in `routes`, read with `decode`
/// (the streams and the sharded adapters' messages differ only in that).
pub(crate) fn channel_handler<T: ClusterTransport>(
    routes: Arc<Routes<T>>,
    decode: fn(&[u8]) -> Result<Value, WireError>,
) -> Handler {
    Arc::new(move |message: Incoming| {
        let Some(adapter) = lookup(&routes, &message.channel) else {
            return;
        };
        match decode(&message.payload) {
            Ok(mut decoded) => match ClusterMessage::from_value(&mut decoded) {
                Some(decoded) => adapter.receive(decoded, None),
                None => tracing::debug!("ignoring a message of no known type"),
            },
            Err(error) => tracing::debug!(%error, "ignoring malformed message"),
        }
    })
}

/// A namespace's two channels.
#[derive(Debug, Clone)]
pub(crate) struct NamespaceChannels {
    /// `p#nsp#`: every node's.
    pub(crate) public: String,
    /// `p#nsp#uid#`: the answers to this node.
    pub(crate) private: String,
}

impl NamespaceChannels {
    pub(crate) fn new(prefix: &str, nsp: &str, uid: &str) -> Self {
        let public = format!("{prefix}#{nsp}#");
        let private = format!("{public}{uid}#");
        NamespaceChannels { public, private }
    }

    /// `p#nsp#name#`: where the answers to node `name` go, or the channel of room `name`
    /// (sharded adapter).
    pub(crate) fn sub_channel(&self, name: &str) -> String {
        format!("{}{name}#", self.public)
    }

    /// The number of nodes: how many connections subscribe to the public channel (`PUBSUB
    /// NUMSUB`, or `SHARDNUMSUB` for sharded pub/sub).
    pub(crate) fn count_nodes(
        &self,
        conns: &Connections,
        kind: SubscriberKind,
    ) -> BoxFuture<'static, Result<usize, AdapterError>> {
        let (conns, channel) = (conns.clone(), self.public.clone());
        Box::pin(async move {
            let count = match kind {
                SubscriberKind::PubSub => conns.numsub(&channel).await,
                SubscriberKind::Sharded => conns.shardnumsub(&channel).await,
            };
            count.map_err(|e| AdapterError::Transport(e.to_string()))
        })
    }

    /// Routes both channels to `adapter` and subscribes to them.
    pub(crate) fn open<T: ClusterTransport>(
        &self,
        adapter: &Arc<TransportAdapter<T>>,
        routes: &Routes<T>,
        conns: &Connections,
    ) {
        {
            let mut routes = routes.write().unwrap_or_else(|e| e.into_inner());
            routes.insert(self.public.clone(), Arc::downgrade(adapter));
            routes.insert(self.private.clone(), Arc::downgrade(adapter));
        }
        conns.subscribe(vec![self.public.clone(), self.private.clone()]);
    }

    /// Unsubscribes from both channels and `more`, and forgets their routes.
    pub(crate) fn close<T: ClusterTransport>(
        &self,
        more: Vec<String>,
        routes: &Weak<Routes<T>>,
        conns: &Connections,
    ) {
        let mut channels = more;
        channels.push(self.public.clone());
        channels.push(self.private.clone());
        if let Some(routes) = routes.upgrade() {
            let mut routes = routes.write().unwrap_or_else(|e| e.into_inner());
            for channel in &channels {
                routes.remove(channel);
            }
        }
        conns.unsubscribe(channels);
    }
}
