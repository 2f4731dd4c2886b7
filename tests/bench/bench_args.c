// SPDX-License-Identifier: MIT
/* targetd-bench: command-line parsing. Bad arguments print usage and give exit status 2. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

const char *const bench_rw_names[] = {
    [RW_RANDREAD] = "randread", [RW_RANDWRITE] = "randwrite", [RW_READ] = "read",
    [RW_WRITE] = "write",       [RW_RANDRW] = "randrw",
};
#define N_RW 5

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: targetd-bench --url iscsi://HOST[:PORT]/IQN/LUN [--url ...] [options]\n"
	    "  --url URL        LU to load (repeatable; CHAP as iscsi://user%%pass@host/...)\n"
	    "  --sessions N     sessions per URL (default 1), all in one poll loop\n"
	    "  --rw MODE        randread|randwrite|read|write|randrw (default randread)\n"
	    "  --mix PCT        read percentage for randrw (default 50)\n"
	    "  --bs SIZE        I/O size, multiple of the LU block size (default 4k)\n"
	    "  --qd N           outstanding commands per session (default 1)\n"
	    "  --time SECONDS   measured duration (default 10)\n"
	    "  --ramp SECONDS   warm-up before measuring (default 0)\n"
	    "  --size SIZE      use only the first SIZE bytes of each LU (default all)\n"
	    "  --ios N          stop after N commands in total (fixed work, e.g. for callgrind;\n"
	    "                   --time is then an upper bound)\n"
	    "  --verify         write LBA+generation patterns and check every read\n"
	    "  --pid PID        target PID: report target CPU (utime+stime) per I/O\n"
	    "  --digest crc32c  negotiate HeaderDigest=CRC32C (default None)\n"
	    "  --initiator IQN  initiator name prefix (default iqn.2026-12.io.targetd:bench)\n"
	    "  --json           one JSON object on stdout instead of text\n"
	    "  --rate IOPS      cap on commands per second over all sessions (default: none)\n"
	    "  --churn SECONDS  each session logs out and in again after a random interval of\n"
	    "                   0.5x to 1.5x SECONDS (re-login failures are counted and retried)\n"
	    "  --progress S     a progress line on stderr every S seconds\n"
	    "  --cork           hold each session's socket corked (TCP_CORK) while libiscsi\n"
	    "                   writes, so a WRITE's BHS and data (and the commands queued in\n"
	    "                   one pass) leave together, as MSG_MORE does in the Linux\n"
	    "                   initiator; libiscsi otherwise sends them in separate segments\n");
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return -EINVAL;
	switch (*end) {
	case 'k':
	case 'K':
		v <<= 10;
		end++;
		break;
	case 'm':
	case 'M':
		v <<= 20;
		end++;
		break;
	case 'g':
	case 'G':
		v <<= 30;
		end++;
		break;
	case 't':
	case 'T':
		v <<= 40;
		end++;
		break;
	default:
		break;
	}
	if (*end == 'i' || *end == 'B')
		end++;
	if (*end == 'B')
		end++;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		return -EINVAL;
	*out = v;
	return 0;
}

static int bad_arg(const char *opt, const char *val)
{
	fprintf(stderr, "targetd-bench: invalid %s '%s'\n", opt, val ? val : "");
	usage(stderr);
	return 2;
}

int bench_parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = {
	    {"url", required_argument, NULL, 'u'},
	    {"sessions", required_argument, NULL, 's'},
	    {"rw", required_argument, NULL, 'r'},
	    {"mix", required_argument, NULL, 'm'},
	    {"bs", required_argument, NULL, 'b'},
	    {"qd", required_argument, NULL, 'q'},
	    {"time", required_argument, NULL, 't'},
	    {"ramp", required_argument, NULL, 'R'},
	    {"size", required_argument, NULL, 'S'},
	    {"verify", no_argument, NULL, 'v'},
	    {"pid", required_argument, NULL, 'p'},
	    {"digest", required_argument, NULL, 'd'},
	    {"initiator", required_argument, NULL, 'i'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {"ios", required_argument, NULL, 'n'},
	    {"rate", required_argument, NULL, 'L'},
	    {"churn", required_argument, NULL, 'C'},
	    {"progress", required_argument, NULL, 'P'},
	    {"cork", no_argument, NULL, 'K'},
	    {NULL, 0, NULL, 0},
	};
	bool mix_given = false;
	int c;
	long l;
	uint64_t u;

	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (c) {
		case 'u':
			if (o->n_urls == MAX_URLS || strncmp(optarg, "iscsi://", 8))
				return bad_arg("--url", optarg);
			o->urls[o->n_urls++] = optarg;
			break;
		case 's':
			if (parse_int(optarg, 1, MAX_SESSIONS, &l))
				return bad_arg("--sessions", optarg);
			o->sessions = (int)l;
			break;
		case 'r': {
			size_t i;

			for (i = 0; i < N_RW; i++)
				if (!strcmp(optarg, bench_rw_names[i]))
					break;
			if (i == N_RW)
				return bad_arg("--rw", optarg);
			o->rw = (enum rw_mode)i;
			break;
		}
		case 'm':
			if (parse_int(optarg, 0, 100, &l))
				return bad_arg("--mix", optarg);
			o->mix = (int)l;
			mix_given = true;
			break;
		case 'b':
			if (parse_size(optarg, &u) || u < 512 || u > (16u << 20) || u % 512)
				return bad_arg("--bs", optarg);
			o->bs = (uint32_t)u;
			break;
		case 'q':
			if (parse_int(optarg, 1, 1024, &l))
				return bad_arg("--qd", optarg);
			o->qd = (int)l;
			break;
		case 't':
			if (parse_double(optarg, 0.1, 86400, &o->time_s))
				return bad_arg("--time", optarg);
			break;
		case 'R':
			if (parse_double(optarg, 0, 3600, &o->ramp_s))
				return bad_arg("--ramp", optarg);
			break;
		case 'S':
			if (parse_size(optarg, &u) || u == 0)
				return bad_arg("--size", optarg);
			o->size = u;
			break;
		case 'n':
			if (parse_size(optarg, &u) || u == 0)
				return bad_arg("--ios", optarg);
			o->ios = u;
			break;
		case 'L':
			if (parse_double(optarg, 1, 1e7, &o->rate))
				return bad_arg("--rate", optarg);
			break;
		case 'C':
			if (parse_double(optarg, 0.1, 86400, &o->churn_s))
				return bad_arg("--churn", optarg);
			break;
		case 'P':
			if (parse_double(optarg, 0.1, 86400, &o->progress_s))
				return bad_arg("--progress", optarg);
			break;
		case 'v':
			o->verify = true;
			break;
		case 'K':
			o->cork = true;
			break;
		case 'p':
			if (parse_int(optarg, 1, INT_MAX, &o->pid))
				return bad_arg("--pid", optarg);
			break;
		case 'd':
			if (strcmp(optarg, "crc32c") && strcmp(optarg, "none"))
				return bad_arg("--digest", optarg);
			o->crc_digest = !strcmp(optarg, "crc32c");
			break;
		case 'i':
			o->initiator = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc)
		return bad_arg("argument", argv[optind]);
	if (!o->n_urls) {
		fprintf(stderr, "targetd-bench: at least one --url is required\n");
		usage(stderr);
		return 2;
	}
	if (mix_given && o->rw != RW_RANDRW)
		return bad_arg("--mix (only with --rw randrw)", "");
	if (o->n_urls * o->sessions > MAX_SESSIONS)
		return bad_arg("--sessions (too many in total)", "");
	return 0;
}
