//! socket.io-adapter's `ClusterAdapter` for [`sio_server`], over any transport.
//!
//! Node's streams and sharded Redis adapters, its Postgres and MongoDB adapters all exchange
//! the same messages (`{uid, nsp, type, data}`, [`ClusterMessage`]) and differ only in how a
//! message reaches the other nodes. This crate is everything they share: what each message
//! means ([`TransportAdapter`]), the requests of a node and the answers of the others
//! ([`requests`]), acknowledgements from every node's clients, heartbeats, and the encodings
//! (msgpack as notepack.io writes it, JSON as `JSON.stringify` does: [`value`]; packets,
//! broadcast options and sockets as Node puts them in messages: [`wire`], [`socket_info`]).
//!
//! A cluster adapter is then a [`ClusterTransport`]: `publish` a message to every node,
//! `publish_to` one node, count the nodes (or let heartbeats count them, [`Membership`]), and
//! hand what arrives to [`TransportAdapter::receive`]. `sio-redis-adapter`'s streams and sharded
//! adapters are two such transports.
//!
//! ```
//! use std::{sync::Arc, time::Duration};
//!
//! use sio_cluster_adapter::{ClusterMessage, ClusterTransport, TransportAdapter};
//! use sio_server::adapter::{Adapter, AdapterFactory, LocalAdapter};
//!
//! /// Sends every message nowhere: a real transport writes them to its broker.
//! struct Nowhere;
//!
//! impl ClusterTransport for Nowhere {
//!     fn publish(&self, message: ClusterMessage<'_>) {
//!         let _bytes = message.to_json_or_msgpack();
//!     }
//!     fn publish_to(&self, _node: &str, message: ClusterMessage<'_>) {
//!         self.publish(message);
//!     }
//! }
//!
//! struct NowhereFactory;
//!
//! impl AdapterFactory for NowhereFactory {
//!     fn create(&self, local: LocalAdapter) -> Arc<dyn Adapter> {
//!         let uid = TransportAdapter::<Nowhere>::new_uid();
//!         // A real factory also routes what its broker receives for this namespace to the
//!         // adapter's `receive`.
//!         TransportAdapter::new(local, uid, Nowhere, Duration::from_secs(5))
//!     }
//! }
//! ```

mod adapter;
mod error;
mod message;
pub mod requests;
pub mod socket_info;
mod transport;
pub mod value;
pub mod wire;

pub use adapter::TransportAdapter;
pub use error::WireError;
pub use message::{ClusterMessage, MessageType, has_binary, random_id};
pub use requests::DEFAULT_REQUESTS_TIMEOUT;
pub use transport::{ClusterTransport, Membership};
