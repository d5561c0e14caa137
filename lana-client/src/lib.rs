// SPDX-License-Identifier: GPL-2.0
//! The client side of LANA's generic-netlink family `lana`, shared by `fbctl` and the test
//! tools: a netlink socket ([`genl::Genl`]), attribute encoding ([`attr`]), the family's
//! numbers ([`uapi`]), and the kernel's replies decoded into typed structs ([`Block`],
//! [`BlockType`], [`Stats`]), which serialise to the JSON `fbctl -j` prints.

pub mod attr;
pub mod genl;
pub mod uapi;

use attr::AttrWriter;
use genl::{Genl, NlError};
use serde::Serialize;
use std::collections::BTreeMap;
use uapi::*;

/// One value a block reports: a number or text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Num(u64),
    /// A number that reads best in hex (an EtherType); JSON gets the number.
    Hex(u64),
    Text(String),
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Num(n) => write!(f, "{n}"),
            Value::Hex(n) => write!(f, "{n:#06x}"),
            Value::Text(t) => f.write_str(t),
        }
    }
}

impl Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Num(n) | Value::Hex(n) => s.serialize_u64(*n),
            Value::Text(t) => s.serialize_str(t),
        }
    }
}

/// Values by key, in the order the block reported them (a JSON object).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Values(pub Vec<(String, Value)>);

impl Values {
    /// Decode the `LANA_A_VALUE` nests inside `p`.
    pub fn decode(p: &[u8]) -> Self {
        Values(
            attr::attrs(p)
                .filter(|(ty, _)| *ty == LANA_A_VALUE)
                .map(|(_, v)| {
                    let value = match (attr::find(v, LANA_A_NUM), attr::find(v, LANA_A_TEXT)) {
                        (Some(n), _) if attr::find(v, LANA_A_HEX).is_some() => {
                            Value::Hex(attr::as_u64(n).unwrap_or(0))
                        }
                        (Some(n), _) => Value::Num(attr::as_u64(n).unwrap_or(0)),
                        (None, Some(t)) => Value::Text(attr::as_str(t)),
                        (None, None) => Value::Text(String::new()),
                    };
                    (attr::find_str(v, LANA_A_KEY), value)
                })
                .collect(),
        )
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Values {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// What the engine counted for one block (the same for every type).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct BlockStats {
    /// Packets the engine passed to the block (or past it, for a pass-through block).
    pub packets: u64,
    pub bytes: u64,
    /// Packets dropped at the block (by its verdict or the engine, with a reason).
    pub drops: u64,
    /// Calls into the block while the runtime view was on (0 for pass-through blocks).
    pub calls: u64,
    /// Nanoseconds those calls took.
    pub runtime_ns: u64,
}

/// One block, as `fbctl show` and `list` describe it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Block {
    pub id: u32,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// The blocks it passes packets to, ingress direction.
    pub ingress: Vec<String>,
    /// The blocks it passes packets to, egress direction.
    pub egress: Vec<String>,
    /// Its settings as they are now (keys of its type: `fbctl set` takes them).
    pub config: Values,
    /// The figures the block itself keeps (a counter's counts, an eth block's frames passed
    /// to the stack); not settable.
    pub state: Values,
    /// What the engine counted for it.
    pub stats: BlockStats,
}

impl Block {
    /// Decode a GET reply's attributes.
    pub fn decode(p: &[u8]) -> Self {
        Block {
            id: attr::find_u32(p, LANA_A_ID),
            name: attr::find_str(p, LANA_A_NAME),
            kind: attr::find_str(p, LANA_A_TYPE),
            ingress: attr::nested_strs(p, LANA_A_INGRESS, LANA_A_NAME),
            egress: attr::nested_strs(p, LANA_A_EGRESS, LANA_A_NAME),
            config: Values::decode(attr::find(p, LANA_A_CONFIG).unwrap_or(&[])),
            state: Values::decode(attr::find(p, LANA_A_STATE).unwrap_or(&[])),
            stats: BlockStats {
                packets: attr::find_u64(p, LANA_A_PACKETS),
                bytes: attr::find_u64(p, LANA_A_BYTES),
                drops: attr::find_u64(p, LANA_A_DROPS),
                calls: attr::find_u64(p, LANA_A_CALLS),
                runtime_ns: attr::find_u64(p, LANA_A_RUNTIME_NS),
            },
        }
    }
}

/// One key a block type takes.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TypeKey {
    pub key: String,
    /// u32, u64, bool or string.
    pub kind: String,
    pub help: String,
}

/// A registered block type, as `fbctl types` describes it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BlockType {
    #[serde(rename = "type")]
    pub name: String,
    pub description: String,
    pub max_ingress: u32,
    pub max_egress: u32,
    pub instances: u32,
    /// The keys `fbctl set` takes for its blocks.
    pub keys: Vec<TypeKey>,
}

impl BlockType {
    /// Decode a TYPES reply's attributes.
    pub fn decode(p: &[u8]) -> Self {
        BlockType {
            name: attr::find_str(p, LANA_A_TYPE),
            description: attr::find_str(p, LANA_A_DESC),
            max_ingress: attr::find_u32(p, LANA_A_MAX_INGRESS),
            max_egress: attr::find_u32(p, LANA_A_MAX_EGRESS),
            instances: attr::find_u32(p, LANA_A_INSTANCES),
            keys: attr::attrs(attr::find(p, LANA_A_KEYS).unwrap_or(&[]))
                .filter(|(ty, _)| *ty == LANA_A_KEY_INFO)
                .map(|(_, k)| TypeKey {
                    key: attr::find_str(k, LANA_A_KEY),
                    kind: attr::find_str(k, LANA_A_KIND),
                    help: attr::find_str(k, LANA_A_DESC),
                })
                .collect(),
        }
    }
}

/// The engine's accounting and settings, as `fbctl stats` shows them.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Stats {
    pub entered: u64,
    pub entered_bytes: u64,
    pub copies: u64,
    pub delivered: u64,
    pub transmitted: u64,
    /// Drops by reason, in the kernel's order.
    pub dropped: BTreeMap<String, u64>,
    pub dropped_total: u64,
    /// delivered + transmitted + dropped.
    pub ended: u64,
    /// entered + copies - ended: packets still inside the engine (0 when quiet).
    pub in_flight: i128,
    pub max_hops: u32,
    pub max_blocks: u32,
    pub blocks: u32,
    pub generation: u32,
    pub mechanism: String,
    /// The per-block runtime view is on.
    pub runtime: bool,
    /// Compiled jumps over pass-through blocks from this namespace's blocks, and the blocks
    /// they skip in all.
    pub jumps: u32,
    pub jumped: u32,
}

impl Stats {
    /// Decode a STATS reply's attributes.
    pub fn decode(p: &[u8]) -> Self {
        let nest = attr::find(p, LANA_A_ENGINE_DROP_REASONS).unwrap_or(&[]);
        let dropped: BTreeMap<String, u64> = LANA_DROP_REASON_NAMES
            .split(',')
            .enumerate()
            .map(|(i, name)| (name.to_string(), attr::find_u64(nest, i as u16 + 1)))
            .collect();
        // (wrapping: a garbled reply must not panic a reader)
        let dropped_total = dropped.values().fold(0u64, |a, n| a.wrapping_add(*n));
        let (entered, copies) = (
            attr::find_u64(p, LANA_A_ENGINE_RX),
            attr::find_u64(p, LANA_A_ENGINE_COPIES),
        );
        let (delivered, transmitted) = (
            attr::find_u64(p, LANA_A_ENGINE_DELIVERED),
            attr::find_u64(p, LANA_A_ENGINE_TRANSMITTED),
        );
        let ended = delivered
            .wrapping_add(transmitted)
            .wrapping_add(dropped_total);
        Stats {
            entered,
            entered_bytes: attr::find_u64(p, LANA_A_BYTES),
            copies,
            delivered,
            transmitted,
            dropped,
            dropped_total,
            ended,
            in_flight: i128::from(entered) + i128::from(copies) - i128::from(ended),
            max_hops: attr::find_u32(p, LANA_A_ENGINE_MAX_HOPS),
            max_blocks: attr::find_u32(p, LANA_A_ENGINE_MAX_BLOCKS),
            blocks: attr::find_u32(p, LANA_A_ENGINE_BLOCKS),
            generation: attr::find_u32(p, LANA_A_GENERATION),
            mechanism: attr::find_str(p, LANA_A_ENGINE_MODE),
            runtime: attr::find_u32(p, LANA_A_ENGINE_RUNTIME) != 0,
            jumps: attr::find_u32(p, LANA_A_ENGINE_JUMPS),
            jumped: attr::find_u32(p, LANA_A_ENGINE_JUMPED),
        }
    }
}

/// A change the kernel announced on the family's `config` multicast group (`fbctl
/// monitor`): the command that made it and what it named.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Event {
    /// add, rm, set, bind, unbind, replace, flush, engine or link.
    pub event: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drop_state: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_hops: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attached: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_up: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    pub generation: u32,
}

impl Event {
    /// The event of command `cmd` with attributes `p`.
    pub fn decode(cmd: u8, p: &[u8]) -> Self {
        let event = match cmd {
            LANA_CMD_ADD_NTF => "add",
            LANA_CMD_RM_NTF => "rm",
            LANA_CMD_SET_NTF => "set",
            LANA_CMD_BIND_NTF => "bind",
            LANA_CMD_UNBIND_NTF => "unbind",
            LANA_CMD_REPLACE_NTF => "replace",
            LANA_CMD_FLUSH_NTF => "flush",
            LANA_CMD_ENGINE_NTF => "engine",
            LANA_CMD_LINK => "link",
            _ => "unknown",
        };
        let s = |ty| attr::find(p, ty).map(attr::as_str);
        let u = |ty| attr::find(p, ty).map(|_| attr::find_u32(p, ty));
        Event {
            event: event.into(),
            name: s(LANA_A_NAME),
            kind: s(LANA_A_TYPE),
            peer: s(LANA_A_PEER),
            id: u(LANA_A_ID),
            props: attr::nested_strs(p, LANA_A_PROPS, LANA_A_PROP)
                .into_iter()
                .chain(
                    Values::decode(attr::find(p, LANA_A_CONFIG).unwrap_or(&[]))
                        .0
                        .into_iter()
                        .map(|(k, v)| format!("{k}={v}")),
                )
                .collect(),
            drop_state: u(LANA_A_FLAGS).map(|f| f & LANA_F_DROP_STATE != 0),
            max_hops: u(LANA_A_ENGINE_MAX_HOPS),
            runtime: u(LANA_A_ENGINE_RUNTIME).map(|v| v != 0),
            attached: u(LANA_A_ATTACHED).map(|v| v != 0),
            link_up: u(LANA_A_LINK_UP).map(|v| v != 0),
            mtu: u(LANA_A_MTU),
            generation: attr::find_u32(p, LANA_A_GENERATION),
        }
    }
}

/// A connection to the `lana` family.
pub struct Lana {
    pub nl: Genl,
    pub family: u16,
}

/// Why connecting failed.
pub enum ConnectError {
    /// No netlink socket.
    Socket(NlError),
    /// The family is not registered: lana_core is not loaded.
    NotLoaded,
    /// Resolving the family failed otherwise.
    Other(NlError),
}

impl Lana {
    /// Open a socket and resolve the family.
    pub fn connect() -> Result<Self, ConnectError> {
        let mut nl = Genl::open().map_err(ConnectError::Socket)?;
        match nl.resolve(LANA_GENL_NAME) {
            Ok(family) => Ok(Lana { nl, family }),
            Err(e) if e.errno == libc::ENOENT => Err(ConnectError::NotLoaded),
            Err(e) => Err(ConnectError::Other(e)),
        }
    }

    /// Send `cmd` with `attrs` and collect the replies (all parts of a dump).
    pub fn call(
        &mut self,
        cmd: u8,
        attrs: &AttrWriter,
        dump: bool,
    ) -> Result<Vec<Vec<u8>>, NlError> {
        self.nl
            .request(self.family, cmd, LANA_GENL_VERSION, attrs, dump)
    }

    /// Every block.
    pub fn list(&mut self) -> Result<Vec<Block>, NlError> {
        Ok(self
            .call(LANA_CMD_GET, &AttrWriter::new(), true)?
            .iter()
            .map(|p| Block::decode(p))
            .collect())
    }

    /// One block.
    pub fn show(&mut self, name: &str) -> Result<Option<Block>, NlError> {
        let mut a = AttrWriter::new();
        a.put_str(LANA_A_NAME, name);
        Ok(self
            .call(LANA_CMD_GET, &a, false)?
            .first()
            .map(|p| Block::decode(p)))
    }

    /// Every registered block type.
    pub fn types(&mut self) -> Result<Vec<BlockType>, NlError> {
        Ok(self
            .call(LANA_CMD_TYPES, &AttrWriter::new(), true)?
            .iter()
            .map(|p| BlockType::decode(p))
            .collect())
    }

    /// Subscribe this connection to the change events (the `config` group); read them with
    /// [`Lana::events`].
    pub fn subscribe(&mut self) -> Result<(), NlError> {
        let group = self.nl.resolve_group(LANA_GENL_NAME, LANA_MCGRP_CONFIG)?;
        self.nl.subscribe(group)
    }

    /// The next change events (waits for at least one message).
    pub fn events(&mut self) -> Result<Vec<Event>, NlError> {
        Ok(self
            .nl
            .next_events(self.family)?
            .iter()
            .map(|(cmd, p)| Event::decode(*cmd, p))
            .collect())
    }

    /// The engine's accounting.
    pub fn stats(&mut self) -> Result<Stats, NlError> {
        let r = self.call(LANA_CMD_STATS, &AttrWriter::new(), false)?;
        Ok(Stats::decode(r.first().map(Vec::as_slice).unwrap_or(&[])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_decodes_with_its_bindings_settings_and_figures() {
        let mut ingress = AttrWriter::new();
        ingress.put_str(LANA_A_NAME, "b");
        let value = |key: &str, num: Option<u64>, hex: bool, text: Option<&str>| {
            let mut v = AttrWriter::new();
            v.put_str(LANA_A_KEY, key);
            if let Some(n) = num {
                v.put(LANA_A_NUM, &n.to_ne_bytes());
            }
            if hex {
                v.put(LANA_A_HEX, &[]);
            }
            if let Some(t) = text {
                v.put_str(LANA_A_TEXT, t);
            }
            v
        };
        let mut config = AttrWriter::new();
        config
            .put_nested(LANA_A_VALUE, &value("dev", None, false, Some("v0")))
            .put_nested(LANA_A_VALUE, &value("ethertype", Some(0x88b5), true, None));
        let mut state = AttrWriter::new();
        state.put_nested(
            LANA_A_VALUE,
            &value("passed_to_stack", Some(5), false, None),
        );
        let mut a = AttrWriter::new();
        a.put_u32(LANA_A_ID, 3)
            .put_str(LANA_A_NAME, "a")
            .put_str(LANA_A_TYPE, "eth")
            .put(LANA_A_PACKETS, &7u64.to_ne_bytes());
        a.put_nested(LANA_A_INGRESS, &ingress)
            .put_nested(LANA_A_CONFIG, &config)
            .put_nested(LANA_A_STATE, &state);
        let b = Block::decode(&a.buf);
        assert_eq!((b.id, b.name.as_str(), b.kind.as_str()), (3, "a", "eth"));
        assert_eq!(b.ingress, vec!["b"]);
        assert!(b.egress.is_empty());
        assert_eq!(b.config.get("dev"), Some(&Value::Text("v0".into())));
        assert_eq!(
            b.config.get("ethertype").map(|v| v.to_string()),
            Some("0x88b5".into())
        );
        assert_eq!(b.state.get("passed_to_stack"), Some(&Value::Num(5)));
        assert_eq!(b.stats.packets, 7);
        // JSON: typed numbers, keys in the kernel's order, engine figures apart.
        let j = serde_json::to_string(&b).unwrap_or_default();
        assert!(
            j.contains(r#""config":{"dev":"v0","ethertype":34997}"#),
            "{j}"
        );
        assert!(j.contains(r#""state":{"passed_to_stack":5}"#), "{j}");
        assert!(j.contains(r#""stats":{"packets":7,"#), "{j}");
    }

    #[test]
    fn stats_balance_and_name_every_drop_reason() {
        let mut drops = AttrWriter::new();
        drops.put(2, &7u64.to_ne_bytes());
        let mut a = AttrWriter::new();
        a.put(LANA_A_ENGINE_RX, &10u64.to_ne_bytes())
            .put(LANA_A_ENGINE_TRANSMITTED, &3u64.to_ne_bytes());
        a.put_nested(LANA_A_ENGINE_DROP_REASONS, &drops);
        let s = Stats::decode(&a.buf);
        assert_eq!(s.dropped.len(), LANA_DROP_REASON_COUNT as usize);
        assert_eq!(s.dropped.get("no_next"), Some(&7));
        assert_eq!((s.ended, s.in_flight), (10, 0));
    }
}
