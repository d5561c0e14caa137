// SPDX-License-Identifier: GPL-2.0
//! Configuration events reach blocks through notifier chains, as the paper describes: every
//! block owns a chain ([`EventChain`]); the block itself and the blocks bound to it subscribe
//! to it ([`Subscription`]). The core *asks* a chain before a change concerning its owner
//! (the owner may veto it) and *tells* it afterwards (its neighbours hear the news). Link
//! events (an eth block's device going up or down, or changing its MTU) travel on from
//! neighbour to neighbour, each block hearing each event once, so a socket block learns that
//! the device at the other end of its path went down. They travel breadth first through a
//! queue, not by recursion: a path may be thousands of blocks long, the kernel stack 16 KiB.
//!
//! Raw chains need the caller's locking: chains change and are called only under the
//! configuration mutex.

use crate::block::{Event, NeighbourEvent, Reason};
use crate::types::DynBlock;
use core::cell::Cell;
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::bindings;
use kernel::prelude::*;
use kernel::types::Opaque;

/// The notifier action of a question, which the owner may veto.
const ASK: c_ulong = 1;
/// The notifier action of news, for the neighbours.
const TELL: c_ulong = 2;

/// A block's notifier chain.
///
/// # Invariants
///
/// `head` is an initialised raw notifier head whose entries are the `nb` of live, pinned
/// [`Subscription`]s; it is changed and called only under the configuration mutex.
pub(crate) struct EventChain {
    head: Opaque<bindings::raw_notifier_head>,
    /// The name of the owner, as its neighbours hear it.
    owner: crate::name::Name,
    /// The last link event this block passed on (events are numbered; see [`link_event`]).
    link_seen: AtomicU64,
    /// The chain after this one in the queue of a link event being passed on ([`LinkQueue`]).
    queued_next: Cell<*const EventChain>,
}

// SAFETY: the chain is touched only under the configuration mutex (type invariant).
unsafe impl Send for EventChain {}
// SAFETY: as above.
unsafe impl Sync for EventChain {}

/// Who a subscription is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The chain's owner: it is asked, and may veto.
    Owner,
    /// A block bound to the owner: it is told.
    Neighbour,
}

/// One block's subscription to one chain.
///
/// # Invariants
///
/// `block` (and `chain`, for neighbours: the subscriber's own chain, which link events go on
/// to) live at least as long as the subscription is on a chain: subscriptions belong to the
/// subscriber's configuration entry and come off every chain before it is freed.
pub(crate) struct Subscription {
    nb: Opaque<bindings::notifier_block>,
    block: *const dyn DynBlock,
    chain: *const EventChain,
    role: Role,
}

// SAFETY: only touched under the configuration mutex, like the chains.
unsafe impl Send for Subscription {}
// SAFETY: as above.
unsafe impl Sync for Subscription {}

/// What travels through a chain's `void *data`.
struct Message<'a, 'b> {
    event: &'a Event<'b>,
    /// The chain's owner, as neighbours hear it.
    from: &'a str,
    /// The number of a link event (0 for others).
    link: u64,
    /// Where neighbours that heard a link event queue their own chains to pass it on.
    queue: Option<&'a LinkQueue>,
    reason: Reason,
}

/// The chains a link event still has to be passed on through, first in first out, linked
/// through [`EventChain::queued_next`] (no allocation). A chain joins only when its owner
/// hears the event for the first time, so it is queued at most once per event.
///
/// # Invariants
///
/// `head` and `tail` are null or chains of blocks in the configuration, which stay there (the
/// caller holds the configuration mutex) while the queue lives.
struct LinkQueue {
    head: Cell<*const EventChain>,
    tail: Cell<*const EventChain>,
}

impl LinkQueue {
    fn new() -> Self {
        Self {
            head: Cell::new(core::ptr::null()),
            tail: Cell::new(core::ptr::null()),
        }
    }

    /// Queue `chain` (a chain of a block in the configuration, not queued yet).
    fn push(&self, chain: &EventChain) {
        chain.queued_next.set(core::ptr::null());
        let tail = self.tail.replace(chain);
        // SAFETY: a non-null tail is a live chain (type invariant).
        match unsafe { tail.as_ref() } {
            Some(t) => t.queued_next.set(chain),
            None => self.head.set(chain),
        }
    }

    fn pop(&self) -> Option<&EventChain> {
        // SAFETY: a non-null head is a live chain (type invariant).
        let head = unsafe { self.head.get().as_ref() }?;
        self.head.set(head.queued_next.get());
        if self.head.get().is_null() {
            self.tail.set(core::ptr::null());
        }
        Some(head)
    }
}

impl Subscription {
    /// `block`'s subscription: as the owner of `chain`, or as a neighbour hearing another
    /// block's chain (`chain` is then the subscriber's own chain, for link events to go on).
    fn new(block: &dyn DynBlock, chain: &EventChain, role: Role) -> Result<Pin<KBox<Self>>> {
        let nb = bindings::notifier_block {
            notifier_call: Some(lana_block_event),
            next: core::ptr::null_mut(),
            // the owner first: it must be asked before any neighbour is told anything
            priority: if role == Role::Owner { 1 } else { 0 },
        };
        // The pointers are to a block and a chain whose lifetime the caller ties to this
        // subscription (type invariant); they are erased to raw pointers for the C side.
        let block: *const (dyn DynBlock + '_) = block;
        // SAFETY: only the lifetime is erased (see above).
        let block: *const dyn DynBlock = unsafe { core::mem::transmute(block) };
        Ok(KBox::pin(
            Subscription {
                nb: Opaque::new(nb),
                block,
                chain,
                role,
            },
            GFP_KERNEL,
        )?)
    }

    /// A subscription for the owner of `chain`.
    pub(crate) fn owner(block: &dyn DynBlock, chain: &EventChain) -> Result<Pin<KBox<Self>>> {
        Self::new(block, chain, Role::Owner)
    }

    /// A subscription for a neighbour (`block`, owning `own_chain`) to another block's chain.
    pub(crate) fn neighbour(
        block: &dyn DynBlock,
        own_chain: &EventChain,
    ) -> Result<Pin<KBox<Self>>> {
        Self::new(block, own_chain, Role::Neighbour)
    }
}

/// Numbers link events, so each block passes each one on once.
static LINK_EVENTS: AtomicU64 = AtomicU64::new(0);

impl EventChain {
    /// An empty chain for the block called `owner`.
    pub(crate) fn new(owner: crate::name::Name) -> Self {
        Self {
            // An all-zero raw_notifier_head is an empty chain (RAW_INIT_NOTIFIER_HEAD).
            head: Opaque::zeroed(),
            owner,
            link_seen: AtomicU64::new(0),
            queued_next: Cell::new(core::ptr::null()),
        }
    }

    /// Put `sub` on the chain. The configuration mutex must be held; `sub` must come off
    /// ([`Self::unsubscribe`]) before it or the chain is freed.
    pub(crate) fn subscribe(&self, sub: &Subscription) {
        // SAFETY: `head` is a valid chain and `sub.nb` a valid, pinned notifier block
        // (invariants); the mutex serialises chain changes.
        unsafe { bindings::raw_notifier_chain_register(self.head.get(), sub.nb.get()) };
    }

    /// Take `sub` off the chain (harmless if it is not on it).
    pub(crate) fn unsubscribe(&self, sub: &Subscription) {
        // SAFETY: as in `subscribe`.
        unsafe { bindings::raw_notifier_chain_unregister(self.head.get(), sub.nb.get()) };
    }

    /// Forget every subscription at once (the owner and all its neighbours are going).
    pub(crate) fn clear(&self) {
        // SAFETY: `head` is valid; writing an empty head under the mutex (invariant).
        unsafe { (*self.head.get()).head = core::ptr::null_mut() };
    }

    fn call(
        &self,
        action: c_ulong,
        event: &Event<'_>,
        link: u64,
        queue: Option<&LinkQueue>,
    ) -> core::result::Result<(), (Error, Option<&'static str>)> {
        let mut msg = Message {
            event,
            from: self.owner.as_str(),
            link,
            queue,
            reason: Reason { msg: None },
        };
        // SAFETY: `head` is an initialised chain (invariant); `msg` outlives the call; the
        // configuration mutex is held by every caller.
        let r = unsafe {
            bindings::raw_notifier_call_chain(
                self.head.get(),
                action,
                (&raw mut msg).cast::<c_void>(),
            )
        };
        match notifier_to_errno(r) {
            0 => Ok(()),
            e => Err((Error::from_errno(e), msg.reason.msg)),
        }
    }

    /// Ask the owner whether `event` may happen to it; `Err` carries the errno and the
    /// owner's reason if it vetoed.
    pub(crate) fn ask(
        &self,
        event: &Event<'_>,
    ) -> core::result::Result<(), (Error, Option<&'static str>)> {
        self.call(ASK, event, 0, None)
    }

    /// Tell the neighbours that `event` happened to the owner.
    pub(crate) fn tell(&self, event: &Event<'_>) {
        let _ = self.call(TELL, event, 0, None);
    }

    /// The owner's device changed (it is an eth block): tell the owner and, from neighbour
    /// to neighbour, every block connected to it. The configuration mutex must be held.
    pub(crate) fn link_event(&self, up: bool, mtu: u32) {
        let n = LINK_EVENTS.fetch_add(1, Ordering::Relaxed) + 1;
        self.link_seen.store(n, Ordering::Relaxed);
        let event = Event::Neighbour {
            peer: self.owner.as_str(),
            what: NeighbourEvent::Link { up, mtu },
        };
        // INVARIANT: only chains of blocks in the configuration are queued (the subscribers'
        // own chains), and the caller holds its mutex until the queue is done.
        let queue = LinkQueue::new();
        let _ = self.call(TELL, &event, n, Some(&queue));
        while let Some(chain) = queue.pop() {
            let _ = chain.call(TELL, &event, n, Some(&queue));
        }
    }
}

/// `notifier_to_errno` (a static inline in C): the negative errno a subscriber stopped the
/// chain with, or 0.
fn notifier_to_errno(r: c_int) -> c_int {
    let r = r & !(bindings::NOTIFY_STOP_MASK as c_int);
    if r > bindings::NOTIFY_OK as c_int {
        bindings::NOTIFY_OK as c_int - r
    } else {
        0
    }
}

/// `notifier_from_errno` (a static inline in C).
fn notifier_from_errno(e: c_int) -> c_int {
    if e != 0 {
        (bindings::NOTIFY_STOP_MASK as c_int) | (bindings::NOTIFY_OK as c_int - e)
    } else {
        bindings::NOTIFY_OK as c_int
    }
}

/// Every chain's callback: hand the event to the subscribed block.
///
/// # Safety
///
/// Called by `raw_notifier_call_chain` only, for a `notifier_block` that is the `nb` of a
/// [`Subscription`], with `data` a `Message` (see [`EventChain::call`]).
unsafe extern "C" fn lana_block_event(
    nb: *mut bindings::notifier_block,
    action: c_ulong,
    data: *mut c_void,
) -> c_int {
    // SAFETY: `nb` is the `nb` field of a live Subscription (function docs, type invariant).
    let sub: &Subscription = unsafe {
        &*kernel::container_of!(
            nb.cast::<Opaque<bindings::notifier_block>>(),
            Subscription,
            nb
        )
    };
    // SAFETY: `EventChain::call` passes a `Message` that lives across the call.
    let msg = unsafe { &mut *data.cast::<Message<'_, '_>>() };
    // SAFETY: the subscriber's block and chain outlive its subscriptions (type invariant).
    let (block, own_chain) = unsafe { (&*sub.block, &*sub.chain) };
    match (action, sub.role) {
        (ASK, Role::Owner) => notifier_from_errno(match block.event(msg.event, &mut msg.reason) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }),
        // (only on its own chain's first call: a block whose chain is called because it
        // passes the event on heard it already, as a neighbour)
        (TELL, Role::Owner) if msg.link != 0 && is_origin(msg) => {
            // The owner hears its own link events, as a neighbour of itself would.
            let _ = block.event(msg.event, &mut Reason { msg: None });
            bindings::NOTIFY_DONE as c_int
        }
        (TELL, Role::Neighbour) => {
            if msg.link != 0 {
                // a link event: hear it once, then pass it on to our own neighbours
                if own_chain.link_seen.swap(msg.link, Ordering::Relaxed) == msg.link {
                    return bindings::NOTIFY_DONE as c_int;
                }
                let _ = block.event(msg.event, &mut Reason { msg: None });
                // (its neighbours hear it after this chain's: breadth first, no recursion)
                if let Some(queue) = msg.queue {
                    queue.push(own_chain);
                }
            } else if let Some(what) = neighbour_news(msg.event, own_chain.owner.as_str()) {
                let _ = block.event(
                    &Event::Neighbour {
                        peer: msg.from,
                        what,
                    },
                    &mut Reason { msg: None },
                );
            }
            bindings::NOTIFY_DONE as c_int
        }
        _ => bindings::NOTIFY_DONE as c_int,
    }
}

/// Whether `msg` is a link event on the chain of the block it happened to (not on the chain
/// of a neighbour passing it on): that block is named in the event.
fn is_origin(msg: &Message<'_, '_>) -> bool {
    matches!(*msg.event, Event::Neighbour { peer, .. } if peer == msg.from)
}

/// What neighbour `me` hears of an event that happened to a block: nothing of what it took
/// part in itself (it was asked about that directly).
fn neighbour_news<'a>(event: &Event<'a>, me: &str) -> Option<NeighbourEvent<'a>> {
    match *event {
        Event::Bind { peer, .. } if peer != me => Some(NeighbourEvent::Bound { other: peer }),
        Event::Unbind { peer, .. } if peer != me => Some(NeighbourEvent::Unbound { other: peer }),
        Event::ReplaceOut { new } => Some(NeighbourEvent::Replaced { by: new }),
        _ => None,
    }
}
