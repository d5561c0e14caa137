// SPDX-License-Identifier: GPL-2.0
//! Why a command failed: an errno and a message for the user, sent back in the netlink
//! extended ack, formatted in place without allocating.

use core::fmt::{self, Write};
use kernel::prelude::*;

/// Why a command failed.
pub(crate) struct Fail {
    pub(crate) err: Error,
    pub(crate) msg: MsgBuf,
}

/// A short message, formatted in place (the extended ack holds 80 bytes; property strings
/// use the longer variant).
pub(crate) struct MsgBuf {
    buf: [u8; 288],
    len: usize,
    cap: usize,
}

impl MsgBuf {
    /// For extended-ack messages (80 bytes with the NUL).
    pub(crate) fn new() -> Self {
        Self { buf: [0; 288], len: 0, cap: 80 }
    }

    /// For property strings (256 bytes with the NUL).
    pub(crate) fn new_long() -> Self {
        Self { buf: [0; 288], len: 0, cap: 256 }
    }

    /// The text so far.
    pub(crate) fn as_str(&self) -> &str {
        // Writes copy whole `str`s but may cut one in a multi-byte character: cut back.
        let mut n = self.len;
        while n > 0 && core::str::from_utf8(&self.buf[..n]).is_err() {
            n -= 1;
        }
        core::str::from_utf8(&self.buf[..n]).unwrap_or("")
    }

    /// The message with a terminating NUL, cut to fit.
    pub(crate) fn as_bytes_with_nul(&mut self) -> &[u8] {
        let n = self.len.min(self.cap - 1);
        self.buf[n] = 0;
        &self.buf[..n + 1]
    }
}

impl Write for MsgBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = (self.cap - 1).saturating_sub(self.len);
        let n = s.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

impl Fail {
    pub(crate) fn new(err: Error, args: fmt::Arguments<'_>) -> Self {
        let mut msg = MsgBuf::new();
        let _ = msg.write_fmt(args);
        Fail { err, msg }
    }
}

impl From<Error> for Fail {
    fn from(err: Error) -> Self {
        Fail::new(err, format_args!(""))
    }
}

impl From<kernel::alloc::AllocError> for Fail {
    fn from(_: kernel::alloc::AllocError) -> Self {
        Fail::new(ENOMEM, format_args!("out of memory"))
    }
}

/// `fail!(ERRNO, "format", args...)`: return early with a [`Fail`].
macro_rules! fail {
    ($err:expr, $($arg:tt)*) => {
        return Err($crate::msg::Fail::new($err, format_args!($($arg)*)))
    };
}
pub(crate) use fail;

/// What a command returns.
pub(crate) type CmdResult<T = ()> = core::result::Result<T, Fail>;
