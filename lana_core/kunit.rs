// SPDX-License-Identifier: GPL-2.0
//! KUnit tests of the core's logic that needs no traffic (built only with CONFIG_KUNIT=y, as
//! in the debug kernel; they run when lana_core loads and report KTAP in the kernel log).
//! The registry tests run the real commands on a private configuration the engine never
//! sees. The hop limit needs packets: the guest suite covers it (30-traffic).

#[kernel::macros::kunit_tests(lana_core)]
mod tests {
    use crate::bpf::parse_ddd;
    use crate::name::Name;
    use crate::props::{split_prop, Kind, PropValue};
    use crate::block::NewInstance;
    use crate::config::{self as registry, Config};
    use crate::msg::MsgBuf;
    use crate::types::TypeEntry;
    use crate::{Direction, FbType, FunctionalBlock, Packet, PacketContext, Verdict};
    use core::fmt::Write;
    use kernel::prelude::*;

    static CORE: ThisModule = <crate::LanaCore as kernel::ModuleMetadata>::THIS_MODULE;

    struct Pass;

    impl FunctionalBlock for Pass {
        fn receive(&self, _ctx: &PacketContext, pkt: Packet, dir: Direction) -> Verdict {
            Verdict::Next(pkt, dir)
        }
    }

    fn new_pass(_: &NewInstance<'_>) -> Result<KBox<dyn FunctionalBlock>> {
        Ok(KBox::new(Pass, GFP_KERNEL)?)
    }

    const PASS_TYPE: FbType = FbType {
        name: "kt-one",
        description: "test: one next block each way",
        keys: &[],
        max_ingress: 1,
        max_egress: 1,
        has_state: false,
        new: new_pass,
    };

    static ONE: FbType = PASS_TYPE;
    static TWO: FbType = FbType { name: "kt-two", max_ingress: 2, max_egress: 2, has_state: true, ..PASS_TYPE };

    fn config() -> Config {
        let mut c = Config::private();
        let _ = c.types.push(TypeEntry::new(&ONE, &CORE), GFP_KERNEL);
        let _ = c.types.push(TypeEntry::new(&TWO, &CORE), GFP_KERNEL);
        c
    }

    fn errno<T>(r: crate::msg::CmdResult<T>) -> i32 {
        match r {
            Ok(_) => 0,
            Err(f) => f.err.to_errno(),
        }
    }

    #[test]
    fn add_checks_names_types_and_duplicates() {
        let mut c = config();
        assert_eq!(errno(registry::add(&mut c, "a", "kt-one")), 0);
        assert_eq!(errno(registry::add(&mut c, "a", "kt-two")), EEXIST.to_errno());
        assert_eq!(errno(registry::add(&mut c, "b", "nosuch")), ENOENT.to_errno());
        assert_eq!(errno(registry::add(&mut c, "b/c", "kt-one")), EINVAL.to_errno());
        assert_eq!(c.len(), 1);
        assert_eq!(errno(registry::rm(&mut c, "nosuch")), ENOENT.to_errno());
        assert_eq!(errno(registry::rm(&mut c, "a")), 0);
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn bind_refuses_cycles_limits_and_repeats() {
        let mut c = config();
        for n in ["a", "b", "c"] {
            assert_eq!(errno(registry::add(&mut c, n, "kt-one")), 0);
        }
        assert_eq!(errno(registry::add(&mut c, "t", "kt-two")), 0);
        assert_eq!(errno(registry::bind(&mut c, "a", "b")), 0);
        assert_eq!(errno(registry::bind(&mut c, "b", "c")), 0);
        assert_eq!(errno(registry::bind(&mut c, "c", "a")), ELOOP.to_errno());
        assert_eq!(errno(registry::bind(&mut c, "a", "a")), ELOOP.to_errno());
        assert_eq!(errno(registry::bind(&mut c, "a", "b")), EEXIST.to_errno());
        assert_eq!(errno(registry::bind(&mut c, "a", "c")), ENOSPC.to_errno());
        // a fan-out type takes two
        assert_eq!(errno(registry::bind(&mut c, "c", "t")), 0);
        assert_eq!(errno(registry::unbind(&mut c, "c", "t")), 0);
        assert_eq!(errno(registry::rm(&mut c, "b")), EBUSY.to_errno());
        assert_eq!(errno(registry::unbind(&mut c, "a", "c")), ENOENT.to_errno());
        assert_eq!(errno(registry::unbind(&mut c, "a", "b")), 0);
        // ingress and egress bindings mirror each other
        let b = c.find("b").and_then(|s| c.node(s)).map(|n| (n.ingress.len(), n.egress.len()));
        assert_eq!(b, Some((1, 0)));
        assert_eq!(errno(registry::flush(&mut c)), 0);
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn replace_moves_every_binding_in_one_step() {
        let mut c = config();
        for n in ["a", "m", "z", "m2"] {
            assert_eq!(errno(registry::add(&mut c, n, "kt-one")), 0);
        }
        assert_eq!(errno(registry::add(&mut c, "s", "kt-two")), 0);
        assert_eq!(errno(registry::bind(&mut c, "a", "m")), 0);
        assert_eq!(errno(registry::bind(&mut c, "m", "z")), 0);
        assert_eq!(errno(registry::replace(&mut c, "m", "m", false)), EINVAL.to_errno());
        assert_eq!(errno(registry::replace(&mut c, "m", "a", false)), EBUSY.to_errno());
        assert_eq!(errno(registry::replace(&mut c, "m", "m2", false)), 0);
        assert!(c.find("m").is_none());
        let node = |c: &Config, n: &str| c.find(n).and_then(|s| c.node(s).map(|node| (s, node.ingress.first().copied(), node.egress.first().copied())));
        let (m2, a, z) = (c.find("m2"), c.find("a"), c.find("z"));
        assert_eq!(node(&c, "a").and_then(|n| n.1), m2);
        assert_eq!(node(&c, "z").and_then(|n| n.2), m2);
        assert_eq!(node(&c, "m2").map(|n| (n.1, n.2)), Some((z, a)));
        // a type with state does not hand it to another type without --drop-state
        assert_eq!(errno(registry::add(&mut c, "s2", "kt-one")), 0);
        assert_eq!(errno(registry::replace(&mut c, "s", "s2", false)), EINVAL.to_errno());
        assert_eq!(errno(registry::replace(&mut c, "s", "s2", true)), 0);
        assert_eq!(errno(registry::flush(&mut c)), 0);
    }

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
