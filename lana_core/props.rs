// SPDX-License-Identifier: GPL-2.0
//! Typed properties: `key=value` strings from `fbctl set`, checked by the core before a block
//! sees them, and the sink blocks describe themselves into for `fbctl show`.

use core::fmt;

/// The kind of value a key takes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Decimal or `0x` hex number that fits 32 bits.
    U32,
    /// Decimal or `0x` hex number that fits 64 bits.
    U64,
    /// `0`/`1`, `false`/`true`, `off`/`on`.
    Bool,
    /// Free text (at most 255 bytes; the block checks its meaning).
    Str,
}

impl Kind {
    /// How `fbctl types` names the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::U32 => "u32",
            Kind::U64 => "u64",
            Kind::Bool => "bool",
            Kind::Str => "string",
        }
    }
}

/// A checked property value.
#[derive(Clone, Copy)]
pub enum PropValue<'a> {
    /// A number (kinds `U32` and `U64`).
    Num(u64),
    /// A boolean.
    Bool(bool),
    /// Text.
    Str(&'a str),
}

impl<'a> PropValue<'a> {
    /// Parse `text` as `kind`; the error is a message for the user.
    pub fn parse(kind: Kind, text: &'a str) -> Result<Self, &'static str> {
        match kind {
            Kind::U32 => match parse_u64(text) {
                Some(v) if v <= u64::from(u32::MAX) => Ok(PropValue::Num(v)),
                _ => Err("expected a number from 0 to 4294967295"),
            },
            Kind::U64 => parse_u64(text)
                .map(PropValue::Num)
                .ok_or("expected a 64-bit number"),
            Kind::Bool => match text {
                "1" | "true" | "on" | "yes" => Ok(PropValue::Bool(true)),
                "0" | "false" | "off" | "no" => Ok(PropValue::Bool(false)),
                _ => Err("expected a boolean (0/1, true/false, on/off)"),
            },
            Kind::Str => Ok(PropValue::Str(text)),
        }
    }

    /// The number, for keys of kind `U32`/`U64` (0 otherwise).
    pub fn num(&self) -> u64 {
        match self {
            PropValue::Num(v) => *v,
            PropValue::Bool(b) => u64::from(*b),
            PropValue::Str(_) => 0,
        }
    }

    /// The boolean, for keys of kind `Bool`.
    pub fn flag(&self) -> bool {
        self.num() != 0
    }

    /// The text, for keys of kind `Str` ("" otherwise).
    pub fn text(&self) -> &'a str {
        match self {
            PropValue::Str(s) => s,
            _ => "",
        }
    }
}

fn parse_u64(text: &str) -> Option<u64> {
    let (digits, radix) = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => (hex, 16),
        None => (text, 10),
    };
    if digits.is_empty() {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// Where a block describes itself (`fbctl show`): typed values, one per key. The core sorts
/// them: a key of the type's [`KeyInfo`](crate::block::KeyInfo)s is a setting and goes to the
/// block's `config`, any other key is a figure it keeps and goes to its `state`; so a figure
/// can never pass for something `fbctl set` takes.
pub trait PropSink {
    /// A number.
    fn num(&mut self, key: &str, value: u64);
    /// A number best read in hex (an EtherType); machines get the number.
    fn hex(&mut self, key: &str, value: u64);
    /// Text, formatted like `format!`'s arguments (at most 255 bytes are kept).
    fn text(&mut self, key: &str, value: fmt::Arguments<'_>);
}

/// Split `key=value`; `None` when there is no `=` or the key is empty.
pub(crate) fn split_prop(s: &str) -> Option<(&str, &str)> {
    let (k, v) = s.split_once('=')?;
    (!k.is_empty()).then_some((k, v))
}

#[kernel::macros::kunit_tests(lana_props)]
mod tests {
    use super::{split_prop, Kind, PropValue};

    #[test]
    fn numbers_parse_in_decimal_and_hex_within_range() {
        assert!(matches!(
            PropValue::parse(Kind::U32, "42"),
            Ok(PropValue::Num(42))
        ));
        assert!(matches!(
            PropValue::parse(Kind::U32, "0x88b5"),
            Ok(PropValue::Num(0x88b5))
        ));
        assert!(PropValue::parse(Kind::U32, "4294967296").is_err());
        assert!(PropValue::parse(Kind::U32, "-1").is_err());
        assert!(PropValue::parse(Kind::U32, "0x").is_err());
        assert!(PropValue::parse(Kind::U32, "").is_err());
        assert!(matches!(
            PropValue::parse(Kind::U64, "18446744073709551615"),
            Ok(PropValue::Num(u64::MAX))
        ));
    }

    #[test]
    fn booleans_and_strings_parse() {
        assert!(matches!(
            PropValue::parse(Kind::Bool, "on"),
            Ok(PropValue::Bool(true))
        ));
        assert!(matches!(
            PropValue::parse(Kind::Bool, "0"),
            Ok(PropValue::Bool(false))
        ));
        assert!(PropValue::parse(Kind::Bool, "maybe").is_err());
        assert!(matches!(
            PropValue::parse(Kind::Str, ""),
            Ok(PropValue::Str(""))
        ));
    }

    #[test]
    fn key_value_split_needs_a_key() {
        assert_eq!(split_prop("a=b=c"), Some(("a", "b=c")));
        assert_eq!(split_prop("=v"), None);
        assert_eq!(split_prop("novalue"), None);
    }
}
