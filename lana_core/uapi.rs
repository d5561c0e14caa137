// SPDX-License-Identifier: GPL-2.0
//! Command and attribute numbers of the `lana` generic-netlink family (shared with `fbctl`).
#![allow(dead_code)]
include!("../uapi/lana_uapi.rs");
