/* SPDX-License-Identifier: MIT */
/*
 * util_log: leveled logging to stderr, per-subsystem debug switches, rate
 * limiting for data-path errors, monotonic clock helpers.
 *
 * Each line is formatted into a stack buffer and written with one write(2) so
 * that lines from the loop thread and the worker thread never interleave.
 * When stderr is the journal (JOURNAL_STREAM names the dev:ino of fd 2, see
 * systemd.exec(5)), lines carry a "<N>" syslog priority prefix (sd-daemon(3))
 * and no program name (the journal adds it); otherwise they read
 * "progname: level: subsys: message".
 *
 * The debug switch table is written by util_log_init/util_log_set_debug at
 * start-up or reload on the loop thread and only read elsewhere: a reader on
 * the worker racing a reload may see the old or the new set for one line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "targetd/util.h"

#define LOG_MAX_SUBSYS 32
#define LOG_SUBSYS_LEN 24
#define LOG_LINE_MAX 1024

static char log_progname[32] = "targetd";
static bool log_journal;
static bool log_debug_all;
static unsigned log_debug_n;
static char log_debug_names[LOG_MAX_SUBSYS][LOG_SUBSYS_LEN];

static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	char *end;
	struct stat st;

	/* "DEV:INO" (systemd.exec(5)); strtoull, not sscanf, so an out-of-range
	 * number is refused instead of silently wrapped (CERT ERR34-C). */
	if (!js)
		return false;
	errno = 0;
	dev = strtoull(js, &end, 10);
	if (end == js || *end != ':' || errno)
		return false;
	js = end + 1;
	ino = strtoull(js, &end, 10);
	if (end == js || *end || errno)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void util_log_init(const char *progname)
{
	int saved = errno;

	if (progname) {
		const char *slash = strrchr(progname, '/');

		util_strlcpy(log_progname, slash ? slash + 1 : progname, sizeof(log_progname));
	}
	log_journal = stderr_is_journal();
	errno = saved;
}

static bool subsys_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

int util_log_set_debug(const char *csv)
{
	char names[LOG_MAX_SUBSYS][LOG_SUBSYS_LEN];
	unsigned n = 0;
	bool all = false;
	const char *p = csv ? csv : "";

	while (*p) {
		size_t len = strcspn(p, ",");

		if (len == 0) {
			p++;
			continue;
		}
		if (len >= LOG_SUBSYS_LEN || n >= LOG_MAX_SUBSYS)
			return -EINVAL;
		for (size_t i = 0; i < len; i++)
			if (!subsys_char_ok(p[i]))
				return -EINVAL;
		memcpy(names[n], p, len);
		names[n][len] = '\0';
		if (strcmp(names[n], "all") == 0)
			all = true;
		else
			n++;
		p += len;
	}
	memcpy(log_debug_names, names, sizeof(names[0]) * n);
	log_debug_n = n;
	log_debug_all = all;
	return 0;
}

bool util_log_debug_enabled(const char *subsys)
{
	if (log_debug_all)
		return true;
	if (!subsys)
		return false;
	for (unsigned i = 0; i < log_debug_n; i++)
		if (strcmp(log_debug_names[i], subsys) == 0)
			return true;
	return false;
}

static const char *level_name(enum util_log_level lvl)
{
	switch (lvl) {
	case UTIL_LOG_ERR:
		return "error";
	case UTIL_LOG_WARN:
		return "warning";
	case UTIL_LOG_NOTICE:
		return "notice";
	case UTIL_LOG_INFO:
		return "info";
	case UTIL_LOG_DEBUG:
		return "debug";
	}
	return "?";
}

void util_log(enum util_log_level lvl, const char *subsys, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	int saved = errno;
	size_t off;
	int n;
	va_list ap;

	if (log_journal)
		n = snprintf(line, sizeof(line), "<%d>%s: ", (int)lvl, subsys ? subsys : "-");
	else
		n = snprintf(line, sizeof(line), "%s: %s: %s: ", log_progname, level_name(lvl),
			     subsys ? subsys : "-");
	off = n > 0 ? (size_t)n : 0;
	if (off >= sizeof(line))
		off = sizeof(line) - 1;
	va_start(ap, fmt);
	errno = saved; /* so %m works */
	n = vsnprintf(line + off, sizeof(line) - off, fmt, ap);
	va_end(ap);
	if (n > 0)
		off += (size_t)n;
	if (off > sizeof(line) - 2) {
		off = sizeof(line) - 2; /* truncated: keep the newline */
	}
	line[off++] = '\n';
	/* One write per line; a failing stderr is not something we can report. */
	for (size_t done = 0; done < off;) {
		ssize_t w = write(STDERR_FILENO, line + done, off - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	errno = saved;
}

bool util_ratelimit_ok(struct util_ratelimit *rl)
{
	uint64_t now = util_now_ms();

	if (rl->printed == 0 && rl->suppressed == 0 && rl->window_start_ms == 0)
		rl->window_start_ms = now;
	if (now - rl->window_start_ms >= rl->interval_ms) {
		if (rl->suppressed)
			util_log(UTIL_LOG_WARN, "util", "%u messages suppressed", rl->suppressed);
		rl->window_start_ms = now;
		rl->printed = 0;
		rl->suppressed = 0;
	}
	if (rl->printed < rl->burst) {
		rl->printed++;
		return true;
	}
	rl->suppressed++;
	return false;
}

uint64_t util_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t util_now_ms(void)
{
	return util_now_ns() / 1000000u;
}
