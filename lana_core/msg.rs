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

/// Bytes of an extended-ack message, with its NUL (`NETLINK_MAX_FMTMSG_LEN`).
pub(crate) const EXTACK_LEN: usize = 80;

/// Bytes of a `key=value` property string, with its NUL.
pub(crate) const PROP_LEN: usize = 256;

/// A short text formatted in place, at most `N - 1` bytes (a NUL fits after it): an
/// extended-ack message (`MsgBuf`, the default) or a property string (`MsgBuf<PROP_LEN>`).
pub(crate) struct MsgBuf<const N: usize = EXTACK_LEN> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> MsgBuf<N> {
    pub(crate) fn new() -> Self {
        Self {
            buf: [0; N],
            len: 0,
        }
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

    /// Replace every byte that is not printable ASCII with `?`.
    pub(crate) fn make_printable_ascii(&mut self) {
        for c in self.buf[..self.len].iter_mut() {
            if !(0x20..0x7f).contains(c) {
                *c = b'?';
            }
        }
    }

    /// The text with a terminating NUL.
    pub(crate) fn as_bytes_with_nul(&mut self) -> &[u8] {
        let n = self.len.min(N - 1);
        self.buf[n] = 0;
        &self.buf[..n + 1]
    }
}

impl<const N: usize> Write for MsgBuf<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = (N - 1).saturating_sub(self.len);
        let n = s.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

impl Fail {
    pub(crate) fn new(err: Error, args: fmt::Arguments<'_>) -> Self {
        let mut msg = MsgBuf::<EXTACK_LEN>::new();
        let _ = msg.write_fmt(args);
        Fail { err, msg }
    }
}

impl From<Error> for Fail {
    /// An error with no words of its own (an allocation, a kernel helper's errno): the
    /// message says at least what it was, never nothing.
    fn from(err: Error) -> Self {
        if err == ENOMEM {
            Fail::new(err, format_args!("out of memory"))
        } else {
            Fail::new(err, format_args!("failed: {err:?}"))
        }
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

#[kernel::macros::kunit_tests(lana_msg)]
mod tests {
    use super::MsgBuf;
    use core::fmt::Write;

    #[test]
    fn error_messages_are_cut_to_the_extack_buffer() {
        let mut m = MsgBuf::<80>::new();
        for _ in 0..20 {
            let _ = m.write_str("0123456789");
        }
        let b = m.as_bytes_with_nul();
        assert_eq!(b.len(), 80);
        assert_eq!(b[79], 0);
    }
}
