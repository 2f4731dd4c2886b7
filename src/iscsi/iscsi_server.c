/* SPDX-License-Identifier: MIT */
/* Portals (listeners), accept, graceful shutdown, session listing. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "iscsi_chap.h"
#include "iscsi_conn.h"
#include "iscsi_netacl.h"
#include "targetd/util.h"

static struct util_ratelimit accept_rl = UTIL_RATELIMIT_INIT(5000, 5);

int iscsi_server_create(struct evl *evl, struct scsi_core *core, const struct iscsi_settings *s,
			struct iscsi_server **out)
{
	struct iscsi_server *srv = calloc(1, sizeof(*srv));

	if (!srv)
		return -ENOMEM;
	srv->evl = evl;
	srv->core = core;
	srv->s = *s;
	iscsi_settings_numeric_defaults(&srv->s);
	srv->next_tsih = (uint16_t)(util_now_ns() & 0xffff);
	srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	*out = srv;
	return 0;
}

void iscsi_peer_ip(const struct sockaddr_storage *ss, struct in6_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (ss->ss_family == AF_INET6) {
		*out = ((const struct sockaddr_in6 *)ss)->sin6_addr;
	} else if (ss->ss_family == AF_INET) {
		out->s6_addr[10] = out->s6_addr[11] = 0xff; /* ::ffff:a.b.c.d */
		memcpy(&out->s6_addr[12], &((const struct sockaddr_in *)ss)->sin_addr, 4);
	}
}

/* Live connections from ip (issue 9: max_connections_per_address). Dead ones
 * waiting for their tasks have no socket any more and do not count. */
static unsigned conns_from(const struct iscsi_server *srv, const struct in6_addr *ip)
{
	unsigned n = 0;

	for (const struct iscsi_conn *c = srv->conns; c; c = c->next)
		n += c->state != CONN_DEAD && !memcmp(&c->peer_ip, ip, sizeof(*ip));
	return n;
}

/* accept(2) failed with EMFILE/ENFILE: the connection stays queued and the
 * level-triggered listener is reported readable again at once, so the loop
 * would spin and the initiator hang until its own timeout. Give up the spare
 * descriptor for one accept, refuse that connection (close: the initiator sees
 * a reset at once and retries later), and take the spare back. Returns true
 * if a connection was refused (try the next one), false if the queue is empty
 * or no spare was left (then the loop may spin until a descriptor frees up). */
static bool refuse_one(struct iscsi_server *srv, const struct iscsi_portal *p, int lfd)
{
	int e = errno, cfd;

	if (util_ratelimit_ok(&accept_rl))
		log_warn("iscsi",
			 "portal %s:%u: out of file descriptors (%s): refusing new connections; "
			 "raise LimitNOFILE or lower max_connections (2 descriptors each)",
			 p->host, p->port, strerror(e));
	if (srv->spare_fd < 0)
		return false;
	close(srv->spare_fd);
	/* cppcheck-suppress nullPointer ; accept4(2) takes NULL addr and addrlen */
	cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (cfd >= 0)
		close(cfd);
	srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return cfd >= 0;
}

static void portal_accept(struct evl *evl, int fd, uint32_t events, void *arg)
{
	struct iscsi_portal *p = arg;
	struct iscsi_server *srv = p->srv;

	(void)evl;
	(void)events;
	for (;;) {
		struct sockaddr_storage ss = {0};
		socklen_t sl = sizeof(ss);
		int cfd = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		uint32_t per_addr = srv->s.max_connections_per_address;
		struct in6_addr ip;
		int r;

		if (cfd < 0) {
			if (errno == EINTR)
				continue;
			if ((errno == EMFILE || errno == ENFILE) && refuse_one(srv, p, fd))
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    util_ratelimit_ok(&accept_rl))
				log_warn("iscsi", "portal %s:%u: accept: %s", p->host, p->port,
					 strerror(errno));
			return;
		}
		if (srv->shutting_down || srv->n_conns >= srv->s.max_connections) {
			if (util_ratelimit_ok(&accept_rl))
				log_warn("iscsi", "portal %s:%u: connection refused (%s)", p->host,
					 p->port,
					 srv->shutting_down ? "shutting down"
							    : "max_connections reached");
			close(cfd);
			continue;
		}
		iscsi_peer_ip(&ss, &ip);
		if (per_addr != ISCSI_LIMIT_OFF && conns_from(srv, &ip) >= per_addr) {
			/* one address cannot take every slot (issue 9) */
			if (util_ratelimit_ok(&accept_rl)) {
				char a[INET6_ADDRSTRLEN] = "?";

				if (IN6_IS_ADDR_V4MAPPED(&ip))
					inet_ntop(AF_INET, &ip.s6_addr[12], a, sizeof(a));
				else
					inet_ntop(AF_INET6, &ip, a, sizeof(a));
				log_warn("iscsi",
					 "portal %s:%u: connection from %s refused "
					 "(max_connections_per_address %u reached)",
					 p->host, p->port, a, per_addr);
			}
			close(cfd);
			continue;
		}
		r = iscsi_conn_create(srv, p, cfd);
		if (r) {
			log_warn("iscsi", "portal %s:%u: connection setup: %s", p->host, p->port,
				 strerror(-r));
			close(cfd);
		}
	}
}

int iscsi_portal_add(struct iscsi_server *srv, const char *host, uint16_t port, uint16_t tpgt,
		     const char *advertise)
{
	struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
				 .ai_socktype = SOCK_STREAM};
	struct addrinfo *ai = NULL;
	struct iscsi_portal *p, **arr;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char portstr[8];
	int fd, r, one = 1;

	snprintf(portstr, sizeof(portstr), "%u", port);
	r = getaddrinfo(host && *host ? host : NULL, portstr, &hints, &ai);
	if (r) {
		log_err("iscsi", "portal %s:%u: %s", host, port, gai_strerror(r));
		return -EINVAL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		log_err("iscsi", "portal %s:%u: socket: %s", host, port, strerror(-r));
		freeaddrinfo(ai);
		return r;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6) /* v4 and v6 portals bind separately */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 128) ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl)) {
		r = -errno;
		log_err("iscsi", "portal %s:%u: %s", host, port, strerror(-r));
		freeaddrinfo(ai);
		close(fd);
		return r;
	}
	p = calloc(1, sizeof(*p));
	arr = realloc(srv->portals, (srv->n_portals + 1) * sizeof(struct iscsi_portal *));
	if (!p || !arr) {
		free(p);
		if (arr)
			srv->portals = arr;
		freeaddrinfo(ai);
		close(fd);
		return -ENOMEM;
	}
	srv->portals = arr;
	p->srv = srv;
	p->fd = fd;
	p->tpgt = tpgt;
	/* getsockname() above filled ss (the analyzer does not model it) */
	/* NOLINTBEGIN(clang-analyzer-core.UndefinedBinaryOperatorResult) */
	p->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						 : ((struct sockaddr_in *)&ss)->sin_port);
	/* NOLINTEND(clang-analyzer-core.UndefinedBinaryOperatorResult) */
	if (ss.ss_family == AF_INET6) {
		struct in6_addr any = IN6ADDR_ANY_INIT;

		p->wildcard = !memcmp(&((struct sockaddr_in6 *)&ss)->sin6_addr, &any, sizeof(any));
	} else {
		p->wildcard = ((struct sockaddr_in *)&ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	}
	getnameinfo((struct sockaddr *)&ss, sl, p->host, sizeof(p->host), NULL, 0, NI_NUMERICHOST);
	p->advertise = advertise ? strdup(advertise) : NULL;
	freeaddrinfo(ai);
	r = evl_fd_add(srv->evl, fd, EPOLLIN, portal_accept, p);
	if (r) {
		log_err("iscsi", "portal %s:%u: %s", host, port, strerror(-r));
		close(fd);
		free(p->advertise);
		free(p);
		return r;
	}
	srv->portals[srv->n_portals++] = p;
	log_info("iscsi", "listening on %s:%u, portal group %u", p->host, p->port, tpgt);
	return 0;
}

uint16_t iscsi_portal_port(const struct iscsi_server *srv, unsigned idx)
{
	return idx < srv->n_portals ? srv->portals[idx]->port : 0;
}

static void close_listeners(struct iscsi_server *srv)
{
	for (unsigned i = 0; i < srv->n_portals; i++) {
		struct iscsi_portal *p = srv->portals[i];

		if (p->fd >= 0) {
			evl_fd_del(srv->evl, p->fd);
			close(p->fd);
			p->fd = -1;
		}
	}
}

static void shutdown_finish(void *arg)
{
	struct iscsi_server *srv = arg;
	void (*done)(void *) = srv->shutdown_done;

	if (srv->n_conns || !done)
		return;
	srv->shutdown_done = NULL;
	if (srv->shutdown_timer) {
		evl_timer_destroy(srv->shutdown_timer);
		srv->shutdown_timer = NULL;
	}
	done(srv->shutdown_arg);
}

static void shutdown_timeout(void *arg)
{
	struct iscsi_server *srv = arg;
	struct iscsi_conn *c, *next;

	/* time is up: drop every connection; tasks inside scsi finish (or are
	 * aborted by the nexus loss) before the connections are freed */
	for (c = srv->conns; c; c = next) {
		next = c->next;
		iscsi_conn_close(c, "shutdown timeout");
	}
}

void iscsi_server_shutdown(struct iscsi_server *srv, uint32_t timeout_ms, void (*done)(void *arg),
			   void *arg)
{
	struct iscsi_conn *c, *next;

	srv->shutting_down = true;
	srv->shutdown_done = done;
	srv->shutdown_arg = arg;
	evl_defer_init(&srv->shutdown_defer, shutdown_finish, srv);
	close_listeners(srv);
	for (c = srv->conns; c; c = next) {
		next = c->next;
		if (c->state != CONN_FFP)
			iscsi_conn_close(c, "shutdown");
		else if (c->n_submitted == 0 && c->n_tmf == 0)
			iscsi_conn_finish(c);
		/* else: finished from iscsi_conn_cmd_gone when the last
		 * in-flight command completes */
	}
	if (timeout_ms && srv->n_conns &&
	    !evl_timer_create(srv->evl, shutdown_timeout, srv, &srv->shutdown_timer))
		evl_timer_arm(srv->shutdown_timer, timeout_ms, 0);
	evl_defer_schedule(srv->evl, &srv->shutdown_defer);
}

void iscsi_server_destroy(struct iscsi_server *srv)
{
	if (!srv)
		return;
	close_listeners(srv);
	for (struct iscsi_conn *c = srv->conns, *next; c; c = next) {
		next = c->next;
		iscsi_conn_close(c, "server destroyed");
		iscsi_conn_reap(c);
	}
	if (srv->shutdown_timer)
		evl_timer_destroy(srv->shutdown_timer);
	if (srv->shutting_down)
		evl_defer_cancel(srv->evl, &srv->shutdown_defer);
	for (unsigned i = 0; i < srv->n_portals; i++) {
		free(srv->portals[i]->advertise);
		free(srv->portals[i]);
	}
	free(srv->portals);
	if (srv->spare_fd >= 0)
		close(srv->spare_fd);
	srv->spare_fd = -1;
	iscsi_chap_store_free(srv);
	iscsi_netacl_free_all(srv);
	/* connections still waiting for scsi tasks are freed by their defer;
	 * the daemon destroys the server only after shutdown's done */
	if (!srv->conns)
		free(srv);
}

void iscsi_sessions_foreach(struct iscsi_server *srv,
			    void (*fn)(const struct iscsi_session_info *info, void *arg), void *arg)
{
	for (struct iscsi_conn *c = srv->conns; c; c = c->next) {
		struct iscsi_session_info info;

		if (c->state != CONN_FFP || !c->sess)
			continue;
		iscsi_conn_session_info(c, &info);
		fn(&info, arg);
	}
}
