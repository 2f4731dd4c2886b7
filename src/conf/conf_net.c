/* SPDX-License-Identifier: MIT */
/* allow_net = NETWORK in [target IQN] (issue 6): source networks an initiator
 * must connect from, "10.0.0.0/8", "fd00::/8" or a bare address. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conf_priv.h"
#include "targetd/util.h"

static int check_net(const char *s)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned char a[16];
	unsigned long pfx, max;

	if (util_strlcpy(buf, s, sizeof(buf)) >= sizeof(buf))
		return -EINVAL;
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, a) == 1)
		max = 32;
	else if (inet_pton(AF_INET6, buf, a) == 1)
		max = 128;
	else
		return -EINVAL;
	if (!slash)
		return 0;
	if (*slash < '0' || *slash > '9')
		return -EINVAL;
	pfx = strtoul(slash, &end, 10);
	return *end || pfx > max ? -EINVAL : 0;
}

void conf_k_allow_net(struct conf_state *st, const char *key, const char *val)
{
	struct conf_target *t = &st->c->targets[st->idx];
	char **v;

	(void)key;
	if (check_net(val)) {
		conf_problem(st, st->line, false,
			     "allow_net = %s: expected an IPv4 or IPv6 network like 10.0.0.0/8 or "
			     "fd00::/8 (or one address)",
			     val);
		return;
	}
	for (size_t i = 0; i < t->n_allow_net; i++) {
		if (!strcmp(t->allow_net[i], val)) {
			conf_problem(st, st->line, false, "allow_net = %s listed twice", val);
			return;
		}
	}
	v = realloc(t->allow_net, (t->n_allow_net + 1) * sizeof(*v));
	if (!v || !(v[t->n_allow_net] = strdup(val))) {
		if (v)
			t->allow_net = v;
		conf_problem(st, st->line, false, "out of memory");
		return;
	}
	t->allow_net = v;
	t->n_allow_net++;
}
