/* SPDX-License-Identifier: MIT */
/*
 * tcp_pair.h: what tcp-floor and tcp-depth share. A client and a server
 * process on one loopback TCP connection (the server a forked child that
 * accepts once), and the blocking writev both servers reply with.
 * Header-only: each tool is one .c file.
 */
#ifndef TARGETD_BENCH_TCP_PAIR_H
#define TARGETD_BENCH_TCP_PAIR_H

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>
#include <arpa/inet.h>

static inline void die(const char *what)
{
	perror(what);
	exit(1);
}

/* Fork a server that runs serve(listening fd, arg) (it must not return) and
 * connect to it over 127.0.0.1 with TCP_NODELAY, as targetd and libiscsi
 * both set it. sock_flags: extra socket() type flags for the client
 * (SOCK_NONBLOCK). Returns the client's fd; *pid is the server's. */
static inline int tcp_pair_start(void (*serve)(int lfd, const void *arg), const void *arg,
				 int sock_flags, pid_t *pid)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	int lfd, fd, one = 1;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl))
		die("listen");
	*pid = fork();
	if (*pid < 0)
		die("fork");
	if (*pid == 0) {
		serve(lfd, arg);
		_exit(0);
	}
	close(lfd);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | sock_flags, 0);
	if (fd < 0)
		die("socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) && errno != EINPROGRESS)
		die("connect");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* The server's side of tcp_pair_start: accept the one connection. */
static inline int tcp_pair_accept(int lfd)
{
	int one = 1, fd = accept(lfd, NULL, NULL);

	if (fd < 0)
		die("accept");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* writev every byte of iov[0..cnt), waiting for room on a non-blocking
 * socket; -1 when the peer is gone. Consumes iov. */
static inline int tcp_pair_writev_all(int fd, struct iovec *iov, int cnt)
{
	while (cnt) {
		ssize_t w = writev(fd, iov, cnt > IOV_MAX ? IOV_MAX : cnt);

		if (w < 0 && (errno == EINTR || errno == EAGAIN)) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};

			poll(&p, 1, -1);
			continue;
		}
		if (w <= 0)
			return -1;
		while (cnt && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

#endif
