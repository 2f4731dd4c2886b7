/* SPDX-License-Identifier: MIT */
/* conf_values: scalar value parsers (numbers, sizes, durations, addresses). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf_priv.h"
#include "targetd/util.h"

int conf_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

int conf_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;
	int r = parse_u64(s, &v);

	if (r)
		return r;
	if (v < min || v > max)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

int conf_parse_bytes(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;
	int r = util_parse_size(s, &v);

	if (r)
		return r;
	if (v < min || v > max)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

int conf_parse_duration_ms(const char *s, uint32_t min_ms, uint32_t max_ms, uint32_t *out)
{
	char num[32];
	const char *unit;
	uint64_t v, mul;
	size_t n = 0;

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	if (n == 0 || n >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, n);
	num[n] = '\0';
	unit = s + n;
	if (*unit == '\0' || strcmp(unit, "s") == 0)
		mul = 1000;
	else if (strcmp(unit, "ms") == 0)
		mul = 1;
	else if (strcmp(unit, "m") == 0 || strcmp(unit, "min") == 0)
		mul = 60000;
	else
		return -EINVAL;
	if (parse_u64(num, &v))
		return -ERANGE;
	if (v > UINT32_MAX / mul)
		return -ERANGE;
	v *= mul;
	if (v < min_ms || v > max_ms)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

int conf_parse_log_level(const char *s, int *out)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {
	    {"err", UTIL_LOG_ERR},      {"error", UTIL_LOG_ERR},     {"warn", UTIL_LOG_WARN},
	    {"warning", UTIL_LOG_WARN}, {"notice", UTIL_LOG_NOTICE}, {"info", UTIL_LOG_INFO},
	    {"debug", UTIL_LOG_DEBUG},
	};

	for (size_t i = 0; i < ARRAY_SIZE(levels); i++) {
		if (strcasecmp(s, levels[i].name) == 0) {
			*out = levels[i].level;
			return 0;
		}
	}
	return -EINVAL;
}

int conf_parse_hostport(const char *s, char **host, uint16_t *port, bool *has_port,
			const char **why)
{
	const char *h = s, *hend, *colon = NULL;
	struct in6_addr a6;
	char *hs;

	*has_port = false;
	if (*s == '[') {
		hend = strchr(s, ']');
		if (!hend) {
			*why = "missing ']' after IPv6 address";
			return -EINVAL;
		}
		h = s + 1;
		if (hend[1] == ':')
			colon = hend + 1;
		else if (hend[1] != '\0') {
			*why = "expected ':PORT' after ']'";
			return -EINVAL;
		}
	} else {
		colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':')) {
			*why = "IPv6 addresses need brackets: [ADDR]:PORT";
			return -EINVAL;
		}
		hend = colon ? colon : s + strlen(s);
	}
	if (hend == h) {
		*why = "empty host";
		return -EINVAL;
	}
	if (colon) {
		uint32_t p;

		if (conf_parse_u32(colon + 1, 0, 65535, &p)) {
			*why = "port must be a number from 0 to 65535";
			return -EINVAL;
		}
		*port = (uint16_t)p;
		*has_port = true;
	}
	hs = strndup(h, (size_t)(hend - h));
	if (!hs) {
		*why = "out of memory";
		return -ENOMEM;
	}
	if (*s == '[' && inet_pton(AF_INET6, hs, &a6) != 1) {
		free(hs);
		*why = "not an IPv6 address inside [ ]";
		return -EINVAL;
	}
	for (const char *p = hs; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '/' || *p == ',') {
			free(hs);
			*why = "invalid character in host";
			return -EINVAL;
		}
	}
	*host = hs;
	return 0;
}

char *conf_format_hostport(const char *host, uint16_t port)
{
	char *out = NULL;
	int r;

	if (strchr(host, ':'))
		r = asprintf(&out, "[%s]:%u", host, port);
	else
		r = asprintf(&out, "%s:%u", host, port);
	return r < 0 ? NULL : out;
}

int conf_add_portal(struct conf *c, const char *host, uint16_t port, uint16_t tpgt,
		    const char *advertise, int line)
{
	struct conf_portal *v = realloc(c->portals, (c->n_portals + 1) * sizeof(*v));
	struct conf_portal *p;

	if (!v)
		return -ENOMEM;
	c->portals = v;
	p = &v[c->n_portals];
	memset(p, 0, sizeof(*p));
	p->host = strdup(host);
	p->advertise = advertise ? strdup(advertise) : NULL;
	if (!p->host || (advertise && !p->advertise)) {
		free(p->host);
		free(p->advertise);
		return -ENOMEM;
	}
	p->port = port;
	p->tpgt = tpgt;
	p->line = line;
	c->n_portals++;
	return 0;
}
