/* SPDX-License-Identifier: MIT */
/* conf_names: iSCSI name and unit serial number checks, default serials. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uuid/uuid.h>

#include "conf_priv.h"

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/*
 * RFC 7143 4.2.7.1: an iSCSI name is at most 223 bytes of the RFC 3722
 * stringprep output, i.e. (for ASCII) lowercase letters, digits, '-', '.',
 * ':'. Upper case is not an error in the input an initiator types, but the
 * configured name must already be normalised, otherwise it would never match
 * what an initiator sends after stringprep. Non-ASCII names are not supported.
 */
int conf_check_iscsi_name(const char *s, const char **why)
{
	size_t len = strlen(s);

	if (len == 0) {
		*why = "empty iSCSI name";
		return -EINVAL;
	}
	if (len > CONF_ISCSI_NAME_MAX) {
		*why = "iSCSI name longer than 223 bytes (RFC 7143 4.2.7.1)";
		return -EINVAL;
	}
	if (strncmp(s, "eui.", 4) == 0) {
		/* RFC 7143 4.2.7.3: "eui." + 16 hex digits (EUI-64). */
		if (len != 20 || !all_hex(s + 4, 16)) {
			*why =
			    "eui. name must be 'eui.' followed by 16 hex digits (RFC 7143 4.2.7.3)";
			return -EINVAL;
		}
		return 0;
	}
	if (strncmp(s, "naa.", 4) == 0) {
		/* RFC 7143 4.2.7.4 / RFC 3980: 16 or 32 hex digits (64/128-bit NAA). */
		if ((len != 20 && len != 36) || !all_hex(s + 4, len - 4)) {
			*why = "naa. name must be 'naa.' followed by 16 or 32 hex digits "
			       "(RFC 7143 4.2.7.4)";
			return -EINVAL;
		}
		return 0;
	}
	if (strncmp(s, "iqn.", 4) != 0) {
		*why = "iSCSI name must start with iqn., eui. or naa. (RFC 7143 4.2.7)";
		return -EINVAL;
	}
	/* RFC 7143 4.2.7.2: iqn.yyyy-mm.reversed.domain[:anything] */
	const char *p = s + 4;

	if (len < 13 || !isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]) ||
	    !isdigit((unsigned char)p[2]) || !isdigit((unsigned char)p[3]) || p[4] != '-' ||
	    !isdigit((unsigned char)p[5]) || !isdigit((unsigned char)p[6]) || p[7] != '.' ||
	    (p[5] - '0') * 10 + (p[6] - '0') < 1 || (p[5] - '0') * 10 + (p[6] - '0') > 12 ||
	    p[8] == '\0' || p[8] == ':' || p[8] == '.') {
		*why = "iqn. name must be iqn.yyyy-mm.reversed.domain[:identifier] "
		       "(RFC 7143 4.2.7.2)";
		return -EINVAL;
	}
	for (p = s; *p; p++) {
		unsigned char ch = (unsigned char)*p;

		if (isupper(ch)) {
			*why = "iSCSI name must be lower case (RFC 3722 stringprep)";
			return -EINVAL;
		}
		if (!(islower(ch) || isdigit(ch) || ch == '-' || ch == '.' || ch == ':')) {
			*why = "iSCSI name may contain only a-z 0-9 '-' '.' ':' "
			       "(RFC 7143 4.2.7.1)";
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * SPC-4 7.8.15 (VPD 80h Unit Serial Number) allows any ASCII; we keep it to a
 * conservative set because the serial also names the LU's PR state file in the
 * state directory and is shown to administrators: 1..32 characters of
 * A-Z a-z 0-9 . _ : -, not starting with '.'.
 */
int conf_check_serial(const char *s, const char **why)
{
	size_t len = strlen(s);

	if (len == 0 || len > CONF_SERIAL_MAX) {
		*why = "serial must be 1 to 32 characters";
		return -EINVAL;
	}
	if (s[0] == '.') {
		*why = "serial must not start with '.'";
		return -EINVAL;
	}
	for (const char *p = s; *p; p++) {
		unsigned char ch = (unsigned char)*p;

		if (!(isalnum(ch) || ch == '.' || ch == '_' || ch == ':' || ch == '-')) {
			*why = "serial may contain only A-Z a-z 0-9 . _ : - (it names the PR "
			       "state file)";
			return -EINVAL;
		}
	}
	return 0;
}

/* Fixed namespace for default serials: never change it, or every LU's serial
 * (and with it the name of its APTPL file and what multipath sees) changes. */
static const uuid_t serial_ns = {0x7a, 0x4f, 0x1c, 0x52, 0x9e, 0x0b, 0x4d, 0x61,
				 0xb3, 0x28, 0x5d, 0x8e, 0x21, 0xc4, 0x6a, 0x90};

char *conf_default_serial(const char *target, uint64_t lun)
{
	char name[CONF_ISCSI_NAME_MAX + 32];
	char text[40];
	uuid_t u;
	int n = snprintf(name, sizeof(name), "%s/%llu", target, (unsigned long long)lun);
	char *out;

	if (n < 0 || (size_t)n >= sizeof(name))
		return NULL;
	uuid_generate_sha1(u, serial_ns, name, (size_t)n);
	uuid_unparse_lower(u, text);
	out = malloc(33);
	if (!out)
		return NULL;
	n = 0;
	for (const char *p = text; *p; p++)
		if (*p != '-')
			out[n++] = *p;
	out[n] = '\0';
	return out;
}
