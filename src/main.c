/* SPDX-License-Identifier: MIT */
/*
 * targetd: command line, configuration, then daemon_run(). See targetd(8).
 *
 * targetd always runs in the foreground (systemd Type=notify supervises it
 * and learns readiness through sd_notify); -f/--foreground is accepted for
 * compatibility with scripts written for daemons that fork.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "targetd/conf.h"
#include "targetd/util.h"

#ifndef TARGETD_VERSION
#define TARGETD_VERSION "0.1.0"
#endif

#define DEFAULT_CONFIG "/etc/targetd.conf"
#define MAX_ARGS 64

enum {
	OPT_CHECK = 256,
	OPT_LISTEN,
	OPT_EXPORT,
	OPT_CONTROL,
	OPT_STATE_DIR,
	OPT_IMPORT_LIO,
	OPT_TARGET,
	OPT_LUN,
	OPT_FROM_TARGET,
	OPT_FROM_LUN,
	OPT_SERIAL,
	OPT_FORCE
};

static const struct option options[] = {
    {"config", required_argument, NULL, 'c'},
    {"foreground", no_argument, NULL, 'f'},
    {"check-config", no_argument, NULL, OPT_CHECK},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"export", required_argument, NULL, OPT_EXPORT},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"control", required_argument, NULL, OPT_CONTROL},
    {"import-lio", required_argument, NULL, OPT_IMPORT_LIO},
    {"target", required_argument, NULL, OPT_TARGET},
    {"lun", required_argument, NULL, OPT_LUN},
    {"from-target", required_argument, NULL, OPT_FROM_TARGET},
    {"from-lun", required_argument, NULL, OPT_FROM_LUN},
    {"serial", required_argument, NULL, OPT_SERIAL},
    {"force", no_argument, NULL, OPT_FORCE},
    {"debug", required_argument, NULL, 'd'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: targetd [-f] [-c FILE] [--state-dir DIR] [-d SUBSYS[,...]]\n"
		"       targetd [-f] --listen ADDR:PORT ... --export IQN=PATH[,PATH...] ...\n"
		"       targetd --check-config [-c FILE]\n"
		"       targetd --import-lio FILE --target IQN --lun N\n"
		"               [-c FILE | --state-dir DIR --serial S] [--from-target IQN]\n"
		"               [--from-lun N] [--force]\n"
		"\n"
		"Userspace iSCSI target with persistent reservations.\n"
		"\n"
		"  -c, --config FILE      configuration file (default %s)\n"
		"  -f, --foreground       accepted for compatibility; targetd never forks\n"
		"      --check-config     validate the configuration, print every problem\n"
		"                         as FILE:LINE: MESSAGE (exit 1) or OK (exit 0)\n"
		"      --listen ADDR:PORT quick export: listen here (repeatable; IPv6 as\n"
		"                         [::1]:3260; default 0.0.0.0:3260; port 0 = any)\n"
		"      --export IQN=PATH[,PATH...]\n"
		"                         quick export: one target, LUNs numbered from 0\n"
		"      --state-dir DIR    persistent state (APTPL) (default /var/lib/targetd)\n"
		"      --control PATH     control socket for targetctl (default\n"
		"                         $RUNTIME_DIRECTORY/control under systemd, else none)\n"
		"      --import-lio FILE  write the persistent reservations of a Linux kernel\n"
		"                         target (LIO) APTPL file (<dbroot>/pr/aptpl_<serial>)\n"
		"                         as the state file of [lun IQN N] and exit; the LIO\n"
		"                         target/LUN default to IQN/N (--from-target/--from-lun);\n"
		"                         --serial overrides the LU's serial, --force replaces\n"
		"                         an existing state file\n"
		"  -d, --debug SUBSYS     debug log for subsystems (comma list, or \"all\")\n"
		"  -h, --help             this help\n"
		"  -V, --version          print the version\n",
		DEFAULT_CONFIG);
}

struct args {
	const char *config;
	const char *state_dir;
	const char *control;
	const char *listens[MAX_ARGS];
	const char *exports[MAX_ARGS];
	size_t n_listens, n_exports;
	bool check;
	struct daemon_import imp;
	bool has_lun;
};

/* 0..16383 (SAM-5 flat space, as conf allows); false if not a number. */
static bool parse_lun(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > 16383)
		return false;
	*out = (unsigned)v;
	return true;
}

/* 0: run; 1: exit 1; 2: exit 0 (help/version). */
static int parse_args(int argc, char **argv, struct args *a)
{
	int opt;

	while ((opt = getopt_long(argc, argv, "c:fd:hV", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			a->config = optarg;
			break;
		case 'f':
			break;
		case OPT_CHECK:
			a->check = true;
			break;
		case OPT_LISTEN:
		case OPT_EXPORT: {
			bool l = opt == OPT_LISTEN;
			size_t *n = l ? &a->n_listens : &a->n_exports;

			if (*n == MAX_ARGS) {
				fprintf(stderr, "targetd: too many --%s options (at most %d)\n",
					l ? "listen" : "export", MAX_ARGS);
				return 1;
			}
			(l ? a->listens : a->exports)[(*n)++] = optarg;
			break;
		}
		case OPT_STATE_DIR:
			a->state_dir = optarg;
			break;
		case OPT_CONTROL:
			a->control = optarg;
			break;
		case OPT_IMPORT_LIO:
			a->imp.lio_file = optarg;
			break;
		case OPT_TARGET:
			a->imp.target = optarg;
			break;
		case OPT_FROM_TARGET:
			a->imp.from_target = optarg;
			break;
		case OPT_LUN:
		case OPT_FROM_LUN: {
			bool from = opt == OPT_FROM_LUN;

			if (!parse_lun(optarg, from ? &a->imp.from_lun : &a->imp.lun)) {
				fprintf(stderr, "targetd: --%s %s: not a LUN (0..16383)\n",
					from ? "from-lun" : "lun", optarg);
				return 1;
			}
			*(from ? &a->imp.has_from_lun : &a->has_lun) = true;
			break;
		}
		case OPT_SERIAL:
			a->imp.serial = optarg;
			break;
		case OPT_FORCE:
			a->imp.force = true;
			break;
		case 'd':
			if (util_log_set_debug(optarg)) {
				fprintf(stderr, "targetd: --debug %s: not a subsystem list\n",
					optarg);
				return 1;
			}
			break;
		case 'h':
			usage(stdout);
			return 2;
		case 'V':
			printf("targetd %s\n", TARGETD_VERSION);
			return 2;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "targetd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 1;
	}
	if (a->imp.lio_file && (!a->imp.target || !a->has_lun)) {
		fprintf(stderr, "targetd: --import-lio needs --target IQN and --lun N\n");
		return 1;
	}
	if (a->imp.lio_file && (a->check || a->n_listens || a->n_exports)) {
		fprintf(stderr,
			"targetd: --import-lio does not go with --check-config, --listen "
			"or --export\n");
		return 1;
	}
	if (!a->imp.lio_file &&
	    (a->imp.target || a->has_lun || a->imp.from_target || a->imp.has_from_lun ||
	     a->imp.serial || a->imp.force)) {
		fprintf(stderr,
			"targetd: --target, --lun, --from-target, --from-lun, --serial "
			"and --force go with --import-lio\n");
		return 1;
	}
	if (a->config && (a->n_listens || a->n_exports)) {
		fprintf(stderr, "targetd: use either -c FILE or --listen/--export, not both\n");
		return 1;
	}
	return 0;
}

/* --import-lio: with -c FILE the [lun]'s serial and state_dir; else
 * --state-dir and --serial. Exit status. */
static int import_lio(struct args *a)
{
	struct conf *c = NULL;
	int r;

	if (a->config || !a->imp.serial) {
		r = conf_load(a->config ? a->config : DEFAULT_CONFIG, &c);
		if (r)
			return 1;
		a->imp.conf = c;
	}
	if (a->state_dir && a->state_dir[0] != '/') {
		log_err("import", "--state-dir %s: must be an absolute path", a->state_dir);
		conf_free(c);
		return 1;
	}
	a->imp.state_dir = a->state_dir;
	r = daemon_import_lio(&a->imp, stdout);
	conf_free(c);
	return r ? 1 : 0;
}

/* --control, else $RUNTIME_DIRECTORY/control (systemd RuntimeDirectory=;
 * the first directory if several), else no control socket. */
static const char *control_path(const struct args *a, char **buf)
{
	const char *rt = getenv("RUNTIME_DIRECTORY");

	*buf = NULL;
	if (a->control)
		return a->control;
	if (!rt || rt[0] != '/')
		return NULL;
	if (asprintf(buf, "%.*s/control", (int)strcspn(rt, ":"), rt) < 0) {
		*buf = NULL;
		return NULL;
	}
	return *buf;
}

int main(int argc, char **argv)
{
	char *ctl_buf = NULL;
	struct args a = {0};
	struct conf *c = NULL;
	bool quick;
	int r;

	util_log_init("targetd");
	r = parse_args(argc, argv, &a);
	if (r)
		return r == 2 ? 0 : 1;
	if (a.imp.lio_file)
		return import_lio(&a);
	quick = a.n_listens || a.n_exports;
	if (quick)
		r = conf_from_args(a.listens, a.n_listens, a.exports, a.n_exports, a.state_dir, &c);
	else
		r = conf_load(a.config ? a.config : DEFAULT_CONFIG, &c);
	if (a.check) {
		/* conf has already printed every problem as file:line: message. */
		if (r)
			return 1;
		printf("OK\n");
		conf_free(c);
		return 0;
	}
	if (r)
		return 1;
	if (a.state_dir && !quick) {
		/* --state-dir overrides state_dir= of the file. */
		char *s = strdup(a.state_dir);

		if (!s || a.state_dir[0] != '/') {
			log_err("daemon", "--state-dir %s: must be an absolute path", a.state_dir);
			free(s);
			conf_free(c);
			return 1;
		}
		free(c->state_dir);
		c->state_dir = s;
	}
	if (c->log_level == UTIL_LOG_DEBUG)
		util_log_set_debug("all");
	/* Quick-export mode creates its state directory; with a configuration
	 * file it must exist (systemd's StateDirectory= creates it). */
	if (quick) {
		r = daemon_make_state_dir(c->state_dir);
	} else {
		r = access(c->state_dir, W_OK | X_OK) ? -errno : 0;
		if (r)
			log_err("daemon", "%s: state_dir %s: %s", c->source, c->state_dir,
				strerror(-r));
	}
	if (r) {
		conf_free(c);
		return 1;
	}
	r = daemon_run(c, control_path(&a, &ctl_buf));
	free(ctl_buf);
	conf_free(c);
	return r;
}
