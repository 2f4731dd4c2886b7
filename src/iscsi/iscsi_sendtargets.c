/* SPDX-License-Identifier: MIT */
/* SendTargets text building (RFC 7143 13.8, 13.9 and appendix C). Pure. */
#include <stdio.h>
#include <string.h>

#include "iscsi_conn.h"

void iscsi_format_addr(char *buf, size_t cap, const char *host, uint16_t port)
{
	/* 13.8: "domainname / IPv4 / [IPv6]" then ":port" */
	if (strchr(host, ':'))
		snprintf(buf, cap, "[%s]:%u", host, port);
	else
		snprintf(buf, cap, "%s:%u", host, port);
}

void iscsi_sendtargets_addr(struct iscsi_textbuf *tb, const char *hostport, uint16_t tpgt)
{
	/* 13.8: TargetAddress=domainname[:port][,portal-group-tag] */
	iscsi_textbuf_add(tb, "TargetAddress", "%s,%u", hostport, tpgt);
}
