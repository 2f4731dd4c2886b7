/* SPDX-License-Identifier: MIT */
/*
 * Source-network ACLs per target (allow_net = 10.0.0.0/8): a login to the
 * target, and its SendTargets entry, only for initiators connecting from one
 * of the networks. Checked together with the initiator-name ACL (both must
 * allow). IPv4-mapped IPv6 peers (a [::] listener) match IPv4 networks.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "iscsi_conn.h"
#include "iscsi_netacl.h"
#include "targetd/util.h"

struct iscsi_netacl {
	struct iscsi_netacl *next;
	char *target;
	struct iscsi_net *nets;
	size_t n;
};

int iscsi_net_parse(const char *s, struct iscsi_net *out)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long pfx;
	unsigned max;

	if (util_strlcpy(buf, s, sizeof(buf)) >= sizeof(buf))
		return -EINVAL;
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return -EINVAL;
	}
	pfx = max;
	if (slash) {
		if (!*slash || *slash == '-' || *slash == '+')
			return -EINVAL;
		pfx = strtoul(slash, &end, 10);
		if (*end || pfx > max)
			return -EINVAL;
	}
	out->prefix = (unsigned)pfx;
	return 0;
}

static bool net_match(const struct iscsi_net *n, int family, const uint8_t *addr)
{
	unsigned full = n->prefix / 8, rest = n->prefix % 8;

	if (n->family != family)
		return false;
	if (memcmp(n->addr, addr, full))
		return false;
	if (rest && ((n->addr[full] ^ addr[full]) & (uint8_t)(0xff << (8 - rest))))
		return false;
	return true;
}

bool iscsi_net_list_match(const struct iscsi_net *nets, size_t n, const struct sockaddr *sa)
{
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	uint8_t a[16];
	int family;

	if (sa->sa_family == AF_INET) {
		family = AF_INET;
		memcpy(a, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const uint8_t *p = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;

		if (!memcmp(p, v4mapped, 12)) {
			family = AF_INET;
			memcpy(a, p + 12, 4);
		} else {
			family = AF_INET6;
			memcpy(a, p, 16);
		}
	} else {
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if (net_match(&nets[i], family, a))
			return true;
	return false;
}

static void acl_free(struct iscsi_netacl *a)
{
	free(a->target);
	free(a->nets);
	free(a);
}

int iscsi_server_set_allow_net(struct iscsi_server *srv, const char *target_name,
			       const char *const *nets, size_t n)
{
	struct iscsi_netacl **pp, *a = NULL;

	if (n) {
		a = calloc(1, sizeof(*a));
		if (!a || !(a->target = strdup(target_name)) ||
		    !(a->nets = calloc(n, sizeof(*a->nets)))) {
			if (a)
				acl_free(a);
			return -ENOMEM;
		}
		a->n = n;
		for (size_t i = 0; i < n; i++) {
			if (iscsi_net_parse(nets[i], &a->nets[i])) {
				acl_free(a);
				return -EINVAL;
			}
		}
	}
	/* replaced in one step: never a moment without the restriction */
	for (pp = &srv->netacls; *pp; pp = &(*pp)->next) {
		if (!strcmp((*pp)->target, target_name)) {
			struct iscsi_netacl *old = *pp;

			if (a) {
				a->next = old->next;
				*pp = a;
			} else {
				*pp = old->next;
			}
			acl_free(old);
			return 0;
		}
	}
	if (a) {
		a->next = srv->netacls;
		srv->netacls = a;
	}
	return 0;
}

void iscsi_netacl_free_all(struct iscsi_server *srv)
{
	while (srv->netacls) {
		struct iscsi_netacl *a = srv->netacls;

		srv->netacls = a->next;
		acl_free(a);
	}
}

bool iscsi_netacl_allows(const struct iscsi_conn *c, const char *target_name)
{
	struct sockaddr_storage ss = {0}; /* the analyzer cannot see getpeername() fill it */
	socklen_t sl = sizeof(ss);

	for (const struct iscsi_netacl *a = c->srv->netacls; a; a = a->next) {
		if (strcmp(a->target, target_name))
			continue;
		if (getpeername(c->fd, (struct sockaddr *)&ss, &sl))
			return false; /* unknown source: refuse */
		return iscsi_net_list_match(a->nets, a->n, (const struct sockaddr *)&ss);
	}
	return true; /* no allow_net for this target */
}
