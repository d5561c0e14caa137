// SPDX-License-Identifier: GPL-2.0
//! Read-copy-update for LANA: [`RcuBox`], a pointer published with one store and read under
//! RCU, and [`defer_drop`], which frees an object after a grace period without making the
//! caller wait for one.
//!
//! Configuration commands publish new objects and retire old ones; waiting for a grace period
//! in every command would make the control plane slow (tens of milliseconds each) and hold
//! the configuration mutex meanwhile. Instead the retired object goes to LANA's workqueue
//! behind an RCU callback (`queue_rcu_work`) and is dropped there, in process context, once
//! no reader can hold it. Code that runs a retired object's destructor must stay loaded until
//! then: module exits call [`flush_deferred`] (FB modules do it through their registration).

use crate::ffi;
use crate::percpu::PacketContext;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::bindings;
use kernel::prelude::*;
use kernel::sync::rcu;

/// Drop the boxed object `obj` points to: the callback [`defer_drop`] hands to C.
///
/// # Safety
///
/// `obj` must come from `KBox::<T>::into_raw` and be passed here exactly once.
unsafe extern "C" fn drop_boxed<T>(obj: *mut c_void) {
    // SAFETY: the caller passes a pointer from `KBox::into_raw`, once.
    drop(unsafe { KBox::from_raw(obj.cast::<T>()) });
}

/// Drop `obj` after an RCU grace period, in process context, without waiting for it here.
///
/// For objects readers may still see (retired snapshots, removed blocks). Must be called in
/// process context (it may allocate with `GFP_KERNEL`; if that fails it waits for the grace
/// period and drops `obj` right away).
pub fn defer_drop<T: Send + 'static>(obj: KBox<T>) {
    let raw = KBox::into_raw(obj).cast::<c_void>();
    // SAFETY: `drop_boxed::<T>` receives `raw`, from `KBox::<T>::into_raw`, exactly once,
    // after a grace period (or, if no memory for the deferral, after `synchronize_rcu`).
    unsafe { ffi::lana_defer(Some(drop_boxed::<T>), raw) };
}

/// The deferred-drop machinery (LANA's workqueue), for this load of the module: dropping it
/// waits for every deferred drop, then destroys the workqueue.
pub(crate) struct Deferrals(());

impl Deferrals {
    /// Start it (module init, before anything defers a drop).
    pub(crate) fn start() -> Result<Self> {
        // SAFETY: module init, once.
        kernel::error::to_result(unsafe { ffi::lana_defer_init() })?;
        Ok(Deferrals(()))
    }
}

impl Drop for Deferrals {
    fn drop(&mut self) {
        // SAFETY: paired with `start`; nothing defers drops any more.
        unsafe { ffi::lana_defer_exit() };
    }
}

/// Wait until every object handed to [`defer_drop`] so far has been dropped. Sleeps.
pub fn flush_deferred() {
    // SAFETY: process context (module exit or a configuration command).
    unsafe { ffi::lana_defer_flush() };
}

/// An optional boxed `T` that readers see under RCU and writers replace as a whole.
///
/// # Invariants
///
/// `ptr` is NULL or comes from `KBox::into_raw`; an object that was unpublished is dropped
/// only after a grace period (see [`RcuBox::replace`]).
pub struct RcuBox<T> {
    ptr: AtomicPtr<T>,
}

impl<T: Send + Sync + 'static> RcuBox<T> {
    /// An empty box.
    pub const fn new() -> Self {
        Self {
            ptr: AtomicPtr::new(core::ptr::null_mut()),
        }
    }

    /// The published object, valid while both the box and the read-side section `_guard`
    /// are.
    #[inline]
    pub fn get<'a>(&'a self, _guard: &'a rcu::Guard) -> Option<&'a T> {
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: a non-NULL `ptr` is a live KBox (type invariant); once unpublished it is
        // dropped only after a grace period, which cannot end while `_guard` is held; and
        // the box itself is borrowed for `'a`, so its `Drop` cannot run meanwhile.
        unsafe { p.as_ref() }
    }

    /// The published object, without a read-side section, for a caller that may sleep.
    ///
    /// # Safety
    ///
    /// The object must not be replaced or dropped while the reference is in use (the caller
    /// serialises with the only writer in some other way).
    pub(crate) unsafe fn get_unguarded(&self) -> Option<&T> {
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: a non-NULL `ptr` is a live KBox (type invariant) that the caller keeps
        // from being replaced while in use (function docs).
        unsafe { p.as_ref() }
    }

    /// The published object, read in the packet path (bottom halves off: a read-side
    /// section for as long as `ctx` lives).
    #[inline]
    pub fn read<'a>(&'a self, _ctx: &'a PacketContext) -> Option<&'a T> {
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: as in `get`: `_ctx` proves bottom halves are off, which is an RCU
        // read-side critical section (the RCU flavours are one since Linux 5.0).
        unsafe { p.as_ref() }
    }

    /// Publish `new`; the previous object is dropped after a grace period (without waiting
    /// here). Writers must be serialised by the caller. Process context only.
    pub fn replace(&self, new: Option<KBox<T>>) {
        let p = new.map_or(core::ptr::null_mut(), KBox::into_raw);
        let old = self.ptr.swap(p, Ordering::AcqRel);
        if !old.is_null() {
            // SAFETY: `old` came from `KBox::into_raw` (invariant) and is no longer published.
            defer_drop(unsafe { KBox::from_raw(old) });
        }
    }
}

/// A grace period that starts now: once it has passed, every RCU reader that could have
/// seen an object unpublished before [`GracePeriod::start`] is done.
#[derive(Clone, Copy)]
pub(crate) struct GracePeriod(kernel::ffi::c_ulong);

impl GracePeriod {
    /// The grace period after what was unpublished so far (asking RCU for one, so that it
    /// passes even if nothing else needs one).
    pub(crate) fn start() -> Self {
        // SAFETY: plain call, from process context.
        GracePeriod(unsafe { bindings::start_poll_synchronize_rcu() })
    }

    /// Whether it has passed.
    pub(crate) fn passed(self) -> bool {
        // SAFETY: plain call with a cookie from `get_state_synchronize_rcu`.
        unsafe { bindings::poll_state_synchronize_rcu(self.0) }
    }

    /// Wait until it has passed (at once if it has). Sleeps.
    pub(crate) fn wait(self) {
        // SAFETY: process context (sleeps, as documented); a cookie from
        // `get_state_synchronize_rcu`.
        unsafe { bindings::cond_synchronize_rcu(self.0) }
    }
}

impl<T> Drop for RcuBox<T> {
    fn drop(&mut self) {
        let p = *self.ptr.get_mut();
        if !p.is_null() {
            // SAFETY: `p` came from `KBox::into_raw` (invariant). Readers borrow the box for
            // as long as they use the object (`get`), and we own it mutably here, so none is
            // left: owners that share a box with readers on other CPUs (blocks, ports) are
            // themselves freed only after a grace period.
            drop(unsafe { KBox::from_raw(p) });
        }
    }
}

impl<T: Send + Sync + 'static> Default for RcuBox<T> {
    fn default() -> Self {
        Self::new()
    }
}
