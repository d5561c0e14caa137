// SPDX-License-Identifier: GPL-2.0
//! KUnit tests of the core's logic that needs no traffic (built only with CONFIG_KUNIT=y, as
//! in the debug kernel; they run when lana_core loads and report KTAP in the kernel log).

#[kernel::macros::kunit_tests(lana_core)]
mod tests {
    use crate::bpf::parse_ddd;
    use crate::name::Name;
    use crate::props::{split_prop, Kind, PropValue};
    use crate::registry::MsgBuf;
    use core::fmt::Write;

    #[test]
    fn numbers_parse_in_decimal_and_hex_within_range() {
        assert!(matches!(PropValue::parse(Kind::U32, "42"), Ok(PropValue::Num(42))));
        assert!(matches!(PropValue::parse(Kind::U32, "0x88b5"), Ok(PropValue::Num(0x88b5))));
        assert!(PropValue::parse(Kind::U32, "4294967296").is_err());
        assert!(PropValue::parse(Kind::U32, "-1").is_err());
        assert!(PropValue::parse(Kind::U32, "0x").is_err());
        assert!(PropValue::parse(Kind::U32, "").is_err());
        assert!(matches!(PropValue::parse(Kind::U64, "18446744073709551615"), Ok(PropValue::Num(u64::MAX))));
    }

    #[test]
    fn booleans_and_strings_parse() {
        assert!(matches!(PropValue::parse(Kind::Bool, "on"), Ok(PropValue::Bool(true))));
        assert!(matches!(PropValue::parse(Kind::Bool, "0"), Ok(PropValue::Bool(false))));
        assert!(PropValue::parse(Kind::Bool, "maybe").is_err());
        assert!(matches!(PropValue::parse(Kind::Str, ""), Ok(PropValue::Str(""))));
    }

    #[test]
    fn key_value_split_needs_a_key() {
        assert_eq!(split_prop("a=b=c"), Some(("a", "b=c")));
        assert_eq!(split_prop("=v"), None);
        assert_eq!(split_prop("novalue"), None);
    }

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

    #[test]
    fn ddd_bytecode_parses_and_checks_its_count() {
        let p = parse_ddd("4,40 0 0 12,21 0 1 2048,6 0 0 262144,6 0 0 0");
        assert!(matches!(p, Ok(ref v) if v.len() == 4 && v[1].code == 21 && v[1].jf == 1 && v[1].k == 2048));
        assert!(parse_ddd("3,6 0 0 0").is_err());
        assert!(parse_ddd("1,6 0 0").is_err());
        assert!(parse_ddd("1,6 0 256 0").is_err());
        assert!(parse_ddd("0").is_err());
        assert!(parse_ddd("").is_err());
        assert!(parse_ddd("5000,6 0 0 0").is_err());
    }

    #[test]
    fn error_messages_are_cut_to_the_extack_buffer() {
        let mut m = MsgBuf::new();
        for _ in 0..20 {
            let _ = m.write_str("0123456789");
        }
        let b = m.as_bytes_with_nul();
        assert_eq!(b.len(), 80);
        assert_eq!(b[79], 0);
    }
}
