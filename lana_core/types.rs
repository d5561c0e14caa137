// SPDX-License-Identifier: GPL-2.0
//! The block type registry: FB modules register their [`FbType`] while they are loaded
//! ([`Registration`], usually through [`crate::fb_module!`]).

use crate::block::FbType;
use crate::config;
use crate::ffi;
use crate::name::Name;
use kernel::prelude::*;

/// A registered type and the module that implements it.
pub(crate) struct TypeEntry {
    pub(crate) ty: &'static FbType,
    pub(crate) module: &'static ThisModule,
}

impl TypeEntry {
    /// A type entry, for a private configuration.
    #[cfg(CONFIG_KUNIT = "y")]
    pub(crate) fn new(ty: &'static FbType, module: &'static ThisModule) -> Self {
        TypeEntry { ty, module }
    }
}

/// A reference on the module implementing a block's type: rmmod refuses while one is held.
/// A block in the configuration holds one.
pub(crate) struct ModuleRef(&'static ThisModule);

impl ModuleRef {
    pub(crate) fn get(m: &'static ThisModule) -> Option<Self> {
        // SAFETY: `m` is a loaded module (it registered a type that is still registered).
        unsafe { ffi::lana_module_get(m.as_ptr()) }.then_some(ModuleRef(m))
    }
}

impl Drop for ModuleRef {
    fn drop(&mut self) {
        // SAFETY: paired with the successful try_module_get in `get`.
        unsafe { ffi::lana_module_put(self.0.as_ptr()) };
    }
}

/// A registered FB type; dropping it unregisters the type.
///
/// FB modules keep one in their module object:
/// `Registration::new(&MY_TYPE, module)?` in `init`.
pub struct Registration {
    ty: &'static FbType,
}

impl Registration {
    /// Register `ty`, implemented by `module`. Fails with `EEXIST` if a type of that name is
    /// registered already.
    pub fn new(ty: &'static FbType, module: &'static ThisModule) -> Result<Self> {
        if Name::new(ty.name).is_err() {
            pr_err!("refusing FB type with an invalid name\n");
            return Err(EINVAL);
        }
        let mut cfg = config::lock();
        if cfg.types.iter().any(|t| t.ty.name == ty.name) {
            pr_err!("an FB type named '{}' is registered already\n", ty.name);
            return Err(EEXIST);
        }
        cfg.types.push(TypeEntry { ty, module }, GFP_KERNEL)?;
        config::changed();
        pr_info!("registered FB type '{}'\n", ty.name);
        Ok(Self { ty })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        {
            let mut cfg = config::lock();
            // No block of the type is in the configuration: each holds a reference on the
            // type's module, which is going away.
            cfg.types.retain(|t| !core::ptr::eq(t.ty, self.ty));
            config::changed();
        }
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
///     block_type: FWD_TYPE,
///     name: "fb_fwd",
///     description: "LANA functional block: forward",
/// }
/// ```
#[macro_export]
macro_rules! fb_module {
    (block_type: $ty:ident, name: $name:tt, description: $desc:tt $(,)?) => {
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
            fn init(module: &'static ::kernel::ThisModule) -> ::kernel::error::Result<Self> {
                Ok(Self { _registration: $crate::Registration::new(&$ty, module)? })
            }
        }
    };
}
