/* SPDX-License-Identifier: MIT */
/* Source-network ACLs per target (iscsi_netacl.c). */
#ifndef ISCSI_NETACL_H
#define ISCSI_NETACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct iscsi_conn;
struct iscsi_server;

struct iscsi_net {
	int family; /* AF_INET / AF_INET6 */
	uint8_t addr[16];
	unsigned prefix;
};

/* "10.0.0.0/8", "fd00::/8", or a bare address (/32, /128). 0 or -EINVAL. */
int iscsi_net_parse(const char *s, struct iscsi_net *out);
bool iscsi_net_list_match(const struct iscsi_net *nets, size_t n, const struct sockaddr *sa);
/* May the peer of c reach target_name (true when it has no allow_net)? */
bool iscsi_netacl_allows(const struct iscsi_conn *c, const char *target_name);
void iscsi_netacl_free_all(struct iscsi_server *srv);

#endif
