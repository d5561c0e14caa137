// SPDX-License-Identifier: GPL-2.0
/*
 * The LANA socket family (AF_LANA): socket(AF_LANA, SOCK_RAW, 0), bind to a `socket` block
 * by name, send hands a message to the graph in the egress direction, recv returns what the
 * graph delivered to the block. The block side (which socket a block feeds, sending into
 * the engine) is Rust: lana_core/socket.rs. This file is the socket layer glue.
 *
 * Lifetimes: a socket and its block share a Rust "link" object (reference counted). The block
 * delivers under RCU to the socket the link names; release clears the link first, and
 * sockets are freed after an RCU grace period (SOCK_RCU_FREE), so a delivery that raced with
 * close queues to a socket whose queue is purged when it is finally destroyed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/module.h>
#include <linux/net.h>
#include <linux/skbuff.h>
#include <linux/socket.h>
#include <net/sock.h>

#include "ffi.h"
#include "lana_uapi.h"

/* Room for the link-layer header an eth block pushes in front of a message. */
#define LANA_SOCK_HEADROOM 64

/* Userspace's bind address (see uapi/lana_uapi.rs). */
struct sockaddr_lana {
	__kernel_sa_family_t slana_family;
	char slana_name[LANA_NAME_MAX + 1];
};

static int sock_family = LANA_AF_DEFAULT;
module_param(sock_family, int, 0444);
MODULE_PARM_DESC(sock_family, "address family number of AF_LANA (default 19, a retired one)");

struct lana_sock {
	struct sock sk;		/* first: sk_alloc allocates the whole object */
	void *link;		/* Rust SockLink (an Arc), NULL while unbound; under lock_sock */
};

static inline struct lana_sock *lana_sk(struct sock *sk)
{
	return container_of(sk, struct lana_sock, sk);
}

static struct proto lana_proto = {
	.name		= "LANA",
	.owner		= THIS_MODULE,
	.obj_size	= sizeof(struct lana_sock),
};

static void lana_sock_destruct(struct sock *sk)
{
	skb_queue_purge(&sk->sk_receive_queue);
}

static int lana_sock_release(struct socket *sock)
{
	struct sock *sk = sock->sk;
	void *link;

	if (!sk)
		return 0;
	lock_sock(sk);
	link = lana_sk(sk)->link;
	lana_sk(sk)->link = NULL;
	release_sock(sk);
	if (link)
		lana_rust_sock_unbind(link);	/* the block stops delivering here */
	sock_orphan(sk);
	sock->sk = NULL;
	sock_put(sk);			/* freed after a grace period (SOCK_RCU_FREE) */
	return 0;
}

static int lana_sock_bind(struct socket *sock, struct sockaddr_unsized *uaddr, int len)
{
	struct sockaddr_lana *addr = (struct sockaddr_lana *)uaddr;
	struct sock *sk = sock->sk;
	char name[LANA_NAME_MAX + 1];
	void *link = NULL;
	int err;

	if (len < (int)sizeof(*addr) || addr->slana_family != sock_family)
		return -EINVAL;
	if (strnlen(addr->slana_name, sizeof(addr->slana_name)) >= sizeof(addr->slana_name))
		return -ENAMETOOLONG;
	strscpy(name, addr->slana_name, sizeof(name));
	lock_sock(sk);
	if (lana_sk(sk)->link) {
		err = -EINVAL;		/* bound already, as for other families */
		goto out;
	}
	err = lana_rust_sock_bind(sk, sock_net(sk), name, &link);
	if (!err)
		lana_sk(sk)->link = link;
out:
	release_sock(sk);
	return err;
}

static int lana_sock_sendmsg(struct socket *sock, struct msghdr *msg, size_t len)
{
	struct sock *sk = sock->sk;
	struct sk_buff *skb;
	void *link;
	int err;

	if (msg->msg_name || (msg->msg_flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL)))
		return -EOPNOTSUPP;
	if (len > LANA_SOCK_MAX_MSG)
		return -EMSGSIZE;
	lock_sock(sk);
	link = lana_sk(sk)->link;
	if (!link) {
		err = -EDESTADDRREQ;	/* not bound to a socket block */
		goto out;
	}
	skb = sock_alloc_send_skb(sk, len + LANA_SOCK_HEADROOM, msg->msg_flags & MSG_DONTWAIT, &err);
	if (!skb)
		goto out;
	skb_reserve(skb, LANA_SOCK_HEADROOM);
	err = memcpy_from_msg(skb_put(skb, len), msg, len);
	if (err) {
		kfree_skb(skb);
		goto out;
	}
	/* Rust runs the engine (bottom halves off) and consumes the skb. */
	err = lana_rust_sock_send(link, skb);
out:
	release_sock(sk);
	return err ? err : len;
}

static int lana_sock_recvmsg(struct socket *sock, struct msghdr *msg, size_t len, int flags)
{
	struct sock *sk = sock->sk;
	struct sk_buff *skb;
	size_t copied;
	int err;

	if (flags & ~(MSG_DONTWAIT | MSG_TRUNC | MSG_PEEK | MSG_CMSG_COMPAT))
		return -EOPNOTSUPP;
	skb = skb_recv_datagram(sk, flags, &err);
	if (!skb)
		return err;
	copied = min_t(size_t, len, skb->len);
	if (copied < skb->len)
		msg->msg_flags |= MSG_TRUNC;
	err = skb_copy_datagram_msg(skb, 0, msg, copied);
	if (!err)
		err = (flags & MSG_TRUNC) ? skb->len : copied;
	skb_free_datagram(sk, skb);
	return err;
}

static const struct proto_ops lana_sock_ops = {
	.family		= PF_UNSPEC,	/* set at registration */
	.owner		= THIS_MODULE,
	.release	= lana_sock_release,
	.bind		= lana_sock_bind,
	.connect	= sock_no_connect,
	.socketpair	= sock_no_socketpair,
	.accept		= sock_no_accept,
	.getname	= sock_no_getname,
	.poll		= datagram_poll,
	.ioctl		= sock_no_ioctl,
	.listen		= sock_no_listen,
	.shutdown	= sock_no_shutdown,
	.sendmsg	= lana_sock_sendmsg,
	.recvmsg	= lana_sock_recvmsg,
	.mmap		= sock_no_mmap,
};

static struct proto_ops lana_sock_ops_rw __ro_after_init;

static int lana_sock_create(struct net *net, struct socket *sock, int protocol, int kern)
{
	struct sock *sk;

	/* Raw link traffic, as AF_PACKET: CAP_NET_RAW in the namespace's owning user namespace. */
	if (!ns_capable(net->user_ns, CAP_NET_RAW))
		return -EPERM;
	if (sock->type != SOCK_RAW)
		return -ESOCKTNOSUPPORT;
	if (protocol)
		return -EPROTONOSUPPORT;
	sk = sk_alloc(net, sock_family, GFP_KERNEL, &lana_proto, kern);
	if (!sk)
		return -ENOMEM;
	sock_init_data(sock, sk);
	sock_set_flag(sk, SOCK_RCU_FREE);
	sk->sk_destruct = lana_sock_destruct;
	sk->sk_family = sock_family;
	lana_sk(sk)->link = NULL;
	sock->ops = &lana_sock_ops_rw;
	sock->state = SS_UNCONNECTED;
	return 0;
}

static struct net_proto_family lana_family_ops __ro_after_init = {
	.create	= lana_sock_create,
	.owner	= THIS_MODULE,
};

int lana_sock_register(void)
{
	int err;

	if (sock_family <= 0 || sock_family >= NPROTO) {
		pr_err("sock_family=%d is not an address family number (1..%d)\n", sock_family, NPROTO - 1);
		return -EINVAL;
	}
	err = proto_register(&lana_proto, 0);
	if (err)
		return err;
	lana_sock_ops_rw = lana_sock_ops;
	lana_sock_ops_rw.family = sock_family;
	lana_family_ops.family = sock_family;
	err = sock_register(&lana_family_ops);
	if (err) {
		pr_err("address family %d is taken: load with sock_family=<a free number>\n", sock_family);
		proto_unregister(&lana_proto);
	}
	return err;
}

void lana_sock_unregister(void)
{
	sock_unregister(sock_family);
	proto_unregister(&lana_proto);
}

int lana_sock_family(void)
{
	return sock_family;
}

/*
 * Block side, softirq under RCU: queue @skb to @sk. LANA_SOCK_QUEUED: the socket owns it
 * now; otherwise the caller still owns (and drops) it: LANA_SOCK_FULL, the receive queue is
 * full; LANA_SOCK_NOMEM, the frame came from memory reserves (pfmemalloc) or trimming it
 * failed; LANA_SOCK_FILTERED, the socket's own filter (SO_ATTACH_FILTER) or a security
 * module refused it.
 */
int lana_sock_deliver(struct sock *sk, struct sk_buff *skb)
{
	enum skb_drop_reason reason;

	/* Applications get the payload: drop the link-layer header an eth block left on. */
	if (skb_mac_header_was_set(skb) && skb->data == skb_mac_header(skb) &&
	    pskb_may_pull(skb, ETH_HLEN))
		skb_pull(skb, ETH_HLEN);
	skb_orphan(skb);
	reason = sock_queue_rcv_skb_reason(sk, skb);
	if (reason == SKB_NOT_DROPPED_YET)
		return LANA_SOCK_QUEUED;
	if (reason == SKB_DROP_REASON_SOCKET_RCVBUFF || reason == SKB_DROP_REASON_PROTO_MEM)
		return LANA_SOCK_FULL;
	if (reason == SKB_DROP_REASON_PFMEMALLOC || reason == SKB_DROP_REASON_NOMEM)
		return LANA_SOCK_NOMEM;
	return LANA_SOCK_FILTERED;
}
