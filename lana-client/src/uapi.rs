// SPDX-License-Identifier: GPL-2.0
//! The `lana` family's numbers, from the file the kernel module compiles too.
#![allow(dead_code)]
include!("../../uapi/lana_uapi.rs");
