/* SPDX-License-Identifier: MIT */
/* util_misc: size parsing, strlcpy, CRC32C. */
#include <errno.h>
#include <string.h>

#include <isa-l/crc.h>

#include "targetd/util.h"

int util_parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	unsigned shift = 0;
	const char *p = s;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	switch (*p) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 't':
	case 'T':
		shift = 40;
		break;
	case 'p':
	case 'P':
		shift = 50;
		break;
	default:
		return -EINVAL;
	}
	if (shift) {
		p++;
		/* Accept "64M", "64MiB" and "64MB" (all binary units). */
		if (strcmp(p, "iB") == 0 || strcmp(p, "B") == 0)
			p += strlen(p);
		if (*p)
			return -EINVAL;
		if (v > (UINT64_MAX >> shift))
			return -ERANGE;
		v <<= shift;
	}
	*out = v;
	return 0;
}

size_t util_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

/*
 * CRC32C as RFC 7143 12.1 / RFC 3720 B.4 define it: initial value all ones,
 * final complement, reflected. crc is the value a previous call returned (0 to
 * start), so digests can be computed over scattered buffers. The result is
 * placed on the wire least significant byte first (B.4: 32 bytes of zeros ->
 * bytes aa 36 91 8a, i.e. 0x8a9136aa here). ISA-L's crc32_iscsi neither
 * pre- nor post-inverts, so both complements happen here.
 */
uint32_t util_crc32c(uint32_t crc, const void *buf, size_t len)
{
	uint32_t c = ~crc;
	const unsigned char *p = buf;

	while (len) {
		int chunk = len > (1u << 30) ? (1 << 30) : (int)len;

		c = crc32_iscsi((unsigned char *)p, chunk, c);
		p += chunk;
		len -= (size_t)chunk;
	}
	return ~c;
}
