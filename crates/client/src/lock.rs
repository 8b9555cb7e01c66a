//! The lock-poisoning policy, the server's too: a panic while a lock was held cannot leave
//! the data half-written in a way that matters more than refusing to serve, so the data is
//! taken as it is (rather than a poisoned lock silently skipping the update).

use std::sync::{LockResult, PoisonError};

/// Takes a lock's data whether or not a panic poisoned it.
pub(crate) trait Recover<G> {
    /// The guard, poisoned or not.
    fn recover(self) -> G;
}

impl<G> Recover<G> for LockResult<G> {
    fn recover(self) -> G {
        self.unwrap_or_else(PoisonError::into_inner)
    }
}
