/* SPDX-License-Identifier: MIT */
/* targetd-bench: shared declarations between the driver, argument parsing and /proc sampling. */
#ifndef TARGETD_BENCH_H
#define TARGETD_BENCH_H

#include <stdbool.h>
#include <stdint.h>

#define MAX_URLS 64
#define MAX_SESSIONS 1024

enum rw_mode {
	RW_RANDREAD,
	RW_RANDWRITE,
	RW_READ,
	RW_WRITE,
	RW_RANDRW
};

extern const char *const bench_rw_names[];

struct opts {
	const char *urls[MAX_URLS];
	int n_urls;
	int sessions; /* per URL */
	enum rw_mode rw;
	int mix; /* read percentage for randrw */
	uint32_t bs;
	int qd; /* outstanding commands per session */
	double time_s, ramp_s;
	uint64_t size; /* bytes of each LU to use; 0 = all */
	uint64_t ios; /* stop after this many commands in total; 0 = run for --time */
	bool verify, json, crc_digest;
	bool cork; /* TCP_CORK around each iscsi_service() */
	long pid;
	const char *initiator;
	double rate; /* total commands per second over all sessions; 0 = closed loop */
	double churn_s; /* mean seconds between logout + re-login per session; 0 = none */
	double progress_s; /* seconds between progress lines on stderr; 0 = none */
};

/* Fills *o from argv (o holds the defaults on entry). 0, or the exit status (2) after usage. */
int bench_parse_args(int argc, char **argv, struct opts *o);

/* utime + stime of the whole process pid in clock ticks (proc(5) fields 14, 15): 0 or -errno. */
int bench_proc_cpu_ticks(long pid, uint64_t *ticks);
/* This process's user+system CPU time in microseconds. */
uint64_t bench_self_cpu_us(void);

#endif
