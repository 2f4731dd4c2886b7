/* SPDX-License-Identifier: MIT */
/*
 * daemon_ctl: the control socket targetctl(8) talks to. A Unix stream socket
 * (mode 0600: root only by default); each client sends one command line,
 * "[json ]COMMAND [ARG...]\n", and gets "ok\n" or "error\n" followed by the
 * answer, then the daemon closes the connection. The commands are in
 * daemon_ctl_cmds.c.
 * Everything runs on the loop; a client is a small read-then-write state
 * machine on a non-blocking fd, so a stuck client cannot stall the loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "targetd/evloop.h"
#include "targetd/iscsi.h"
#include "targetd/scsi.h"
#include "targetd/util.h"

#define CTL_REQ_MAX 1024

struct ctl_client {
	struct daemon_ctl *ctl;
	int fd;
	char req[CTL_REQ_MAX];
	size_t req_len;
	char *resp;
	size_t resp_len, resp_off;
	struct ctl_client *next;
	struct evl_defer free_defer;
};

static void client_free(void *arg)
{
	struct ctl_client *cl = arg;

	free(cl->resp);
	free(cl);
}

static void client_close(struct ctl_client *cl)
{
	struct daemon_ctl *ctl = cl->ctl;

	for (struct ctl_client **pp = &ctl->clients; *pp; pp = &(*pp)->next) {
		if (*pp == cl) {
			*pp = cl->next;
			break;
		}
	}
	evl_fd_del(ctl->evl, cl->fd);
	close(cl->fd);
	cl->fd = -1;
	/* Never free inside our own callback: after the batch. */
	evl_defer_init(&cl->free_defer, client_free, cl);
	evl_defer_schedule(ctl->evl, &cl->free_defer);
}

static void answer(struct ctl_client *cl)
{
	struct daemon_ctl *ctl = cl->ctl;
	char *body = NULL;
	size_t body_len = 0;
	FILE *f = open_memstream(&body, &body_len);
	bool ok, json;

	if (!f) {
		client_close(cl);
		return;
	}
	json = !strncmp(cl->req, "json ", 5);
	ok = daemon_ctl_run(ctl, cl->req, f);
	if (fclose(f)) {
		free(body);
		client_close(cl);
		return;
	}
	if (json && !ok && body[0] != '{') {
		/* scripts get JSON for a failed command too: {"error": "..."} */
		char *msg = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&msg, &len);

		body[strcspn(body, "\n")] = '\0';
		if (m) {
			fputs("{\"error\":", m);
			daemon_json_str(m, body);
			fputs("}\n", m);
		}
		if (!m || fclose(m)) {
			free(msg);
			free(body);
			client_close(cl);
			return;
		}
		free(body);
		body = msg;
	}
	if (asprintf(&cl->resp, "%s\n%s", ok ? "ok" : "error", body) < 0) {
		cl->resp = NULL;
		free(body);
		client_close(cl);
		return;
	}
	free(body);
	cl->resp_len = strlen(cl->resp);
	if (evl_fd_mod(ctl->evl, cl->fd, EPOLLOUT))
		client_close(cl);
}

static void on_client(struct evl *evl, int fd, uint32_t events, void *arg)
{
	struct ctl_client *cl = arg;
	ssize_t n;

	(void)evl;
	if (cl->resp) {
		n = write(fd, cl->resp + cl->resp_off, cl->resp_len - cl->resp_off);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0 || (cl->resp_off += (size_t)n) == cl->resp_len)
			client_close(cl);
		return;
	}
	if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN)) {
		client_close(cl);
		return;
	}
	n = read(fd, cl->req + cl->req_len, sizeof(cl->req) - 1 - cl->req_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(cl);
		return;
	}
	cl->req_len += (size_t)n;
	cl->req[cl->req_len] = '\0';
	char *nl = strchr(cl->req, '\n');

	if (!nl && cl->req_len < sizeof(cl->req) - 1)
		return; /* wait for the rest of the line */
	if (nl)
		*nl = '\0';
	answer(cl);
}

static void on_listen(struct evl *evl, int fd, uint32_t events, void *arg)
{
	struct daemon_ctl *ctl = arg;
	struct ctl_client *cl;
	int cfd;

	(void)events;
	/* cppcheck-suppress nullPointer ; accept4(2) takes NULL addr and addrlen */
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return; /* EAGAIN, or the client already went away */
	cl = calloc(1, sizeof(*cl));
	if (!cl || evl_fd_add(evl, cfd, EPOLLIN, on_client, cl)) {
		free(cl);
		close(cfd);
		return;
	}
	cl->ctl = ctl;
	cl->fd = cfd;
	cl->next = ctl->clients;
	ctl->clients = cl;
}

int daemon_ctl_start(struct daemon_ctl *ctl, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	mode_t old;
	int r;

	if (util_strlcpy(sa.sun_path, path, sizeof(sa.sun_path)) >= sizeof(sa.sun_path)) {
		log_err("daemon", "control socket %s: path too long", path);
		return -ENAMETOOLONG;
	}
	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->fd < 0) {
		r = -errno;
		log_err("daemon", "control socket %s: %s", path, strerror(-r));
		return r;
	}
	/* A stale socket from a previous run that was killed. */
	unlink(path);
	old = umask(0177);
	r = bind(ctl->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	umask(old);
	if (!r && listen(ctl->fd, 16) < 0)
		r = -errno;
	if (!r)
		r = evl_fd_add(ctl->evl, ctl->fd, EPOLLIN, on_listen, ctl);
	if (r) {
		log_err("daemon", "control socket %s: %s", path, strerror(-r));
		close(ctl->fd);
		ctl->fd = -1;
		return r;
	}
	ctl->path = strdup(path);
	return 0;
}

void daemon_ctl_stop(struct daemon_ctl *ctl)
{
	while (ctl->clients) {
		struct ctl_client *cl = ctl->clients;

		ctl->clients = cl->next;
		evl_fd_del(ctl->evl, cl->fd);
		close(cl->fd);
		client_free(cl);
	}
	if (ctl->fd >= 0) {
		evl_fd_del(ctl->evl, ctl->fd);
		close(ctl->fd);
		ctl->fd = -1;
	}
	if (ctl->path)
		unlink(ctl->path);
	free(ctl->path);
	ctl->path = NULL;
}
