/* SPDX-License-Identifier: MIT */
/*
 * daemon_ctl: the control socket targetctl(8) talks to. A Unix stream socket
 * (mode 0600: root only by default); each client sends one command line and
 * gets a text answer, then the daemon closes the connection. Commands:
 *   status    version and object counts
 *   sessions  one line per logged-in session
 *   luns      one line per LUN of every target
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

#define CTL_REQ_MAX 256

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

static void print_session(const struct iscsi_session_info *s, void *arg)
{
	FILE *f = arg;

	fprintf(f,
		"%s isid=%02x%02x%02x%02x%02x%02x tsih=%u target=%s tpgt=%u peer=%s local=%s "
		"digests=%s/%s commands=%llu read_bytes=%llu write_bytes=%llu\n",
		s->initiator_name ? s->initiator_name : "-", s->isid[0], s->isid[1], s->isid[2],
		s->isid[3], s->isid[4], s->isid[5], s->tsih,
		s->discovery ? "(discovery)" : (s->target_name ? s->target_name : "-"), s->tpgt,
		s->peer_addr, s->local_addr, s->header_digest ? "crc32c" : "none",
		s->data_digest ? "crc32c" : "none", (unsigned long long)s->commands,
		(unsigned long long)s->read_bytes, (unsigned long long)s->write_bytes);
}

static void print_luns(struct daemon_ctl *ctl, FILE *f)
{
	for (struct scsi_target *t = scsi_target_next(ctl->core, NULL); t;
	     t = scsi_target_next(ctl->core, t)) {
		uint64_t lun = 0;

		for (struct scsi_lu *lu = scsi_target_lun_next(t, &lun, true); lu;
		     lu = scsi_target_lun_next(t, &lun, false))
			fprintf(f, "%s lun=%llu serial=%s size=%llu block_size=%u path=%s\n",
				scsi_target_name(t), (unsigned long long)lun, scsi_lu_serial(lu),
				(unsigned long long)scsi_lu_size_bytes(lu), scsi_lu_block_size(lu),
				scsi_lu_path(lu));
	}
}

static void answer(struct ctl_client *cl)
{
	struct daemon_ctl *ctl = cl->ctl;
	FILE *f = open_memstream(&cl->resp, &cl->resp_len);
	unsigned n_targets = 0;

	if (!f) {
		client_close(cl);
		return;
	}
	if (!strcmp(cl->req, "status")) {
		for (struct scsi_target *t = scsi_target_next(ctl->core, NULL); t;
		     t = scsi_target_next(ctl->core, t))
			n_targets++;
		fprintf(f, "targetd %s\ntargets %u\n", ctl->version, n_targets);
	} else if (!strcmp(cl->req, "sessions")) {
		iscsi_sessions_foreach(ctl->srv, print_session, f);
	} else if (!strcmp(cl->req, "luns")) {
		print_luns(ctl, f);
	} else {
		fprintf(f, "error: unknown command '%s' (status, sessions, luns)\n", cl->req);
	}
	if (fclose(f)) {
		client_close(cl);
		return;
	}
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
