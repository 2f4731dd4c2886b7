// SPDX-License-Identifier: MIT
/*
 * targetd-bench: closed-loop iSCSI load generator on libiscsi's asynchronous API.
 *
 * One thread. Every session is a libiscsi context; all of them are multiplexed in one
 * poll() loop. Each session keeps --qd commands outstanding (READ(16) / WRITE(16), SBC-4
 * 5.19 / 5.42); a completion callback records latency in a log-linear histogram (no
 * malloc per I/O in this program: slots, buffers and histograms are allocated before the
 * run) and immediately submits the next command on the same slot.
 *
 * --verify writes, in every logical block, a header {magic, LBA, generation} followed by
 * a fill derived from (LBA, generation), and checks every block read against the last
 * generation written to it. Blocks with a command in flight are never touched by another
 * command, so the expected content is always known.
 *
 * --pid PID samples the target's utime+stime (/proc/PID/stat fields 14 and 15, all threads)
 * at the start and end of the measured interval and reports target CPU microseconds per I/O.
 *
 * --rate IOPS caps the total command rate (token bucket, 10 ms of burst): a slot whose
 * command completed waits in one FIFO for a token, so sessions share the rate fairly.
 *
 * --churn S makes every session, after a random 0.5 S .. 1.5 S, stop submitting, wait for
 * its commands, log out (RFC 7143 11.14, reason "close the session") and log in again on a
 * new connection with the same initiator name and ISID (a new session: the old one ended
 * with the logout, RFC 7143 6.3.5). A failed re-login is counted and retried after 1 s; it
 * does not end the run. A connection the target drops while logged in is an error (its
 * commands are lost) and, with --churn, is reconnected the same way.
 *
 * Exit status: 0 all I/O good, 1 errors (connect, SCSI, verify, timeout), 2 bad arguments.
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "bench.h"
#include "bench_hist.h"

#define VERIFY_MAGIC 0x7467746442454e43ULL /* "tgtdBENC" */
#define DRAIN_NS (10ULL * 1000000000ULL)
#define NS 1000000000ULL
#define CHURN_STUCK_NS (30ULL * NS) /* drain or logout taking longer: give up on it */
#define RELOGIN_RETRY_NS NS

/* One LU as seen by the benchmark; sessions with the same portal/target/LUN share it. */
struct lu {
	char key[3 * 260];
	uint32_t block_size;
	uint64_t n_blocks; /* of the LU */
	uint64_t n_units; /* bs-sized units in the working range */
	uint32_t *gen; /* per logical block in range, verify only; 0 = unknown */
	uint8_t *busy; /* per unit, verify only */
	uint32_t next_gen;
};

struct session;

struct slot {
	struct session *s;
	uint8_t *buf;
	struct scsi_iovec iov;
	uint64_t unit;
	uint64_t t_start;
	uint32_t gen; /* verify: generation this write carries */
	bool is_write, busy;
	bool queued; /* --rate: waiting in the token FIFO */
};

enum sess_state {
	SS_CONNECTING,
	SS_CAPACITY,
	SS_READY,
	SS_DRAINING, /* --churn: no new commands, waiting for the outstanding ones */
	SS_LOGGING_OUT, /* --churn: Logout Request sent */
	SS_LOGGED_OUT, /* --churn: context to be destroyed and a new login started */
	SS_DEAD
};

struct session {
	int idx;
	struct iscsi_context *iscsi;
	struct iscsi_url *url;
	const char *url_str;
	struct lu *lu;
	enum sess_state state;
	bool relogin; /* the current login is a re-login (--churn) */
	uint64_t t_churn; /* READY: when to start the next logout */
	uint64_t t_state; /* DRAINING/LOGGING_OUT: since when; LOGGED_OUT: retry at */
	struct slot *slots;
	int inflight;
	uint64_t seq_unit;
	uint64_t rng;
};

struct stats {
	struct bench_hist rd, wr;
	uint64_t errors, verify_errors;
	uint64_t bytes_rd, bytes_wr;
};

static struct opts g_o = {
    .sessions = 1,
    .rw = RW_RANDREAD,
    .mix = 50,
    .bs = 4096,
    .qd = 1,
    .time_s = 10,
    .pid = -1,
};
static struct session *g_sess;
static int g_n_sess;
static struct lu *g_lus;
static int g_n_lus;
static struct stats g_st;
static bool g_measuring, g_stopping;
static uint64_t g_errors_total; /* including ramp and drain: drives the exit status */
static uint64_t g_submitted;
static unsigned g_msgs; /* data-path messages printed; capped at MAX_MSGS */
#define MAX_MSGS 10
static unsigned g_churn_msgs; /* churn messages printed; capped at MAX_MSGS */

/* --churn counters (whole run, ramp included) */
static struct {
	uint64_t logouts, logins, relogin_errors, logout_errors, drops;
} g_ch;

/* --rate: token bucket and the FIFO of idle slots waiting for a token */
static double g_credit;
static uint64_t g_rate_t;
static struct slot **g_q;
static size_t g_q_head, g_q_len, g_q_cap;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_next(uint64_t *x)
{
	/* xorshift64*: cheap, good enough for offsets */
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545F4914F6CDD1DULL;
}

/* ---- verify patterns ------------------------------------------------------------ */

static uint64_t fill_word(uint64_t lba, uint32_t gen, size_t i)
{
	return (lba * 0x9E3779B97F4A7C15ULL) ^ ((uint64_t)gen << 32) ^ i;
}

static void pattern_fill(uint8_t *buf, uint64_t lba, uint32_t nblk, uint32_t blksz, uint32_t gen)
{
	for (uint32_t b = 0; b < nblk; b++) {
		uint64_t *w = (uint64_t *)(void *)(buf + (size_t)b * blksz);
		size_t nw = blksz / 8;

		w[0] = VERIFY_MAGIC;
		w[1] = lba + b;
		w[2] = gen;
		for (size_t i = 3; i < nw; i++)
			w[i] = fill_word(lba + b, gen, i);
	}
}

/* Returns the number of bad blocks; reports the first. */
static unsigned pattern_check(const struct session *s, const uint8_t *buf, uint64_t lba,
			      uint32_t nblk)
{
	const struct lu *lu = s->lu;
	unsigned bad = 0;

	for (uint32_t b = 0; b < nblk; b++) {
		const uint64_t *w =
		    (const uint64_t *)(const void *)(buf + (size_t)b * lu->block_size);
		uint32_t gen = lu->gen[lba + b];
		size_t nw = lu->block_size / 8, i = 3;

		if (gen == 0) {
			/* never written in this run (or a write failed): only a block that
			 * carries our magic must name the right LBA */
			if (w[0] == VERIFY_MAGIC && w[1] != lba + b)
				goto mismatch;
			continue;
		}
		if (w[0] != VERIFY_MAGIC || w[1] != lba + b || w[2] != gen)
			goto mismatch;
		for (; i < nw; i++)
			if (w[i] != fill_word(lba + b, gen, i))
				goto mismatch;
		continue;
	mismatch:
		if (!bad && g_msgs++ < MAX_MSGS)
			fprintf(stderr,
				"targetd-bench: session %d: verify: LBA %" PRIu64
				" expected gen %u, found magic %#" PRIx64 " lba %" PRIu64
				" gen %" PRIu64 " (word %zu)\n",
				s->idx, lba + b, gen, w[0], w[1], w[2], i);
		bad++;
	}
	return bad;
}

/* ---- I/O ------------------------------------------------------------------------- */

static void io_cb(struct iscsi_context *iscsi, int status, void *command_data, void *priv);
static int submit(struct slot *sl);

/* A slot of a READY session has nothing outstanding: submit now, or queue for a token. */
static void slot_idle(struct slot *sl)
{
	if (g_o.rate > 0) {
		if (!sl->queued && g_q_len < g_q_cap) {
			g_q[(g_q_head + g_q_len++) % g_q_cap] = sl;
			sl->queued = true;
		}
		return;
	}
	if (submit(sl))
		sl->s->state = SS_DEAD;
}

static bool pick_write(struct session *s)
{
	switch (g_o.rw) {
	case RW_RANDREAD:
	case RW_READ:
		return false;
	case RW_RANDWRITE:
	case RW_WRITE:
		return true;
	case RW_RANDRW:
		return (int)(rng_next(&s->rng) % 100) >= g_o.mix;
	}
	return false;
}

static uint64_t pick_unit(struct session *s)
{
	struct lu *lu = s->lu;
	bool seq = g_o.rw == RW_READ || g_o.rw == RW_WRITE;

	for (;;) {
		uint64_t u;

		if (seq) {
			u = s->seq_unit;
			s->seq_unit = (s->seq_unit + 1) % lu->n_units;
		} else {
			u = rng_next(&s->rng) % lu->n_units;
		}
		if (!lu->busy || !lu->busy[u])
			return u;
	}
}

static int submit(struct slot *sl)
{
	struct session *s = sl->s;
	struct lu *lu = s->lu;
	uint32_t nblk = g_o.bs / lu->block_size;
	uint64_t lba;
	struct scsi_task *t;

	if (g_o.ios && g_submitted >= g_o.ios)
		return 0; /* fixed amount of work done: the slot stays idle */
	g_submitted++;
	sl->unit = pick_unit(s);
	sl->is_write = pick_write(s);
	lba = sl->unit * nblk;
	if (lu->busy)
		lu->busy[sl->unit] = 1;
	if (sl->is_write && g_o.verify) {
		if (++lu->next_gen == 0)
			lu->next_gen = 1;
		sl->gen = lu->next_gen;
		pattern_fill(sl->buf, lba, nblk, lu->block_size, sl->gen);
	}
	sl->t_start = now_ns();
	/* SBC-4 5.42 WRITE (16) / 5.19 READ (16): DPO=0, FUA=0, group 0 */
	if (sl->is_write)
		t = iscsi_write16_iov_task(s->iscsi, s->url->lun, lba, sl->buf, g_o.bs,
					   (int)lu->block_size, 0, 0, 0, 0, 0, io_cb, sl, &sl->iov,
					   1);
	else
		t = iscsi_read16_iov_task(s->iscsi, s->url->lun, lba, g_o.bs, (int)lu->block_size,
					  0, 0, 0, 0, 0, io_cb, sl, &sl->iov, 1);
	if (!t) {
		fprintf(stderr, "targetd-bench: session %d: submit: %s\n", s->idx,
			iscsi_get_error(s->iscsi));
		if (lu->busy)
			lu->busy[sl->unit] = 0;
		return -EIO;
	}
	sl->busy = true;
	s->inflight++;
	return 0;
}

static void io_cb(struct iscsi_context *iscsi, int status, void *command_data, void *priv)
{
	struct slot *sl = priv;
	struct session *s = sl->s;
	struct lu *lu = s->lu;
	struct scsi_task *t = command_data;
	uint32_t nblk = g_o.bs / lu->block_size;
	uint64_t lba = sl->unit * nblk;
	uint64_t lat = now_ns() - sl->t_start;
	/* A GOOD status with a residual means the target moved less (or more) data than the
	 * CDB asked for (RFC 7143 11.4.5): count it as an error, the buffer is not trustworthy. */
	bool ok = status == SCSI_STATUS_GOOD &&
	    (!t || t->residual_status == SCSI_RESIDUAL_NO_RESIDUAL || t->residual == 0);

	(void)iscsi;
	sl->busy = false;
	s->inflight--;
	if (!ok) {
		g_errors_total++;
		if (g_measuring)
			g_st.errors++;
		if (g_msgs++ < MAX_MSGS) {
			if (status == SCSI_STATUS_GOOD)
				fprintf(stderr,
					"targetd-bench: session %d: %s LBA %" PRIu64
					": residual %zu\n",
					s->idx, sl->is_write ? "write" : "read", lba, t->residual);
			else if (t && status == SCSI_STATUS_CHECK_CONDITION)
				fprintf(stderr,
					"targetd-bench: session %d: %s LBA %" PRIu64 ": %s/%s\n",
					s->idx, sl->is_write ? "write" : "read", lba,
					scsi_sense_key_str(t->sense.key),
					scsi_sense_ascq_str(t->sense.ascq));
			else
				fprintf(stderr,
					"targetd-bench: session %d: %s LBA %" PRIu64
					": status %#x: %s\n",
					s->idx, sl->is_write ? "write" : "read", lba,
					(unsigned)status, iscsi_get_error(s->iscsi));
		}
	}
	if (g_o.verify) {
		if (sl->is_write) {
			/* a failed write leaves the blocks' content unknown */
			for (uint32_t b = 0; b < nblk; b++)
				lu->gen[lba + b] = ok ? sl->gen : 0;
		} else if (ok) {
			unsigned bad = pattern_check(s, sl->buf, lba, nblk);

			if (bad) {
				g_errors_total++;
				if (g_measuring)
					g_st.verify_errors += bad;
			}
		}
		lu->busy[sl->unit] = 0;
	}
	if (g_measuring && ok) {
		if (sl->is_write) {
			bench_hist_add(&g_st.wr, lat);
			g_st.bytes_wr += g_o.bs;
		} else {
			bench_hist_add(&g_st.rd, lat);
			g_st.bytes_rd += g_o.bs;
		}
	}
	if (t)
		scsi_free_scsi_task(t);
	if (!g_stopping && s->state == SS_READY)
		slot_idle(sl);
}

/* ---- connection setup ---------------------------------------------------------- */

static uint64_t churn_interval(struct session *s)
{
	double f = 0.5 + (double)(rng_next(&s->rng) % 1000) / 1000.0;

	return (uint64_t)(g_o.churn_s * f * 1e9);
}

/* A re-login failed (--churn): counted, the context is replaced and tried again later. */
static void relogin_failed(struct session *s, const char *what)
{
	g_ch.relogin_errors++;
	if (g_churn_msgs++ < MAX_MSGS)
		fprintf(stderr, "targetd-bench: session %d: re-login: %s: %s\n", s->idx, what,
			iscsi_get_error(s->iscsi));
	s->state = SS_LOGGED_OUT;
	s->t_state = now_ns() + RELOGIN_RETRY_NS;
}

/* The target dropped a logged-in connection (--churn): an error; reconnect after 1 s. */
static void session_dropped(struct session *s)
{
	g_errors_total++;
	if (g_measuring)
		g_st.errors++;
	g_ch.drops++;
	if (g_churn_msgs++ < MAX_MSGS)
		fprintf(stderr, "targetd-bench: session %d: connection lost: %s\n", s->idx,
			iscsi_get_error(s->iscsi));
	s->state = SS_LOGGED_OUT;
	s->t_state = now_ns() + RELOGIN_RETRY_NS;
}

/* The session is logged in and sized: start (or, after a re-login, resume) its I/O. */
static void session_ready(struct session *s)
{
	s->state = SS_READY;
	if (g_o.churn_s > 0)
		s->t_churn = now_ns() + churn_interval(s);
	if (!s->relogin)
		return; /* first login: slots are set up and started by main() */
	g_ch.logins++;
	if (g_stopping)
		return;
	for (int q = 0; q < g_o.qd; q++)
		if (!s->slots[q].busy)
			slot_idle(&s->slots[q]);
}

static void capacity_cb(struct iscsi_context *iscsi, int status, void *command_data, void *priv)
{
	struct session *s = priv;
	struct scsi_task *t = command_data;
	struct scsi_readcapacity16 *rc16 = NULL;

	if (status == SCSI_STATUS_GOOD && t)
		rc16 = scsi_datain_unmarshall(t);
	if (s->relogin &&
	    (!rc16 || s->lu->block_size != rc16->block_length ||
	     s->lu->n_blocks != rc16->returned_lba + 1)) {
		relogin_failed(s, "READ CAPACITY(16) failed or changed");
	} else if (s->relogin) {
		session_ready(s);
	} else if (!rc16 || rc16->block_length == 0 || rc16->block_length % 512) {
		fprintf(stderr, "targetd-bench: session %d: READ CAPACITY(16) failed: %s\n", s->idx,
			iscsi_get_error(iscsi));
		s->state = SS_DEAD;
	} else if (s->lu->block_size &&
		   (s->lu->block_size != rc16->block_length ||
		    s->lu->n_blocks != rc16->returned_lba + 1)) {
		fprintf(stderr, "targetd-bench: session %d: capacity differs between sessions\n",
			s->idx);
		s->state = SS_DEAD;
	} else {
		s->lu->block_size = rc16->block_length;
		s->lu->n_blocks = rc16->returned_lba + 1; /* SBC-4 5.20.2: last LBA */
		session_ready(s);
	}
	if (t)
		scsi_free_scsi_task(t);
}

static void connect_cb(struct iscsi_context *iscsi, int status, void *command_data, void *priv)
{
	struct session *s = priv;

	(void)command_data;
	if (status != SCSI_STATUS_GOOD && g_o.churn_s > 0) {
		switch (s->state) {
		case SS_LOGGING_OUT:
		case SS_LOGGED_OUT:
		case SS_DEAD:
			return; /* the teardown after our own logout */
		case SS_CONNECTING:
		case SS_CAPACITY:
			if (s->relogin) {
				relogin_failed(s, "login failed");
				return;
			}
			break;
		case SS_READY:
		case SS_DRAINING:
			session_dropped(s);
			return;
		}
	}
	if (status != SCSI_STATUS_GOOD) {
		if (s->state != SS_DEAD) {
			fprintf(stderr, "targetd-bench: session %d: %s: %s\n", s->idx,
				s->state == SS_CONNECTING ? "login failed" : "connection lost",
				iscsi_get_error(iscsi));
			g_errors_total++;
		}
		s->state = SS_DEAD;
		return;
	}
	if (s->state != SS_CONNECTING)
		return;
	s->state = SS_CAPACITY;
	if (!iscsi_readcapacity16_task(iscsi, s->url->lun, capacity_cb, s)) {
		if (s->relogin) {
			relogin_failed(s, "READ CAPACITY(16)");
			return;
		}
		fprintf(stderr, "targetd-bench: session %d: READ CAPACITY(16): %s\n", s->idx,
			iscsi_get_error(iscsi));
		s->state = SS_DEAD;
	}
}

static struct lu *lu_for(const struct iscsi_url *u)
{
	char key[sizeof(((struct lu *)0)->key)];

	snprintf(key, sizeof(key), "%s|%s|%d", u->portal, u->target, u->lun);
	for (int i = 0; i < g_n_lus; i++)
		if (!strcmp(g_lus[i].key, key))
			return &g_lus[i];
	snprintf(g_lus[g_n_lus].key, sizeof(g_lus[g_n_lus].key), "%s", key);
	return &g_lus[g_n_lus++];
}

static int session_open(struct session *s, const char *url)
{
	char name[300];

	s->url_str = url;
	snprintf(name, sizeof(name), "%s:%ld.%d",
		 g_o.initiator ? g_o.initiator : "iqn.2026-12.io.targetd:bench", (long)getpid(),
		 s->idx);
	s->iscsi = iscsi_create_context(name);
	if (!s->iscsi)
		return -ENOMEM;
	s->url = iscsi_parse_full_url(s->iscsi, url);
	if (!s->url) {
		fprintf(stderr, "targetd-bench: bad URL '%s': %s\n", url,
			iscsi_get_error(s->iscsi));
		return -EINVAL;
	}
	iscsi_set_targetname(s->iscsi, s->url->target);
	iscsi_set_session_type(s->iscsi, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(
	    s->iscsi, g_o.crc_digest ? ISCSI_HEADER_DIGEST_CRC32C : ISCSI_HEADER_DIGEST_NONE);
	iscsi_set_noautoreconnect(s->iscsi, 1);
	iscsi_set_isid_random(s->iscsi, (uint32_t)(getpid() * 1024 + s->idx), 0);
	if (s->url->user[0] &&
	    iscsi_set_initiator_username_pwd(s->iscsi, s->url->user, s->url->passwd))
		return -EINVAL;
	s->lu = lu_for(s->url);
	if (!s->relogin)
		s->rng =
		    0x9E3779B97F4A7C15ULL ^ ((uint64_t)getpid() << 20) ^ (uint64_t)(s->idx + 1);
	s->state = SS_CONNECTING;
	if (iscsi_full_connect_async(s->iscsi, s->url->portal, s->url->lun, connect_cb, s)) {
		fprintf(stderr, "targetd-bench: session %d: connect %s: %s\n", s->idx,
			s->url->portal, iscsi_get_error(s->iscsi));
		return -EIO;
	}
	return 0;
}

/* iscsi_service() with --cork: libiscsi 1.19 sends a WRITE's BHS (send) and
 * its data (writev) in two calls on a TCP_NODELAY socket, so each goes out as
 * its own segment, and every PDU in its queue likewise. Corked, what one
 * service pass writes leaves in as few segments as fit, when the cork is
 * pulled (tcp(7) TCP_CORK), as the Linux initiator's MSG_MORE does for a
 * PDU's parts. Costs two setsockopt() per pass. */
static int service(struct session *s, int fd, short revents)
{
	int on = 1, off = 0, r;

	if (!g_o.cork)
		return iscsi_service(s->iscsi, revents);
	setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
	r = iscsi_service(s->iscsi, revents);
	if (r >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_CORK, &off, sizeof(off));
	return r;
}

/* One poll() over every live session; returns -1 on a poll failure. */
static int poll_once(struct pollfd *pfd, int timeout_ms)
{
	int n = 0, r;

	for (int i = 0; i < g_n_sess; i++) {
		if (g_sess[i].state == SS_DEAD || g_sess[i].state == SS_LOGGED_OUT) {
			pfd[i].fd = -1;
			continue;
		}
		pfd[i].fd = iscsi_get_fd(g_sess[i].iscsi);
		pfd[i].events = (short)iscsi_which_events(g_sess[i].iscsi);
		pfd[i].revents = 0;
		n++;
	}
	if (!n)
		return 0;
	r = poll(pfd, (nfds_t)g_n_sess, timeout_ms);
	if (r < 0)
		return errno == EINTR ? 0 : -1;
	for (int i = 0; i < g_n_sess; i++) {
		struct session *s = &g_sess[i];

		if (s->state == SS_DEAD || s->state == SS_LOGGED_OUT || pfd[i].fd < 0 ||
		    !pfd[i].revents)
			continue;
		if (service(s, pfd[i].fd, pfd[i].revents) < 0) {
			if (g_o.churn_s > 0 && s->state == SS_LOGGING_OUT) {
				/* the target closed the connection after the Logout Response */
				s->state = SS_LOGGED_OUT;
				s->t_state = now_ns();
				continue;
			}
			if (g_o.churn_s > 0 && s->relogin &&
			    (s->state == SS_CONNECTING || s->state == SS_CAPACITY)) {
				relogin_failed(s, "connection");
				continue;
			}
			if (g_o.churn_s > 0 && (s->state == SS_READY || s->state == SS_DRAINING)) {
				session_dropped(s);
				continue;
			}
			if (s->state == SS_LOGGED_OUT)
				continue; /* a callback inside iscsi_service handled it */
			if (s->state != SS_DEAD) {
				fprintf(stderr, "targetd-bench: session %d: %s\n", s->idx,
					iscsi_get_error(s->iscsi));
				g_errors_total++;
				if (g_measuring)
					g_st.errors++;
			}
			s->state = SS_DEAD;
		}
	}
	return 0;
}

/* ---- churn, rate, progress --------------------------------------------------- */

static void logout_cb(struct iscsi_context *iscsi, int status, void *command_data, void *priv)
{
	struct session *s = priv;

	(void)command_data;
	if (s->state != SS_LOGGING_OUT)
		return; /* cancelled while the context is destroyed */
	if (status == SCSI_STATUS_GOOD) {
		g_ch.logouts++;
	} else {
		g_ch.logout_errors++;
		if (g_churn_msgs++ < MAX_MSGS)
			fprintf(stderr, "targetd-bench: session %d: logout: %s\n", s->idx,
				iscsi_get_error(iscsi));
	}
	s->state = SS_LOGGED_OUT;
	s->t_state = now_ns();
}

static void session_teardown(struct session *s)
{
	/* the URL is allocated from its context: free it first */
	if (s->url)
		iscsi_destroy_url(s->url);
	s->url = NULL;
	if (s->iscsi)
		iscsi_destroy_context(s->iscsi); /* in-flight commands: io_cb with CANCELLED */
	s->iscsi = NULL;
}

static int session_open(struct session *s, const char *url);

/* --churn: move every session along READY -> DRAINING -> LOGGING_OUT -> LOGGED_OUT -> login. */
static void churn_tick(uint64_t now)
{
	for (int i = 0; i < g_n_sess; i++) {
		struct session *s = &g_sess[i];

		switch (s->state) {
		case SS_READY:
			if (now >= s->t_churn) {
				s->state = SS_DRAINING;
				s->t_state = now;
			}
			break;
		case SS_DRAINING:
			if (s->inflight && now - s->t_state > CHURN_STUCK_NS) {
				fprintf(stderr,
					"targetd-bench: session %d: %d commands stuck before "
					"logout\n",
					s->idx, s->inflight);
				g_errors_total++;
				s->state = SS_LOGGED_OUT; /* teardown cancels them: errors */
				s->t_state = now;
			} else if (!s->inflight) {
				/* RFC 7143 11.14.1: reason 0, close the session */
				if (iscsi_logout_async(s->iscsi, logout_cb, s)) {
					g_ch.logout_errors++;
					s->state = SS_LOGGED_OUT;
				} else {
					s->state = SS_LOGGING_OUT;
				}
				s->t_state = now;
			}
			break;
		case SS_LOGGING_OUT:
			if (now - s->t_state > CHURN_STUCK_NS) {
				g_ch.logout_errors++;
				s->state = SS_LOGGED_OUT;
				s->t_state = now;
			}
			break;
		case SS_LOGGED_OUT:
			if (now < s->t_state)
				break;
			session_teardown(s);
			s->relogin = true;
			if (session_open(s, s->url_str)) {
				g_ch.relogin_errors++;
				session_teardown(s);
				s->state = SS_LOGGED_OUT;
				s->t_state = now + RELOGIN_RETRY_NS;
			}
			break;
		case SS_CONNECTING:
		case SS_CAPACITY:
		case SS_DEAD:
			break;
		}
	}
}

/* --rate: hand out the tokens earned since the last call to the waiting slots, in order. */
static void rate_pump(uint64_t now)
{
	double burst = g_o.rate / 100 > 1 ? g_o.rate / 100 : 1; /* 10 ms worth */

	g_credit += (double)(now - g_rate_t) * 1e-9 * g_o.rate;
	g_rate_t = now;
	if (g_credit > burst)
		g_credit = burst;
	while (g_q_len && g_credit >= 1) {
		struct slot *sl = g_q[g_q_head];

		g_q_head = (g_q_head + 1) % g_q_cap;
		g_q_len--;
		sl->queued = false;
		if (g_stopping || sl->s->state != SS_READY || sl->busy)
			continue; /* re-queued when its session is READY again */
		g_credit -= 1;
		if (submit(sl))
			sl->s->state = SS_DEAD;
	}
}

static int count_state(enum sess_state st);

static void progress(uint64_t now, uint64_t t0)
{
	fprintf(stderr,
		"targetd-bench: progress t=%.0fs ios=%" PRIu64 " errors=%" PRIu64
		" verify_errors=%" PRIu64 " logouts=%" PRIu64 " logins=%" PRIu64
		" relogin_errors=%" PRIu64 " logout_errors=%" PRIu64 " drops=%" PRIu64
		" ready=%d\n",
		(double)(now - t0) / 1e9, g_st.rd.count + g_st.wr.count, g_st.errors,
		g_st.verify_errors, g_ch.logouts, g_ch.logins, g_ch.relogin_errors,
		g_ch.logout_errors, g_ch.drops, count_state(SS_READY));
}

static int count_state(enum sess_state st)
{
	int n = 0;

	for (int i = 0; i < g_n_sess; i++)
		n += g_sess[i].state == st;
	return n;
}

static int inflight_total(void)
{
	int n = 0;

	for (int i = 0; i < g_n_sess; i++)
		if (g_sess[i].state != SS_DEAD)
			n += g_sess[i].inflight;
	return n;
}

static int setup_lus(void)
{
	for (int i = 0; i < g_n_lus; i++) {
		struct lu *lu = &g_lus[i];
		uint64_t bytes = lu->n_blocks * lu->block_size;

		if (!lu->block_size)
			continue; /* no session reached it */
		if (g_o.bs % lu->block_size) {
			fprintf(stderr,
				"targetd-bench: --bs %u is not a multiple of %s block size %u\n",
				g_o.bs, lu->key, lu->block_size);
			return -EINVAL;
		}
		if (g_o.size && g_o.size < bytes)
			bytes = g_o.size;
		lu->n_units = bytes / g_o.bs;
		if (lu->n_units < 1 ||
		    (g_o.verify && lu->n_units <= (uint64_t)g_o.qd * (uint64_t)g_o.sessions)) {
			fprintf(stderr, "targetd-bench: %s: working range too small for bs/qd\n",
				lu->key);
			return -EINVAL;
		}
		if (g_o.verify) {
			lu->gen = calloc(lu->n_units * (g_o.bs / lu->block_size), sizeof(*lu->gen));
			lu->busy = calloc(lu->n_units, 1);
			if (!lu->gen || !lu->busy)
				return -ENOMEM;
		}
	}
	return 0;
}

static int setup_slots(void)
{
	if (g_o.rate > 0) {
		g_q_cap = (size_t)g_n_sess * (size_t)g_o.qd;
		g_q = calloc(g_q_cap, sizeof(*g_q));
		if (!g_q)
			return -ENOMEM;
	}
	for (int i = 0; i < g_n_sess; i++) {
		struct session *s = &g_sess[i];

		s->slots = calloc((size_t)g_o.qd, sizeof(*s->slots));
		if (!s->slots)
			return -ENOMEM;
		if (s->lu->n_units)
			s->seq_unit = (s->lu->n_units / (uint64_t)g_n_sess) * (uint64_t)i;
		for (int q = 0; q < g_o.qd; q++) {
			struct slot *sl = &s->slots[q];

			if (posix_memalign((void **)&sl->buf, 4096, g_o.bs))
				return -ENOMEM;
			/* non-verify writes send this; avoid all-zero data */
			for (uint32_t k = 0; k < g_o.bs; k++)
				sl->buf[k] = (uint8_t)(k * 31 + (uint32_t)q);
			sl->s = s;
			sl->iov.iov_base = sl->buf;
			sl->iov.iov_len = g_o.bs;
		}
	}
	return 0;
}

/* ---- report ----------------------------------------------------------------------- */

static void report(double elapsed, uint64_t cpu_ticks, bool have_cpu, double self_cpu_pct)
{
	struct bench_hist all = g_st.rd;
	uint64_t ios, bytes;
	double iops, mbps, cpu_us = -1;
	long hz = sysconf(_SC_CLK_TCK);

	bench_hist_merge(&all, &g_st.wr);
	ios = all.count;
	bytes = g_st.bytes_rd + g_st.bytes_wr;
	iops = elapsed > 0 ? (double)ios / elapsed : 0;
	mbps = elapsed > 0 ? (double)bytes / elapsed / 1e6 : 0;
	if (have_cpu && ios)
		cpu_us = (double)cpu_ticks * 1e6 / (double)hz / (double)ios;

	if (g_o.json) {
		const struct bench_hist *h[3] = {&all, &g_st.rd, &g_st.wr};
		const char *nm[3] = {"all", "read", "write"};

		printf("{\"rw\":\"%s\",\"mix\":%d,\"bs\":%u,\"qd\":%d,\"sessions\":%d,"
		       "\"time_s\":%.3f,\"ios\":%" PRIu64 ",\"iops\":%.1f,\"mbps\":%.2f,"
		       "\"errors\":%" PRIu64 ",\"verify_errors\":%" PRIu64 ",\"verify\":%s,"
		       "\"target_cpu_us_per_io\":%.2f,\"target_cpu_pct\":%.1f,"
		       "\"bench_cpu_pct\":%.1f",
		       bench_rw_names[g_o.rw],
		       g_o.rw == RW_RANDRW ? g_o.mix
					   : (g_o.rw == RW_RANDREAD || g_o.rw == RW_READ ? 100 : 0),
		       g_o.bs, g_o.qd, g_n_sess, elapsed, ios, iops, mbps, g_st.errors,
		       g_st.verify_errors, g_o.verify ? "true" : "false", cpu_us,
		       have_cpu ? (double)cpu_ticks * 100.0 / (double)hz / elapsed : -1.0,
		       self_cpu_pct);
		printf(",\"cork\":%s,\"rate\":%.0f,\"churn_s\":%.1f,\"logouts\":%" PRIu64
		       ",\"logins\":%" PRIu64 ",\"relogin_errors\":%" PRIu64
		       ",\"logout_errors\":%" PRIu64 ",\"drops\":%" PRIu64,
		       g_o.cork ? "true" : "false", g_o.rate, g_o.churn_s, g_ch.logouts,
		       g_ch.logins, g_ch.relogin_errors, g_ch.logout_errors, g_ch.drops);
		for (int i = 0; i < 3; i++)
			printf(",\"%s\":{\"ios\":%" PRIu64
			       ",\"lat_us\":{\"mean\":%.1f,\"p50\":%.1f,"
			       "\"p99\":%.1f,\"p99.9\":%.1f,\"max\":%.1f}}",
			       nm[i], h[i]->count, bench_hist_mean(h[i]) / 1e3,
			       (double)bench_hist_pct(h[i], 50.0) / 1e3,
			       (double)bench_hist_pct(h[i], 99.0) / 1e3,
			       (double)bench_hist_pct(h[i], 99.9) / 1e3, (double)h[i]->max / 1e3);
		printf("}\n");
		return;
	}
	printf("%s bs=%u qd=%d sessions=%d%s time=%.2fs\n", bench_rw_names[g_o.rw], g_o.bs, g_o.qd,
	       g_n_sess, g_o.verify ? " verify" : "", elapsed);
	printf("  ios=%" PRIu64 " iops=%.0f MB/s=%.1f errors=%" PRIu64 " verify_errors=%" PRIu64
	       "\n",
	       ios, iops, mbps, g_st.errors, g_st.verify_errors);
	for (int i = 0; i < 2; i++) {
		const struct bench_hist *h = i ? &g_st.wr : &g_st.rd;

		if (!h->count)
			continue;
		printf("  %-5s ios=%" PRIu64 " lat us: mean=%.1f p50=%.1f p99=%.1f p99.9=%.1f "
		       "max=%.1f\n",
		       i ? "write" : "read", h->count, bench_hist_mean(h) / 1e3,
		       (double)bench_hist_pct(h, 50.0) / 1e3, (double)bench_hist_pct(h, 99.0) / 1e3,
		       (double)bench_hist_pct(h, 99.9) / 1e3, (double)h->max / 1e3);
	}
	if (g_o.churn_s > 0)
		printf("  churn: logouts=%" PRIu64 " logins=%" PRIu64 " relogin_errors=%" PRIu64
		       " logout_errors=%" PRIu64 " drops=%" PRIu64 "\n",
		       g_ch.logouts, g_ch.logins, g_ch.relogin_errors, g_ch.logout_errors,
		       g_ch.drops);
	if (have_cpu)
		printf("  target cpu: %.2f us/io (%.1f%% of a core)\n", cpu_us,
		       (double)cpu_ticks * 100.0 / (double)hz / elapsed);
	printf("  bench cpu: %.1f%% of a core\n", self_cpu_pct);
}

/* One socket per session: lift the soft RLIMIT_NOFILE towards the hard one if needed. */
static void raise_fd_limit(rlim_t need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need ? rl.rlim_max : need;
	if (setrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur < need)
		fprintf(stderr,
			"targetd-bench: RLIMIT_NOFILE %lu is below the %lu sockets needed\n",
			(unsigned long)rl.rlim_cur, (unsigned long)need);
}

int main(int argc, char **argv)
{
	struct pollfd *pfd;
	uint64_t t0, t_measure, t_end, t_progress, cpu0 = 0, cpu1 = 0, self0 = 0, self1;
	double elapsed;
	bool have_cpu = false;
	int rc, n_sess;

	rc = bench_parse_args(argc, argv, &g_o);
	if (rc)
		return rc;
	if (g_o.pid > 0 && bench_proc_cpu_ticks(g_o.pid, &cpu0)) {
		fprintf(stderr, "targetd-bench: cannot read /proc/%ld/stat\n", g_o.pid);
		return 2;
	}
	n_sess = g_o.n_urls * g_o.sessions;
	raise_fd_limit((rlim_t)n_sess + 64);
	g_sess = calloc((size_t)n_sess, sizeof(*g_sess));
	g_lus = calloc((size_t)n_sess, sizeof(*g_lus));
	pfd = calloc((size_t)n_sess, sizeof(*pfd));
	if (!g_sess || !g_lus || !pfd)
		return 1;
	for (int u = 0; u < g_o.n_urls; u++)
		for (int k = 0; k < g_o.sessions; k++) {
			struct session *s = &g_sess[g_n_sess];

			s->idx = g_n_sess++;
			if (session_open(s, g_o.urls[u]))
				return 1;
		}

	/* Log in and size every LU (READ CAPACITY(16)) before any I/O. */
	t0 = now_ns();
	while (count_state(SS_CONNECTING) + count_state(SS_CAPACITY) > 0) {
		if (now_ns() - t0 > 30ULL * 1000000000ULL) {
			fprintf(stderr, "targetd-bench: login timed out\n");
			return 1;
		}
		if (poll_once(pfd, 100))
			return 1;
	}
	if (count_state(SS_READY) != g_n_sess) {
		fprintf(stderr, "targetd-bench: %d of %d sessions failed to log in\n",
			g_n_sess - count_state(SS_READY), g_n_sess);
		return 1;
	}
	if (setup_lus() || setup_slots())
		return 1;

	g_rate_t = now_ns();
	for (int i = 0; i < g_n_sess; i++) {
		if (g_o.churn_s > 0) /* spread the first logouts over the first interval */
			g_sess[i].t_churn = g_rate_t + churn_interval(&g_sess[i]);
		for (int q = 0; q < g_o.qd; q++) {
			if (g_o.rate > 0)
				slot_idle(&g_sess[i].slots[q]);
			else if (submit(&g_sess[i].slots[q]))
				return 1;
		}
	}

	t0 = now_ns();
	t_progress = t0;
	t_measure = t0 + (uint64_t)(g_o.ramp_s * 1e9);
	t_end = t_measure + (uint64_t)(g_o.time_s * 1e9);
	if (!g_o.ramp_s) {
		g_measuring = true;
		self0 = bench_self_cpu_us();
		if (g_o.pid > 0)
			bench_proc_cpu_ticks(g_o.pid, &cpu0);
	}
	for (;;) {
		uint64_t now = now_ns();
		int live = g_n_sess - count_state(SS_DEAD);
		int timeout;

		if (!g_measuring && now >= t_measure) {
			g_measuring = true;
			self0 = bench_self_cpu_us();
			if (g_o.pid > 0)
				bench_proc_cpu_ticks(g_o.pid, &cpu0);
		}
		if (now >= t_end || !live ||
		    (g_o.ios && g_submitted >= g_o.ios && !inflight_total()))
			break;
		if (g_o.churn_s > 0)
			churn_tick(now);
		if (g_o.rate > 0)
			rate_pump(now);
		if (g_o.progress_s > 0 && now - t_progress >= (uint64_t)(g_o.progress_s * 1e9)) {
			t_progress = now;
			progress(now, t0);
		}
		timeout = (int)((t_end - now) / 1000000 + 1);
		if (g_o.churn_s > 0 && timeout > 100)
			timeout = 100;
		if (g_o.progress_s > 0 && timeout > 1000)
			timeout = 1000;
		if (g_o.rate > 0 && g_q_len) {
			int wait = g_credit >= 1 ? 0 : (int)((1 - g_credit) * 1e3 / g_o.rate) + 1;

			if (timeout > wait)
				timeout = wait;
		}
		if (poll_once(pfd, timeout))
			return 1;
	}
	t_end = now_ns();
	g_measuring = false;
	self1 = bench_self_cpu_us();
	if (g_o.pid > 0 && !bench_proc_cpu_ticks(g_o.pid, &cpu1))
		have_cpu = true;
	elapsed = (double)(t_end - t_measure) / 1e9;

	/* Drain: no new submissions, wait for what is in flight (still verified). */
	g_stopping = true;
	for (;;) {
		int inflight = inflight_total();

		if (!inflight)
			break;
		if (now_ns() - t_end > DRAIN_NS) {
			fprintf(stderr, "targetd-bench: %d commands still in flight after drain\n",
				inflight);
			g_errors_total += (uint64_t)inflight;
			break;
		}
		if (poll_once(pfd, 100))
			return 1;
	}
	rc = g_errors_total || count_state(SS_DEAD) ? 1 : 0;
	report(elapsed, cpu1 - cpu0, have_cpu,
	       elapsed > 0 ? (double)(self1 - self0) / 1e4 / elapsed : 0);
	for (int i = 0; i < g_n_sess; i++) {
		struct session *s = &g_sess[i];

		if (s->state == SS_READY || s->state == SS_DRAINING)
			iscsi_logout_sync(s->iscsi);
		s->state = SS_DEAD; /* callbacks run by the teardown change nothing */
		session_teardown(s);
		if (s->slots)
			for (int q = 0; q < g_o.qd; q++)
				free(s->slots[q].buf);
		free(s->slots);
	}
	for (int i = 0; i < g_n_lus; i++) {
		free(g_lus[i].gen);
		free(g_lus[i].busy);
	}
	free(g_lus);
	free(g_q);
	free(g_sess);
	free(pfd);
	return rc;
}
