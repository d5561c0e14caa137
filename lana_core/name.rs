// SPDX-License-Identifier: GPL-2.0
//! Instance and type names: short, printable, stored inline.

use crate::uapi::LANA_NAME_MAX;

const CAP: usize = LANA_NAME_MAX as usize;

/// A validated name: 1 to 31 bytes of `[A-Za-z0-9_.-]`.
#[derive(Clone, Copy)]
pub struct Name {
    buf: [u8; CAP + 1],
    len: u8,
}

impl Name {
    /// Check and copy `s`. Errors carry the reason for the user.
    pub fn new(s: &str) -> core::result::Result<Self, &'static str> {
        if s.is_empty() {
            return Err("names must not be empty");
        }
        if s.len() > CAP {
            return Err("names are at most 31 characters");
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
        {
            return Err("names may contain only letters, digits, '_', '-' and '.'");
        }
        let mut buf = [0u8; CAP + 1];
        buf[..s.len()].copy_from_slice(s.as_bytes());
        Ok(Self {
            buf,
            len: s.len() as u8,
        })
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        // Only ASCII was accepted in `new`, so this cannot fail; fall back to "" regardless.
        core::str::from_utf8(&self.buf[..self.len as usize]).unwrap_or("")
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Name {}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Name {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

#[kernel::macros::kunit_tests(lana_name)]
mod tests {
    use super::Name;

    #[test]
    fn names_are_short_and_printable() {
        assert!(Name::new("eth0.in-1_x").is_ok());
        assert!(Name::new("").is_err());
        assert!(Name::new("a/b").is_err());
        assert!(Name::new("abcdefghijklmnopqrstuvwxyz012345").is_err()); // 32 bytes
        assert!(Name::new("abcdefghijklmnopqrstuvwxyz01234").is_ok()); // 31 bytes
        let n = Name::new("tee1");
        assert!(matches!(n, Ok(ref n) if *n == *"tee1"));
    }
}
