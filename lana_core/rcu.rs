// SPDX-License-Identifier: GPL-2.0
//! [`RcuBox`]: a pointer published with one store and read under RCU.

use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::prelude::*;
use kernel::sync::rcu;

/// An optional boxed `T` that readers see under RCU and writers replace as a whole.
///
/// # Invariants
///
/// `ptr` is NULL or comes from `KBox::into_raw`; an object that was unpublished is freed only
/// after a grace period (see [`Retired`]).
pub struct RcuBox<T> {
    ptr: AtomicPtr<T>,
}

impl<T: Send + Sync> RcuBox<T> {
    /// An empty box.
    pub const fn new() -> Self {
        Self { ptr: AtomicPtr::new(core::ptr::null_mut()) }
    }

    /// The published object, valid for as long as the RCU read-side section `guard` holds.
    #[inline]
    pub fn get<'a>(&self, _guard: &'a rcu::Guard) -> Option<&'a T> {
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: a non-NULL `ptr` is a live KBox (type invariant) that is freed only after a
        // grace period, which cannot end while `_guard` is held.
        unsafe { p.as_ref() }
    }

    /// Publish `new` and hand back the previous object, to be freed after a grace period.
    /// Writers must be serialised by the caller.
    pub fn replace(&self, new: Option<KBox<T>>) -> Retired<T> {
        let p = new.map_or(core::ptr::null_mut(), KBox::into_raw);
        Retired { ptr: self.ptr.swap(p, Ordering::AcqRel) }
    }
}

impl<T> Drop for RcuBox<T> {
    fn drop(&mut self) {
        // Readers may still hold the object if the owner is dropped without a grace period
        // since it was last reachable: `Retired` waits for one before freeing.
        drop(Retired { ptr: *self.ptr.get_mut() });
    }
}

impl<T: Send + Sync> Default for RcuBox<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// An object no longer published. Dropping it waits for a grace period, then frees it.
///
/// # Invariants
///
/// `ptr` is NULL or an unpublished object from `KBox::into_raw` that readers may still see.
pub struct Retired<T> {
    ptr: *mut T,
}

impl<T> Drop for Retired<T> {
    fn drop(&mut self) {
        if self.ptr.is_null() {
            return;
        }
        rcu::synchronize_rcu();
        // SAFETY: by the invariant `ptr` came from KBox::into_raw, and after the grace period
        // no reader holds a reference to it.
        drop(unsafe { KBox::from_raw(self.ptr) });
    }
}
