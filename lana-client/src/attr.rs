// SPDX-License-Identifier: GPL-2.0
//! Netlink attributes (TLVs): building requests and reading replies, on
//! `netlink-packet-core`'s attribute types (`DefaultNla` writes one, `NlasIterator` walks
//! them). What stays here is the family's way of using them: write into one growing buffer
//! (the fuzzer mutates its bytes), read without failing (absent or short values read as
//! 0 or ""), strings up to the first NUL.

use netlink_packet_core::{DefaultNla, Emitable, NlasIterator, NLA_HEADER_SIZE};

/// Netlink's "this attribute holds attributes" flag (required by strict validation).
pub use netlink_packet_core::NLA_F_NESTED;

/// Round up to netlink's 4-byte alignment.
pub fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// The largest payload one attribute holds (its length is 16 bits, header included).
pub const ATTR_PAYLOAD_MAX: usize = u16::MAX as usize - NLA_HEADER_SIZE;

/// Attributes being written into a message.
#[derive(Default, Clone)]
pub struct AttrWriter {
    pub buf: Vec<u8>,
    /// An attribute was too large for netlink (over [`ATTR_PAYLOAD_MAX`]) and was left out:
    /// the request must not be sent (see [`AttrWriter::too_large`]).
    oversized: bool,
}

impl AttrWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// One attribute of type `ty` (flags included) holding `payload`, padded to 4 bytes.
    pub fn put(&mut self, ty: u16, payload: &[u8]) -> &mut Self {
        if payload.len() > ATTR_PAYLOAD_MAX {
            self.oversized = true;
            return self;
        }
        let nla = DefaultNla::new(ty, payload.to_vec());
        let start = self.buf.len();
        self.buf.resize(start + nla.buffer_len(), 0);
        nla.emit(&mut self.buf[start..]);
        self
    }

    /// A NUL-terminated string attribute.
    pub fn put_str(&mut self, ty: u16, s: &str) -> &mut Self {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        self.put(ty, &v)
    }

    pub fn put_u32(&mut self, ty: u16, v: u32) -> &mut Self {
        self.put(ty, &v.to_ne_bytes())
    }

    /// A nested attribute holding what `inner` wrote.
    pub fn put_nested(&mut self, ty: u16, inner: &AttrWriter) -> &mut Self {
        self.oversized |= inner.oversized;
        self.put(ty | NLA_F_NESTED, &inner.buf)
    }

    /// Whether an attribute (or a nest) was over 64 KiB and left out.
    pub fn too_large(&self) -> bool {
        self.oversized
    }
}

/// Iterate over the attributes in `buf`: (type without flags, payload). Stops at the first
/// malformed attribute.
pub fn attrs(buf: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    NlasIterator::new(buf).map_while(Result::ok).map(|nla| {
        let (ty, len) = (nla.kind(), usize::from(nla.length()));
        (ty, &nla.into_inner()[NLA_HEADER_SIZE..len])
    })
}

/// The first attribute of type `ty` in `buf`.
pub fn find(buf: &[u8], ty: u16) -> Option<&[u8]> {
    attrs(buf).find(|(t, _)| *t == ty).map(|(_, p)| p)
}

/// A string payload (up to the first NUL).
pub fn as_str(p: &[u8]) -> String {
    let end = p.iter().position(|&b| b == 0).unwrap_or(p.len());
    String::from_utf8_lossy(&p[..end]).into_owned()
}

pub fn as_u32(p: &[u8]) -> Option<u32> {
    Some(u32::from_ne_bytes(p.get(..4)?.try_into().ok()?))
}

pub fn as_u64(p: &[u8]) -> Option<u64> {
    Some(u64::from_ne_bytes(p.get(..8)?.try_into().ok()?))
}

pub fn find_str(buf: &[u8], ty: u16) -> String {
    find(buf, ty).map(as_str).unwrap_or_default()
}

pub fn find_u32(buf: &[u8], ty: u16) -> u32 {
    find(buf, ty).and_then(as_u32).unwrap_or(0)
}

pub fn find_u64(buf: &[u8], ty: u16) -> u64 {
    find(buf, ty).and_then(as_u64).unwrap_or(0)
}

/// All string attributes of type `ty` nested in attribute `nest`.
pub fn nested_strs(buf: &[u8], nest: u16, ty: u16) -> Vec<String> {
    find(buf, nest)
        .map(|n| {
            attrs(n)
                .filter(|(t, _)| *t == ty)
                .map(|(_, p)| as_str(p))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attribute_over_64k_is_left_out_and_flagged() {
        let mut inner = AttrWriter::new();
        inner.put(5, &vec![b'x'; ATTR_PAYLOAD_MAX]);
        assert!(!inner.too_large());
        let mut w = AttrWriter::new();
        w.put_str(1, "a");
        let before = w.buf.len();
        w.put_nested(6, &inner); // header + payload: one byte over
        assert!(w.too_large());
        assert_eq!(w.buf.len(), before, "nothing written");
    }

    #[test]
    fn round_trip_with_padding_and_nesting() {
        let mut inner = AttrWriter::new();
        inner.put_str(5, "reset=1").put_str(5, "dev=v0");
        let mut w = AttrWriter::new();
        w.put_str(1, "abc").put_u32(3, 7).put_nested(6, &inner);
        assert_eq!(w.buf.len() % 4, 0);
        assert_eq!(find_str(&w.buf, 1), "abc");
        assert_eq!(find_u32(&w.buf, 3), 7);
        assert_eq!(nested_strs(&w.buf, 6, 5), vec!["reset=1", "dev=v0"]);
        // the nested flag is set on the wire and masked when reading
        let (_, raw_ty) = (
            0,
            u16::from_ne_bytes([
                w.buf[w.buf.len() - inner.buf.len() - 2],
                w.buf[w.buf.len() - inner.buf.len() - 1],
            ]),
        );
        assert_eq!(raw_ty & NLA_F_NESTED, NLA_F_NESTED);
    }

    #[test]
    fn malformed_attributes_end_iteration() {
        // length 2 (< header) must not loop or panic
        let buf = [2u8, 0, 1, 0, 0xff, 0xff];
        assert_eq!(attrs(&buf).count(), 0);
        // length past the end
        let buf = [40u8, 0, 1, 0, b'a', 0, 0, 0];
        assert_eq!(attrs(&buf).count(), 0);
        assert_eq!(find_u64(&[], 1), 0);
    }
}
