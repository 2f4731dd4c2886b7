/* SPDX-License-Identifier: MIT */
/*
 * A stand-in for targetd's process interface (READY=1 on NOTIFY_SOCKET, the
 * "ready, listening on" line, exit 0 on SIGTERM) that commits one memcheck
 * error on purpose, chosen by argv[1]: leak, invalid-read, uninit-write,
 * open-fd, or clean. test_valgrind_selfcheck.py runs it under the harness's
 * valgrind mode and requires each error to fail the run (and clean to pass):
 * a failure there is the harness's, not the daemon's. Never built with
 * sanitizers (tests/integration/CMakeLists.txt): ASan and memcheck exclude
 * each other.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

static void *volatile sink;

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "clean";
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fprintf(stderr, "targetd: notice: daemon: ready, listening on 127.0.0.1:1\n");
	sd_notify(0, "READY=1");
	if (sigwait(&set, &sig))
		return 1;
	if (!strcmp(mode, "leak")) {
		sink = malloc(64); /* definitely lost once sink is overwritten */
		sink = NULL;
	} else if (!strcmp(mode, "invalid-read")) {
		char *p = malloc(8);
		volatile char *vp = p;
		size_t i = 8 + (size_t)(argc > 5);

		if (vp[i] == 42) /* one past the end */
			fprintf(stderr, "42\n");
		free(p);
	} else if (!strcmp(mode, "uninit-write")) {
		char *p = malloc(16);

		if (write(STDERR_FILENO, p, 16) < 0) /* uninitialised bytes to a syscall */
			return 1;
		free(p);
	} else if (!strcmp(mode, "open-fd")) {
		if (open("/dev/null", O_RDONLY) < 0)
			return 1;
	}
	return 0;
}
