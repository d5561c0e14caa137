// SPDX-License-Identifier: GPL-2.0
//! Block types: the table the core keeps for each [`Block`] implementation ([`FbType`],
//! generated from the trait, as phylib generates a `phy_driver` from `phy::Driver`), the
//! object-safe adapter the engine calls ([`DynBlock`]), and the registry FB modules add their
//! type to while they are loaded ([`Registration`], usually through [`crate::fb_module!`]).

use crate::block::{Block, Direction, Event, KeyInfo, NewInstance, Reason, Verdict};
use crate::generation;
use crate::name::Name;
use crate::packet::Packet;
use crate::percpu::PacketContext;
use crate::props::PropSink;
use core::any::Any;
use kernel::prelude::*;
use kernel::sync::GlobalGuard;

/// A block as the core holds it: [`Block`] made object-safe. Implemented for every block
/// type; blocks never implement it themselves.
pub(crate) trait DynBlock: Send + Sync {
    fn receive(&self, ctx: &PacketContext, pkt: Packet, dir: Direction) -> Verdict;
    fn event(&self, event: &Event<'_>, why: &mut Reason) -> Result;
    fn detach(&self);
    fn show(&self, out: &mut dyn PropSink);
    /// Take `old`'s state if it is a block of the same type that carries state.
    fn adopt_state_of(&self, old: &dyn DynBlock);
    fn as_any(&self) -> &dyn Any;
}

impl<T: Block> DynBlock for T {
    #[inline]
    fn receive(&self, ctx: &PacketContext, pkt: Packet, dir: Direction) -> Verdict {
        Block::receive(self, ctx, pkt, dir)
    }

    fn event(&self, event: &Event<'_>, why: &mut Reason) -> Result {
        Block::event(self, event, why)
    }

    fn detach(&self) {
        Block::detach(self)
    }

    fn show(&self, out: &mut dyn PropSink) {
        Block::show(self, out)
    }

    fn adopt_state_of(&self, old: &dyn DynBlock) {
        if T::HAS_ADOPT_STATE {
            if let Some(old) = old.as_any().downcast_ref::<T>() {
                self.adopt_state(old);
            }
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A block type as the core knows it: generated from a [`Block`] implementation.
pub struct FbType {
    pub(crate) name: &'static str,
    pub(crate) description: &'static str,
    pub(crate) keys: &'static [KeyInfo],
    pub(crate) max_ingress: u32,
    pub(crate) max_egress: u32,
    /// Whether a replace carries state over: the type implements `adopt_state`.
    pub(crate) has_state: bool,
    /// The type answers `Event::Check`: its settings can be part of a transaction.
    pub(crate) checks_settings: bool,
    /// The type forwards every packet unchanged (it keeps `Block::receive`'s default): the
    /// engine skips calls into it.
    pub(crate) pass_through: bool,
    /// The type may send packets back the way they came (`Block::TURNS`).
    pub(crate) turns: bool,
    pub(crate) new: fn(&NewInstance<'_>) -> Result<KBox<dyn DynBlock>>,
    pub(crate) module: fn() -> &'static ThisModule,
}

fn new_block<T: Block>(inst: &NewInstance<'_>) -> Result<KBox<dyn DynBlock>> {
    Ok(KBox::new(T::new(inst)?, GFP_KERNEL)?)
}

fn module_of<T: Block>() -> &'static ThisModule {
    kernel::module::this_module::<T::OwnerModule>()
}

/// The table of block type `T`, made at compile time.
pub trait TypeOf {
    /// The table.
    const TYPE: FbType;
}

impl<T: Block> TypeOf for T {
    const TYPE: FbType = FbType {
        name: T::NAME,
        description: T::DESCRIPTION,
        keys: T::KEYS,
        max_ingress: T::MAX_INGRESS,
        max_egress: T::MAX_EGRESS,
        has_state: T::HAS_ADOPT_STATE,
        checks_settings: T::CHECKS_SETTINGS,
        pass_through: !T::HAS_RECEIVE,
        turns: T::TURNS,
        new: new_block::<T>,
        module: module_of::<T>,
    };
}

/// A registered type: its table.
#[derive(Clone, Copy)]
pub(crate) struct TypeEntry {
    pub(crate) ty: &'static FbType,
}

kernel::sync::global_lock! {
    // SAFETY: initialised by `init()` in the module initialiser, before anything can use it.
    pub(crate) unsafe(uninit) static TYPES: Mutex<KVec<TypeEntry>> = KVec::new();
}

/// The registry, set up for this load of the module.
pub(crate) struct Registry(());

impl Registry {
    /// Set up the registry's lock (module init, before anything registers).
    pub(crate) fn new() -> Self {
        // SAFETY: called exactly once per load, before any other use of TYPES.
        unsafe { TYPES.init() };
        Registry(())
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        // Every type is gone; the lock is a static that outlives this load: free its memory.
        *lock() = KVec::new();
    }
}

/// The registry, locked. Taken after the configuration mutex where both are needed.
pub(crate) fn lock() -> GlobalGuard<TYPES> {
    TYPES.lock()
}

/// The registered type called `name`, with a reference on its module. Both under the
/// registry's lock: a module that unregisters its type cannot go in between.
pub(crate) fn find_and_get(name: &str) -> Option<(&'static FbType, ModuleRef)> {
    let types = lock();
    let ty = types.iter().find(|t| t.ty.name == name)?.ty;
    Some((ty, ModuleRef::get(ty)?))
}

/// A reference on the module implementing a block's type: rmmod refuses while one is held.
/// A block in the configuration holds one.
pub(crate) struct ModuleRef(&'static ThisModule);

impl ModuleRef {
    /// A reference on `ty`'s module, unless it is going away.
    pub(crate) fn get(ty: &FbType) -> Option<Self> {
        let m = (ty.module)();
        // SAFETY: `m` is a loaded module: it registered a type that is still registered.
        unsafe { kernel::bindings::try_module_get(m.as_ptr()) }.then_some(ModuleRef(m))
    }
}

impl Drop for ModuleRef {
    fn drop(&mut self) {
        // SAFETY: paired with the successful try_module_get in `get`.
        unsafe { kernel::bindings::module_put(self.0.as_ptr()) };
    }
}

/// A registered block type; dropping it unregisters the type. Kept in an FB module's module
/// object (see [`crate::fb_module!`]).
pub struct Registration {
    ty: &'static FbType,
}

impl Registration {
    /// Register block type `T` (its module is the one `T` is implemented in). `EEXIST` if a
    /// type of that name is registered already.
    pub fn new<T: Block>() -> Result<Self> {
        let ty: &'static FbType = &<T as TypeOf>::TYPE;
        if Name::new(ty.name).is_err() {
            pr_err!("refusing FB type with an invalid name\n");
            return Err(EINVAL);
        }
        let mut types = lock();
        if types.iter().any(|t| t.ty.name == ty.name) {
            pr_err!("an FB type named '{}' is registered already\n", ty.name);
            return Err(EEXIST);
        }
        types.push(TypeEntry { ty }, GFP_KERNEL)?;
        generation::changed();
        pr_info!("registered FB type '{}'\n", ty.name);
        Ok(Self { ty })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // No block of the type is in the configuration: each holds a reference on the type's
        // module, which is going away.
        lock().retain(|t| !core::ptr::eq(t.ty, self.ty));
        generation::changed();
        // Blocks of this type removed recently may still wait for their grace period before
        // their destructor (this module's code) runs: let them finish while it is loaded.
        crate::rcu::flush_deferred();
        pr_info!("unregistered FB type '{}'\n", self.ty.name);
    }
}

/// Declare an FB module whose whole job is to register one block type while it is loaded:
///
/// ```ignore
/// lana::fb_module! {
///     block: Fwd,
///     name: "fb_fwd",
///     description: "LANA functional block: forward",
/// }
/// ```
#[macro_export]
macro_rules! fb_module {
    (block: $ty:ty, name: $name:tt, description: $desc:tt $(,)?) => {
        ::kernel::prelude::module! {
            type: LanaFbModule,
            name: $name,
            authors: ["LANA developers"],
            description: $desc,
            license: "GPL",
        }

        /// The module: its block type stays registered while it is loaded.
        struct LanaFbModule {
            _registration: $crate::Registration,
        }

        impl ::kernel::Module for LanaFbModule {
            fn init(_module: &'static ::kernel::ThisModule) -> ::kernel::error::Result<Self> {
                Ok(Self {
                    _registration: $crate::Registration::new::<$ty>()?,
                })
            }
        }
    };
}
