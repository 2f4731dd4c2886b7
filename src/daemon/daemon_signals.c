/* SPDX-License-Identifier: MIT */
/*
 * daemon_signals: SIGTERM/SIGINT (graceful stop) and SIGHUP (reload) arrive
 * as readable events on a signalfd in the loop, so their handlers run on the
 * loop thread like everything else. SIGPIPE is ignored: a peer closing its
 * socket is reported by send() as EPIPE, per connection.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "daemon.h"
#include "targetd/evloop.h"
#include "targetd/util.h"

static void stop_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
}

int daemon_block_signals(void)
{
	struct sigaction sa = {.sa_handler = SIG_IGN};
	sigset_t set;
	int r;

	if (sigaction(SIGPIPE, &sa, NULL) < 0) {
		r = -errno;
		log_err("daemon", "ignoring SIGPIPE: %s", strerror(-r));
		return r;
	}
	/* Before any thread exists (evl_create starts the worker), so every
	 * thread inherits the mask and only the signalfd sees these. */
	stop_set(&set);
	r = pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (r) {
		log_err("daemon", "blocking signals: %s", strerror(r));
		return -r;
	}
	return 0;
}

static void on_signalfd(struct evl *evl, int fd, uint32_t events, void *arg)
{
	struct daemon_signals *s = arg;
	struct signalfd_siginfo si;

	(void)evl;
	(void)events;
	for (;;) {
		ssize_t n = read(fd, &si, sizeof(si));

		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(si))
			return; /* EAGAIN: drained */
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			s->on_stop(s->arg, (int)si.ssi_signo);
			break;
		case SIGHUP:
			s->on_reload(s->arg);
			break;
		default:
			break;
		}
	}
}

int daemon_signals_start(struct evl *evl, struct daemon_signals *s)
{
	sigset_t set;
	int r;

	stop_set(&set);
	s->fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->fd < 0) {
		r = -errno;
		log_err("daemon", "signalfd: %s", strerror(-r));
		return r;
	}
	r = evl_fd_add(evl, s->fd, EPOLLIN, on_signalfd, s);
	if (r) {
		log_err("daemon", "watching signalfd: %s", strerror(-r));
		close(s->fd);
		s->fd = -1;
	}
	return r;
}

void daemon_signals_stop(struct evl *evl, struct daemon_signals *s)
{
	if (s->fd < 0)
		return;
	evl_fd_del(evl, s->fd);
	close(s->fd);
	s->fd = -1;
}
