// SPDX-License-Identifier: MIT
/*
 * tcp-floor: the physical floor under a QD1 iSCSI round trip on loopback.
 *
 * A ping-pong over 127.0.0.1 with the message sizes of one 4 KiB iSCSI
 * command at QD1 and nothing else: for "read", a 48-byte request (the SCSI
 * Command BHS) answered by 48 + 4096 bytes (Data-In BHS with status + data);
 * for "write", 48 + 4096 bytes (command with immediate data) answered by 48
 * (SCSI Response). The server is shaped like a target: blocking socket,
 * TCP_NODELAY, epoll_wait for readability, one recv of the request, one
 * writev of the reply, i.e. the same three syscalls and two wakeups per round
 * trip as targetd's memory LU. The client is a blocking send + recv loop.
 *
 * Prints the round-trip time (p50/p99/mean) and the CPU time per round trip
 * of the server process (CLOCK_PROCESS_CPUTIME_ID, user+sys, measured inside
 * the server between the first and last timed request) and of the client.
 * --poll-us N makes the server spin on epoll_wait(timeout 0) for up to N us
 * before sleeping, like targetd's poll_us, to show the floor with busy polling.
 * --uring (built when liburing is installed) runs the same server on io_uring:
 * the reply's writev and the next recv are submitted together and one
 * io_uring_enter waits for both, one syscall per round trip instead of three.
 *
 * Not a test; a reference line in compare.sh and docs/performance.md.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#ifdef HAVE_LIBURING
#include <liburing.h>
#endif

#include "tcp_pair.h"

#define HDR 48
#define DATA 4096

enum {
	REQ_RUN = 0,
	REQ_MARK = 1,
	REQ_STOP = 2
};

struct opts {
	long n, warmup;
	long poll_us;
	int uring; /* --uring: the server on io_uring, one syscall per round trip */
	int write_mode;
	int json;
};

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [--mode read|write] [--ios N] [--warmup N] [--poll-us N] [--uring] "
		"[--json]\n"
		"  read : 48-byte request, 48+4096-byte reply (a 4 KiB READ at QD1)\n"
		"  write: 48+4096-byte request, 48-byte reply (a 4 KiB WRITE, immediate data)\n"
		"  --uring: the server on io_uring (one io_uring_enter per round trip)\n",
		argv0);
	exit(2);
}

static int full_recv(int fd, uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t r = recv(fd, buf, len, MSG_WAITALL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		buf += r;
		len -= (size_t)r;
	}
	return 0;
}

/* Wait for the socket to become readable: spin with timeout 0 for up to
 * poll_us, then sleep. */
static int wait_readable(int ep, long poll_us)
{
	struct epoll_event ev;
	uint64_t end = poll_us ? now_ns(CLOCK_MONOTONIC) + (uint64_t)poll_us * 1000 : 0;
	int n;

	for (;;) {
		int timeout = poll_us && now_ns(CLOCK_MONOTONIC) < end ? 0 : -1;

		n = epoll_wait(ep, &ev, 1, timeout);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

#ifdef HAVE_LIBURING
static void server_uring(int fd, const struct opts *o);
#endif

/* The target-shaped side. Reports its CPU ns between MARK and STOP in the
 * first 8 bytes of the last reply's data. */
static void server(int lfd, const void *arg)
{
	const struct opts *o = arg;
	size_t req_len = o->write_mode ? HDR + DATA : HDR;
	/* cppcheck-suppress unassignedVariable ; hdr is the all-zero reply header */
	static uint8_t req[HDR + DATA], hdr[HDR], data[DATA];
	uint64_t cpu0 = 0;
	struct epoll_event ev = {.events = EPOLLIN};
	int fd = tcp_pair_accept(lfd), ep;
#ifdef HAVE_LIBURING
	if (o->uring) {
		server_uring(fd, o);
		close(fd);
		_exit(0);
	}
#endif
	ep = epoll_create1(0);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		die("epoll");
	memset(data, 0xa5, sizeof(data));
	for (;;) {
		struct iovec iov[2] = {{hdr, HDR}, {data, DATA}};

		if (wait_readable(ep, o->poll_us))
			die("epoll_wait");
		if (full_recv(fd, req, req_len))
			break; /* client gone */
		if (req[0] == REQ_MARK)
			cpu0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
		if (req[0] == REQ_STOP) {
			uint64_t cpu = now_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0;

			memcpy(o->write_mode ? hdr + 8 : data, &cpu, sizeof(cpu));
		}
		if (tcp_pair_writev_all(fd, iov, o->write_mode ? 1 : 2))
			break;
		if (req[0] == REQ_STOP)
			break;
	}
	close(fd);
	_exit(0);
}

#ifdef HAVE_LIBURING
static void uring_wait(struct io_uring *ring, unsigned submit_nr, int *res)
{
	struct io_uring_cqe *cqe;
	unsigned seen = 0;

	if (io_uring_submit_and_wait(ring, submit_nr) < 0)
		die("io_uring_submit_and_wait");
	while (seen < submit_nr) {
		if (io_uring_wait_cqe(ring, &cqe))
			die("io_uring_wait_cqe");
		res[cqe->user_data] = cqe->res;
		io_uring_cqe_seen(ring, cqe);
		seen++;
	}
}

/* The same server on io_uring: the reply's writev and the next request's
 * recv go to the kernel together and one io_uring_enter waits for both, so a
 * round trip costs one syscall instead of three (epoll_wait, recv, writev). */
static void server_uring(int fd, const struct opts *o)
{
	size_t req_len = o->write_mode ? HDR + DATA : HDR;
	/* cppcheck-suppress unassignedVariable ; hdr is the all-zero reply header */
	static uint8_t req[HDR + DATA], hdr[HDR], data[DATA];
	struct iovec iov[2] = {{hdr, HDR}, {data, DATA}};
	size_t resp_len = o->write_mode ? HDR : HDR + DATA;
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	uint64_t cpu0 = 0;
	int res[2];

	if (io_uring_queue_init(8, &ring, 0))
		die("io_uring_queue_init");
	memset(data, 0xa5, sizeof(data));
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_recv(sqe, fd, req, req_len, MSG_WAITALL);
	sqe->user_data = 0;
	uring_wait(&ring, 1, res);
	for (;;) {
		uint8_t kind = req[0]; /* the next recv lands in req while we wait */

		if (res[0] != (int)req_len)
			break; /* client gone */
		if (kind == REQ_MARK)
			cpu0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
		if (kind == REQ_STOP) {
			uint64_t cpu = now_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0;

			memcpy(o->write_mode ? hdr + 8 : data, &cpu, sizeof(cpu));
		}
		sqe = io_uring_get_sqe(&ring);
		io_uring_prep_writev(sqe, fd, iov, o->write_mode ? 1 : 2, 0);
		sqe->user_data = 1;
		if (kind != REQ_STOP) {
			sqe = io_uring_get_sqe(&ring);
			io_uring_prep_recv(sqe, fd, req, req_len, MSG_WAITALL);
			sqe->user_data = 0;
		}
		uring_wait(&ring, kind == REQ_STOP ? 1 : 2, res);
		if (res[1] != (int)resp_len)
			die("short writev"); /* a 4 KiB reply always fits the socket buffer */
		if (kind == REQ_STOP)
			break;
	}
	io_uring_queue_exit(&ring);
}
#endif

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static long parse_long(const char *s, const char *argv0)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == 0 || *end || v < 0)
		usage(argv0);
	return v;
}

int main(int argc, char **argv)
{
	struct opts o = {.n = 20000, .warmup = 2000};
	static uint8_t req[HDR + DATA], resp[HDR + DATA];
	size_t req_len, resp_len;
	uint64_t t0, cli0, srv_cpu = 0, sum = 0;
	uint32_t *rtt;
	int fd, status;
	pid_t pid;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			o.json = 1;
			continue;
		}
		if (!strcmp(argv[i], "--uring")) {
#ifdef HAVE_LIBURING
			o.uring = 1;
			continue;
#else
			fprintf(stderr, "tcp-floor: built without liburing\n");
			return 2;
#endif
		}
		if (i + 1 >= argc)
			usage(argv[0]);
		if (!strcmp(argv[i], "--mode")) {
			if (!strcmp(argv[i + 1], "write"))
				o.write_mode = 1;
			else if (strcmp(argv[i + 1], "read"))
				usage(argv[0]);
		} else if (!strcmp(argv[i], "--ios")) {
			o.n = parse_long(argv[i + 1], argv[0]);
		} else if (!strcmp(argv[i], "--warmup")) {
			o.warmup = parse_long(argv[i + 1], argv[0]);
		} else if (!strcmp(argv[i], "--poll-us")) {
			o.poll_us = parse_long(argv[i + 1], argv[0]);
		} else {
			usage(argv[0]);
		}
		i++;
	}
	if (o.n < 2)
		usage(argv[0]);
	req_len = o.write_mode ? HDR + DATA : HDR;
	resp_len = o.write_mode ? HDR : HDR + DATA;
	rtt = calloc((size_t)o.n, sizeof(*rtt));
	if (!rtt)
		die("calloc");

	fd = tcp_pair_start(server, &o, 0, &pid);

	cli0 = t0 = 0;
	for (long i = -o.warmup; i < o.n; i++) {
		struct iovec iov[1] = {{req, req_len}};
		uint64_t a;

		req[0] = i == 0 ? REQ_MARK : i == o.n - 1 ? REQ_STOP : REQ_RUN;
		if (i == 0) {
			t0 = now_ns(CLOCK_MONOTONIC);
			cli0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
		}
		a = now_ns(CLOCK_MONOTONIC);
		if (tcp_pair_writev_all(fd, iov, 1) || full_recv(fd, resp, resp_len)) {
			fprintf(stderr, "tcp-floor: server went away\n");
			return 1;
		}
		if (i >= 0) {
			uint64_t d = now_ns(CLOCK_MONOTONIC) - a;

			rtt[i] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
			sum += d;
		}
	}
	{
		uint64_t wall = now_ns(CLOCK_MONOTONIC) - t0;
		uint64_t cli = now_ns(CLOCK_PROCESS_CPUTIME_ID) - cli0;
		double p50, p99, mean, srv_us, cli_us, rate;

		memcpy(&srv_cpu, o.write_mode ? resp + 8 : resp + HDR, sizeof(srv_cpu));
		close(fd);
		waitpid(pid, &status, 0);
		qsort(rtt, (size_t)o.n, sizeof(*rtt), cmp_u32);
		p50 = rtt[o.n / 2] / 1e3;
		p99 = rtt[(size_t)((double)o.n * 0.99)] / 1e3;
		mean = (double)sum / (double)o.n / 1e3;
		srv_us = (double)srv_cpu / (double)(o.n - 1) / 1e3;
		cli_us = (double)cli / (double)o.n / 1e3;
		rate = (double)o.n / ((double)wall / 1e9);
		if (o.json)
			printf("{\"mode\":\"%s\",\"ios\":%ld,\"poll_us\":%ld,\"uring\":%s,\"rtt_"
			       "per_s\":%.0f,"
			       "\"mbps\":%.1f,\"p50_us\":%.1f,\"p99_us\":%.1f,\"mean_us\":%.1f,"
			       "\"server_cpu_us_per_rt\":%.2f,\"client_cpu_us_per_rt\":%.2f}\n",
			       o.write_mode ? "write" : "read", o.n, o.poll_us,
			       o.uring ? "true" : "false", rate, rate * DATA / 1e6, p50, p99, mean,
			       srv_us, cli_us);
		else
			printf("tcp-floor %s%s: %ld round trips (%zu B -> %zu B), poll_us %ld: "
			       "%.0f/s, rtt p50 %.1f us, p99 %.1f us, mean %.1f us; "
			       "server cpu %.2f us/rt, client cpu %.2f us/rt\n",
			       o.write_mode ? "write" : "read", o.uring ? " (io_uring)" : "", o.n,
			       req_len, resp_len, o.poll_us, rate, p50, p99, mean, srv_us, cli_us);
	}
	free(rtt);
	return 0;
}
