// SPDX-License-Identifier: MIT
/*
 * tcp-depth: the ceiling a libiscsi-shaped initiator reaches at queue depth
 * on loopback, against a server that does nothing but answer.
 *
 * tcp-floor is the QD1 floor; this is the same idea at depth. The client is
 * one thread with a non-blocking socket and poll(), and it issues the system
 * calls libiscsi 1.19 makes per 4 KiB command (strace of targetd-bench):
 *   write: send(48 B BHS), writev(4096 B immediate data), recv(48 B response)
 *   read:  send(48 B BHS), recv(48 B Data-In BHS), readv(4096 B data)
 * keeping --qd commands in flight. --one-send sends a WRITE's BHS and data
 * in one writev instead, to show what an initiator that coalesces them
 * would gain. The server, a forked child, is a target with no target in it:
 * epoll, one readv of whatever is queued into a 64 KiB ring, and one writev
 * of all the replies that ring held.
 *
 * Prints round trips per second and the CPU time per round trip of client
 * and server (user+sys from /proc over the measured window). With the
 * client at 100 % of a CPU and the server mostly idle, the rate is the most
 * any target can show this client on this machine.
 *
 * Not a test; a reference line in compare.sh and docs/performance.md.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
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

#include "tcp_pair.h"

#define HDR 48
#define DATA 4096
#define RING (64u << 10)

struct opts {
	int write_mode, one_send, json;
	long qd;
	double time_s, ramp_s;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* user+sys seconds of a process, from /proc/PID/stat (fields 14, 15) */
static double proc_cpu_s(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!p || !(p = strrchr(buf, ')')))
		return 0;
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [--mode read|write] [--qd N] [--time S] [--ramp S] [--one-send] "
		"[--json]\n"
		"  write: 48+4096-byte request in two sends (libiscsi), 48-byte reply\n"
		"  read : 48-byte request, 48+4096-byte reply read as recv(48)+readv(4096)\n"
		"  --one-send: a write request's header and data in one writev\n",
		argv0);
	exit(2);
}

static void server(int lfd, const void *arg)
{
	const struct opts *o = arg;
	/* cppcheck-suppress unassignedVariable ; read() fills ring, hdr is the zero reply header */
	static uint8_t ring[RING], hdr[HDR], data[DATA];
	static struct iovec iov[2 * (RING / HDR + 1)];
	size_t req_len = o->write_mode ? HDR + DATA : HDR, have = 0;
	struct epoll_event ev = {.events = EPOLLIN};
	int fd = tcp_pair_accept(lfd), ep = epoll_create1(0);

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		die("epoll");
	memset(data, 0xa5, sizeof(data));
	for (;;) {
		ssize_t r;
		size_t k;
		int cnt = 0;

		if (epoll_wait(ep, &ev, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		r = read(fd, ring + have, RING - have);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
			_exit(0);
		if (r < 0)
			continue;
		have += (size_t)r;
		k = have / req_len;
		have -= k * req_len; /* requests carry no content the server needs */
		for (size_t i = 0; i < k; i++) {
			iov[cnt++] = (struct iovec){hdr, HDR};
			if (!o->write_mode)
				iov[cnt++] = (struct iovec){data, DATA};
		}
		if (cnt && tcp_pair_writev_all(fd, iov, cnt))
			_exit(0); /* client gone */
	}
}

struct client {
	int fd;
	long inflight;
	/* a request being sent: bytes of header and data still to go */
	size_t hdr_left, data_left;
	bool sending;
	/* a reply being received */
	size_t got, want;
	uint64_t done;
};

static uint8_t creq[HDR + DATA], crep[HDR + DATA];

/* Send as much of the current request as the socket takes; true when whole. */
static bool client_send(struct client *c, const struct opts *o)
{
	while (c->hdr_left || c->data_left) {
		ssize_t w;

		if (c->hdr_left && (!o->write_mode || !o->one_send)) {
			w = send(c->fd, creq + HDR - c->hdr_left, c->hdr_left, MSG_NOSIGNAL);
			if (w > 0)
				c->hdr_left -= (size_t)w;
		} else {
			struct iovec v[2];
			int n = 0;

			if (c->hdr_left)
				v[n++] = (struct iovec){creq + HDR - c->hdr_left, c->hdr_left};
			v[n++] = (struct iovec){creq + HDR + DATA - c->data_left, c->data_left};
			w = writev(c->fd, v, n);
			if (w > 0) {
				size_t h = (size_t)w < c->hdr_left ? (size_t)w : c->hdr_left;

				c->hdr_left -= h;
				c->data_left -= (size_t)w - h;
			}
		}
		if (w < 0 && errno == EAGAIN)
			return false;
		if (w <= 0)
			die("client send");
	}
	return true;
}

/* Receive one reply the way libiscsi does: the BHS, then the data. */
static bool client_recv(struct client *c)
{
	while (c->got < c->want) {
		ssize_t r;

		if (c->got < HDR) {
			r = recv(c->fd, crep + c->got, HDR - c->got, 0);
		} else {
			struct iovec v = {crep + c->got, c->want - c->got};

			r = readv(c->fd, &v, 1);
		}
		if (r < 0 && errno == EAGAIN)
			return false;
		if (r <= 0)
			die("client recv");
		c->got += (size_t)r;
	}
	return true;
}

static void client_run(struct client *c, const struct opts *o, double until)
{
	size_t reply = o->write_mode ? HDR : HDR + DATA;
	unsigned spins = 0;

	while ((spins++ & 63) || now_s() < until) {
		bool progress = false;

		while (c->sending || c->inflight < o->qd) {
			if (!c->sending) {
				c->hdr_left = HDR;
				c->data_left = o->write_mode ? DATA : 0;
				c->sending = true;
			}
			if (!client_send(c, o))
				break;
			c->sending = false;
			c->inflight++;
			progress = true;
		}
		while (c->inflight) {
			if (!c->want) {
				c->want = reply;
				c->got = 0;
			}
			if (!client_recv(c))
				break;
			c->want = 0;
			c->inflight--;
			c->done++;
			progress = true;
		}
		if (!progress) {
			struct pollfd p = {.fd = c->fd,
					   .events = (short)(POLLIN | (c->sending ? POLLOUT : 0))};

			poll(&p, 1, 100);
		}
	}
}

static double parse_num(const char *s, const char *argv0)
{
	char *end;
	double v = strtod(s, &end);

	if (*s == 0 || *end || v < 0)
		usage(argv0);
	return v;
}

int main(int argc, char **argv)
{
	struct opts o = {.qd = 32, .time_s = 5, .ramp_s = 1};
	struct client c = {0};
	double t0, t1, cc0, cc1, sc0, sc1, rate;
	uint64_t d0;
	pid_t pid;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			o.json = 1;
			continue;
		}
		if (!strcmp(argv[i], "--one-send")) {
			o.one_send = 1;
			continue;
		}
		if (i + 1 >= argc)
			usage(argv[0]);
		if (!strcmp(argv[i], "--mode")) {
			if (!strcmp(argv[i + 1], "write"))
				o.write_mode = 1;
			else if (strcmp(argv[i + 1], "read"))
				usage(argv[0]);
		} else if (!strcmp(argv[i], "--qd")) {
			o.qd = (long)parse_num(argv[i + 1], argv[0]);
		} else if (!strcmp(argv[i], "--time")) {
			o.time_s = parse_num(argv[i + 1], argv[0]);
		} else if (!strcmp(argv[i], "--ramp")) {
			o.ramp_s = parse_num(argv[i + 1], argv[0]);
		} else {
			usage(argv[0]);
		}
		i++;
	}
	if (o.qd < 1 || o.qd > 1024 || o.time_s <= 0)
		usage(argv[0]);

	c.fd = tcp_pair_start(server, &o, SOCK_NONBLOCK, &pid);
	memset(creq, 0x5a, sizeof(creq));

	client_run(&c, &o, now_s() + o.ramp_s);
	t0 = now_s();
	d0 = c.done;
	cc0 = proc_cpu_s(getpid());
	sc0 = proc_cpu_s(pid);
	client_run(&c, &o, t0 + o.time_s);
	t1 = now_s();
	cc1 = proc_cpu_s(getpid());
	sc1 = proc_cpu_s(pid);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);

	rate = (double)(c.done - d0) / (t1 - t0);
	if (o.json)
		printf("{\"mode\":\"%s\",\"qd\":%ld,\"one_send\":%s,\"rt_per_s\":%.0f,"
		       "\"client_cpu_us_per_rt\":%.2f,\"server_cpu_us_per_rt\":%.2f,"
		       "\"client_cpu_pct\":%.1f,\"server_cpu_pct\":%.1f}\n",
		       o.write_mode ? "write" : "read", o.qd, o.one_send ? "true" : "false", rate,
		       (cc1 - cc0) * 1e6 / (rate * (t1 - t0)),
		       (sc1 - sc0) * 1e6 / (rate * (t1 - t0)), (cc1 - cc0) * 100 / (t1 - t0),
		       (sc1 - sc0) * 100 / (t1 - t0));
	else
		printf("tcp-depth %s qd %ld%s: %.0f/s; client cpu %.2f us/rt (%.0f %%), "
		       "server cpu %.2f us/rt (%.0f %%)\n",
		       o.write_mode ? "write" : "read", o.qd, o.one_send ? " (one send)" : "", rate,
		       (cc1 - cc0) * 1e6 / (rate * (t1 - t0)), (cc1 - cc0) * 100 / (t1 - t0),
		       (sc1 - sc0) * 1e6 / (rate * (t1 - t0)), (sc1 - sc0) * 100 / (t1 - t0));
	return 0;
}
