// SPDX-License-Identifier: GPL-2.0
//! Configuration events reach blocks through notifier chains: each instance owns a raw
//! notifier chain and subscribes itself to it; the core calls the chain for every bind,
//! unbind, set, replace and removal that concerns the instance. A subscriber that returns an
//! error vetoes the change.
//!
//! Raw chains need the caller's locking: every call here happens under the registry's
//! configuration mutex.

use crate::block::{Event, Reason};
use crate::ffi;
use crate::config::Instance;
use kernel::bindings;
use kernel::prelude::*;
use kernel::types::Opaque;

/// A notifier chain and the owner's own subscription to it, embedded in an [`Instance`].
///
/// # Invariants
///
/// Once [`EventChain::subscribe`] ran, `nb` is on `head` until [`EventChain::unsubscribe`];
/// the object does not move meanwhile (it lives in an `Arc`).
pub(crate) struct EventChain {
    head: Opaque<bindings::raw_notifier_head>,
    pub(crate) nb: Opaque<bindings::notifier_block>,
}

// SAFETY: the chain is only touched under the configuration mutex (module docs).
unsafe impl Send for EventChain {}
// SAFETY: as above.
unsafe impl Sync for EventChain {}

/// What travels through the chain's `void *data`.
struct Message<'a, 'b> {
    event: &'a Event<'b>,
    reason: Reason,
}

impl EventChain {
    pub(crate) fn new() -> Self {
        Self { head: Opaque::zeroed(), nb: Opaque::zeroed() }
    }

    /// Put the owner's own subscription on the chain. `self` must not move afterwards.
    pub(crate) fn subscribe(&self) -> Result {
        // SAFETY: `head` and `nb` are valid for writes; a zeroed head is an empty chain and
        // lana_chain_init makes it so explicitly. Callers hold the configuration mutex.
        kernel::error::to_result(unsafe {
            ffi::lana_chain_init(self.head.get());
            ffi::lana_nb_init(self.nb.get());
            ffi::lana_chain_register(self.head.get(), self.nb.get())
        })
    }

    /// Take the subscription off again (before the owner is freed).
    pub(crate) fn unsubscribe(&self) {
        // SAFETY: `nb` was registered on `head` by `subscribe`; mutex held by the caller.
        unsafe { ffi::lana_chain_unregister(self.head.get(), self.nb.get()) };
    }

    /// Deliver `event`; `Err` carries the errno and the subscriber's reason if it vetoed.
    pub(crate) fn call(&self, event: &Event<'_>) -> core::result::Result<(), (Error, Option<&'static str>)> {
        let mut msg = Message { event, reason: Reason { msg: None } };
        // SAFETY: `head` is an initialised chain; `msg` outlives the call; mutex held.
        let r = unsafe {
            ffi::lana_chain_call(self.head.get(), 0, (&raw mut msg).cast::<c_void>())
        };
        if r == 0 {
            Ok(())
        } else {
            Err((Error::from_errno(r), msg.reason.msg))
        }
    }
}

/// Called by the chain for an instance's own subscription: hand the event to its block.
#[no_mangle]
pub extern "C" fn lana_rust_fb_event(
    nb: *mut bindings::notifier_block,
    _action: c_ulong,
    data: *mut c_void,
) -> c_int {
    // SAFETY: `nb` is the `nb` field of an `EventChain` which is the `chain` field of a live
    // `Instance` (only `EventChain::subscribe` registers this callback, and instances
    // unsubscribe before they are freed).
    let inst: &Instance = unsafe {
        let nb = nb.cast::<Opaque<bindings::notifier_block>>();
        &*kernel::container_of!(nb, Instance, chain.nb)
    };
    // SAFETY: `EventChain::call` passes a `Message` that lives across the call.
    let msg = unsafe { &mut *data.cast::<Message<'_, '_>>() };
    match inst.fb.event(msg.event, &mut msg.reason) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}
