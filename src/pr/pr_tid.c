/* SPDX-License-Identifier: MIT */
/*
 * pr_tid: iSCSI TransportIDs (SPC-4 7.6.4.6, table 395/396/397).
 *   byte 0: FORMAT CODE (7:6) 00b = iSCSI name (initiator device),
 *           01b = iSCSI name + ",i,0x" + ISID (initiator port);
 *           PROTOCOL IDENTIFIER (3:0) = 5h (iSCSI, SPC-4 7.6.1 table 362)
 *   bytes 2-3: ADDITIONAL LENGTH, at least 20 and a multiple of 4
 *   bytes 4..: NUL-terminated UTF-8 string, NUL padded
 * Parsing is bounded by the caller's length; nothing is read past it.
 */
#include <errno.h>
#include <string.h>

#include "pr_internal.h"

#define TID_PROTO_ISCSI 0x5
#define TID_FMT_NAME 0x0
#define TID_FMT_PORT 0x1
#define TID_SEP ",i,0x"

int pr_tid_parse(const uint8_t *buf, size_t len, struct pr_itn *itn, size_t *used, size_t *bad_off)
{
	unsigned fmt, addl;
	const uint8_t *s;
	size_t slen, namelen;

	memset(itn, 0, sizeof(*itn));
	*bad_off = 0;
	/* SPC-4 7.6.4.6: the smallest iSCSI TransportID is 24 bytes. */
	if (len < 24)
		return -EINVAL;
	fmt = buf[0] >> 6;
	if ((buf[0] & 0x0f) != TID_PROTO_ISCSI || (buf[0] & 0x30))
		return -EINVAL;
	if (fmt != TID_FMT_NAME && fmt != TID_FMT_PORT)
		return -EINVAL;
	addl = get_be16(buf + 2);
	/* SPC-4 7.6.4.6: ADDITIONAL LENGTH at least 20 and a multiple of 4 */
	if (addl < 20 || addl % 4 || (size_t)addl > len - 4) {
		*bad_off = 2;
		return -EINVAL;
	}
	s = buf + 4;
	slen = strnlen((const char *)s, addl);
	if (slen == addl || slen == 0) { /* not NUL-terminated within the TransportID, or empty */
		*bad_off = 4;
		return -EINVAL;
	}
	namelen = slen;
	if (fmt == TID_FMT_PORT) {
		const uint8_t *sep = NULL;

		/* the last ",i,0x" separates the name from the 12-digit ISID */
		for (size_t i = 0; i + 5 <= slen; i++)
			if (memcmp(s + i, TID_SEP, 5) == 0)
				sep = s + i;
		if (!sep || (size_t)(s + slen - (sep + 5)) != 12 || sep == s) {
			*bad_off = 4;
			return -EINVAL;
		}
		namelen = (size_t)(sep - s);
		for (size_t i = 0; i < 6; i++) {
			int hi = util_hexval(sep[5 + 2 * i]), lo = util_hexval(sep[6 + 2 * i]);

			if (hi < 0 || lo < 0) {
				*bad_off = (size_t)(sep + 5 - buf) + 2 * i;
				return -EINVAL;
			}
			itn->isid[i] = (uint8_t)(hi << 4 | lo);
		}
		itn->has_isid = true;
	} else if (memmem(s, slen, TID_SEP, 5)) {
		/* a port name in a device-format TransportID is malformed */
		*bad_off = 0;
		return -EINVAL;
	}
	if (namelen >= PR_NAME_MAX) {
		*bad_off = 4;
		return -EINVAL;
	}
	/* RFC 7143 4.2.7.2 / RFC 3722: no spaces or control characters in an
	 * iSCSI name; the APTPL file (docs/aptpl-format.md) could not store them */
	for (size_t i = 0; i < namelen; i++)
		if (s[i] <= ' ' || s[i] == 0x7f) {
			*bad_off = 4 + i;
			return -EINVAL;
		}
	memcpy(itn->initiator, s, namelen);
	itn->initiator[namelen] = '\0';
	*used = 4 + (size_t)addl;
	return 0;
}

size_t pr_tid_len(const struct pr_itn *itn)
{
	size_t n = strlen(itn->initiator) + 1;

	if (itn->has_isid)
		n += 5 + 12;
	n = (n + 3) & ~(size_t)3;
	if (n < 20)
		n = 20;
	return 4 + n;
}

size_t pr_tid_encode(const struct pr_itn *itn, uint8_t *buf)
{
	static const char hex[] = "0123456789abcdef";
	size_t len = pr_tid_len(itn), nl = strlen(itn->initiator);
	uint8_t *p = buf + 4;

	memset(buf, 0, len);
	buf[0] = (uint8_t)((itn->has_isid ? TID_FMT_PORT : TID_FMT_NAME) << 6 | TID_PROTO_ISCSI);
	put_be16(buf + 2, (uint16_t)(len - 4));
	memcpy(p, itn->initiator, nl);
	p += nl;
	if (itn->has_isid) {
		/* Wire bytes, not a C string: the name's NUL and the padding come from the
		 * memset above (SPC-4 7.6.4.6). */
		memcpy(p, TID_SEP, 5); /* NOLINT(bugprone-not-null-terminated-result) */
		p += 5;
		for (unsigned i = 0; i < 6; i++) {
			*p++ = (uint8_t)hex[itn->isid[i] >> 4];
			*p++ = (uint8_t)hex[itn->isid[i] & 0xf];
		}
	}
	return len;
}
