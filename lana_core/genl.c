// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "lana": its operations and strict attribute policies are
 * static data here; every operation lands in Rust (netlink.rs). Also the netlink helpers
 * the bindings lack (static inlines: reply headers, nests, dump headers).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/module.h>
#include <net/genetlink.h>
#include <net/sock.h>

#include "ffi.h"
#include "lana_uapi.h"

static const struct nla_policy lana_prop_policy[LANA_A_MAX + 1] = {
	[LANA_A_PROP] = { .type = NLA_NUL_STRING, .len = LANA_PROP_MAX },
};

/* typed settings (what ynl sends): a nest of values, each a key and a number or a text */
static const struct nla_policy lana_value_policy[LANA_A_MAX + 1] = {
	[LANA_A_KEY] = { .type = NLA_NUL_STRING, .len = LANA_NAME_MAX },
	[LANA_A_NUM] = { .type = NLA_U64 },
	[LANA_A_TEXT] = { .type = NLA_NUL_STRING, .len = LANA_PROP_MAX },
	[LANA_A_HEX] = { .type = NLA_FLAG },
};

static const struct nla_policy lana_values_policy[LANA_A_MAX + 1] = {
	[LANA_A_VALUE] = NLA_POLICY_NESTED(lana_value_policy),
};

static const struct nla_policy lana_policy[LANA_A_MAX + 1];

static const struct nla_policy lana_policy[LANA_A_MAX + 1] = {
	[LANA_A_NAME] = { .type = NLA_NUL_STRING, .len = LANA_NAME_MAX },
	[LANA_A_TYPE] = { .type = NLA_NUL_STRING, .len = LANA_NAME_MAX },
	[LANA_A_PEER] = { .type = NLA_NUL_STRING, .len = LANA_NAME_MAX },
	[LANA_A_PROPS] = NLA_POLICY_NESTED(lana_prop_policy),
	[LANA_A_CONFIG] = NLA_POLICY_NESTED(lana_values_policy),
	[LANA_A_FLAGS] = NLA_POLICY_MASK(NLA_U32, LANA_F_DROP_STATE),
	[LANA_A_ENGINE_MAX_HOPS] = NLA_POLICY_RANGE(NLA_U32, 1, LANA_MAX_HOPS_LIMIT),
	[LANA_A_ENGINE_RUNTIME] = NLA_POLICY_MAX(NLA_U32, 1),
	[LANA_A_EXPECT_GEN] = { .type = NLA_U32 },
	/* a transaction's change: a nest of the family's own attributes */
	[LANA_A_BATCH_CMD] = NLA_POLICY_NESTED(lana_policy),
	[LANA_A_CMD] = NLA_POLICY_RANGE(NLA_U32, LANA_CMD_ADD, LANA_CMD_FLUSH),
};

static int lana_nl_doit(struct sk_buff *skb, struct genl_info *info)
{
	return lana_rust_doit(info->genlhdr->cmd, info);
}

static int lana_nl_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	return lana_rust_dumpit(genl_dumpit_info(cb)->op.cmd, skb, cb);
}

/*
 * A change to a namespace's graph takes CAP_NET_ADMIN in the user namespace that owns the
 * network namespace (root in a container manages its own graph and nothing else); the
 * engine's settings are the machine's and take CAP_NET_ADMIN in the initial one.
 */
#define LANA_ADMIN_OP(c) { .cmd = (c), .doit = lana_nl_doit, .flags = GENL_UNS_ADMIN_PERM }

static const struct genl_ops lana_ops[] = {
	LANA_ADMIN_OP(LANA_CMD_ADD),
	LANA_ADMIN_OP(LANA_CMD_RM),
	LANA_ADMIN_OP(LANA_CMD_SET),
	LANA_ADMIN_OP(LANA_CMD_BIND),
	LANA_ADMIN_OP(LANA_CMD_UNBIND),
	LANA_ADMIN_OP(LANA_CMD_REPLACE),
	LANA_ADMIN_OP(LANA_CMD_FLUSH),
	LANA_ADMIN_OP(LANA_CMD_BATCH),
	{ .cmd = LANA_CMD_ENGINE, .doit = lana_nl_doit, .flags = GENL_ADMIN_PERM },
	/* Reading needs no privilege, as with `ip link show`. */
	{ .cmd = LANA_CMD_GET, .doit = lana_nl_doit, .dumpit = lana_nl_dumpit },
	{ .cmd = LANA_CMD_TYPES, .dumpit = lana_nl_dumpit },
	{ .cmd = LANA_CMD_STATS, .doit = lana_nl_doit },
};

/* Change events (fbctl monitor): every change, once, after it took effect. */
static const struct genl_multicast_group lana_mcgrps[] = {
	/* Changes carry what admins sent (filter programs, device names) and when: listening
	 * takes CAP_NET_ADMIN, as the changes themselves do. */
	{ .name = LANA_MCGRP_CONFIG, .flags = GENL_MCAST_CAP_NET_ADMIN, },
};

static struct genl_family lana_family __ro_after_init = {
	.name		= LANA_GENL_NAME,
	.version	= LANA_GENL_VERSION,
	.maxattr	= LANA_A_MAX,
	.policy		= lana_policy,
	/* resv_start_op = 0: strict validation for every command. */
	/* Every command acts on the caller's namespace's graph. */
	.netnsok	= true,
	/* LANA serialises its commands with its own mutex: do not hold genl_mutex (and with it
	 * every other generic netlink family) while a command runs. */
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.ops		= lana_ops,
	.n_ops		= ARRAY_SIZE(lana_ops),
	.mcgrps		= lana_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(lana_mcgrps),
};

int lana_genl_register(void)
{
	return genl_register_family(&lana_family);
}

void lana_genl_unregister(void)
{
	genl_unregister_family(&lana_family);
}

/* A formatted message: copied into the extack's own buffer (NL_SET_ERR_MSG_FMT's storage). */
void lana_extack_msg(struct netlink_ext_ack *extack, const char *msg)
{
	if (!extack)
		return;
	strscpy(extack->_msg_buf, msg, sizeof(extack->_msg_buf));
	extack->_msg = extack->_msg_buf;
}

struct sk_buff *lana_reply_new(struct genl_info *info, u8 cmd, void **hdr)
{
	struct sk_buff *msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);

	if (!msg)
		return NULL;
	*hdr = genlmsg_put_reply(msg, info, &lana_family, 0, cmd);
	if (!*hdr) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

int lana_reply_send(struct sk_buff *msg, void *hdr, struct genl_info *info)
{
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/* One message of a dump; @generation of the configuration it describes flags the message
 * NLM_F_DUMP_INTR if the dump began with another (userspace then retries). */
void *lana_dump_put(struct sk_buff *skb, struct netlink_callback *cb, u8 cmd, u32 generation)
{
	void *hdr;

	cb->seq = generation;
	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq, &lana_family,
			  NLM_F_MULTI, cmd);
	if (hdr)
		genl_dump_check_consistent(cb, hdr);
	return hdr;
}

/* The request's attributes, all of them (a transaction repeats LANA_A_BATCH_CMD). */
const void *lana_genl_attrs(struct genl_info *info, int *len)
{
	*len = genlmsg_len(info->genlhdr);
	return genlmsg_data(info->genlhdr);
}

/* One change of a transaction (validated with the request, by the policy). */
int lana_batch_parse(const struct nlattr *nla, struct nlattr **tb)
{
	return nla_parse_nested(tb, LANA_A_MAX, nla, lana_policy, NULL);
}

/* The namespace of the request's sender (genl_info_net is a static inline). */
struct net *lana_genl_info_net(struct genl_info *info)
{
	return genl_info_net(info);
}

/* The namespace of a dump's requester. */
struct net *lana_dump_net(struct netlink_callback *cb)
{
	return sock_net(cb->skb->sk);
}

struct nlattr *lana_nla_nest_start(struct sk_buff *skb, int type)
{
	return nla_nest_start(skb, type);
}

void lana_nla_nest_end(struct sk_buff *skb, struct nlattr *nest)
{
	nla_nest_end(skb, nest);
}

/* A change event of command @cmd for namespace @net's config group, with room for @size bytes of
 * attributes; NULL when nobody listens (or out of memory: listeners then learn that they
 * lost one, ENOBUFS on their sockets). */
struct sk_buff *lana_event_new(struct net *net, u8 cmd, size_t size, void **hdr)
{
	struct sk_buff *msg;

	if (!genl_has_listeners(&lana_family, net, 0))
		return NULL;
	msg = genlmsg_new(max_t(size_t, size, NLMSG_GOODSIZE), GFP_KERNEL);
	if (!msg)
		goto lost;
	*hdr = genlmsg_put(msg, 0, 0, &lana_family, 0, cmd);
	if (*hdr)
		return msg;
	nlmsg_free(msg);
lost:
	lana_event_lost(net);
	return NULL;
}

void lana_event_send(struct net *net, struct sk_buff *msg, void *hdr)
{
	genlmsg_end(msg, hdr);
	genlmsg_multicast_netns(&lana_family, net, msg, 0, 0, GFP_KERNEL);
}

/* An event could not be built: tell the listeners they missed one. */
void lana_event_lost(struct net *net)
{
	genl_set_err(&lana_family, net, 0, 0, -ENOBUFS);
}
