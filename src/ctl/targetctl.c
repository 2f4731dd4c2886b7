/* SPDX-License-Identifier: MIT */
/*
 * targetctl: client of targetd's control socket. Sends one command line,
 * prints the answer. See targetd(8), section CONTROL SOCKET.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/targetd/control"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: targetctl [-s SOCKET] status|sessions|luns\n"
		"  -s, --socket PATH  control socket (default %s)\n"
		"  -h, --help         this help\n",
		DEFAULT_SOCKET);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *path = DEFAULT_SOCKET;
	char buf[4096], req[128];
	int fd, opt, n;
	bool error = false;

	while ((opt = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	n = snprintf(req, sizeof(req), "%s\n", argv[optind]);
	if (n < 0 || (size_t)n >= sizeof(req) || strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "targetctl: argument too long\n");
		return 2;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "targetctl: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (write(fd, req, (size_t)n) != n) {
		fprintf(stderr, "targetctl: %s: %s\n", path, strerror(errno));
		close(fd);
		return 1;
	}
	for (bool first = true;; first = false) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "targetctl: %s: %s\n", path, strerror(errno));
			close(fd);
			return 1;
		}
		if (r == 0)
			break;
		if (first && r >= 6 && !memcmp(buf, "error:", 6))
			error = true;
		fwrite(buf, 1, (size_t)r, error ? stderr : stdout);
	}
	close(fd);
	return error ? 1 : 0;
}
