/* SPDX-License-Identifier: MIT */
/*
 * targetctl: client of targetd's control socket. Sends one command line,
 * "[json ]COMMAND [ARG...]", reads "ok" or "error" and the answer, prints the
 * answer (stdout; stderr for a text-mode error) and exits 0 / 1. See
 * targetctl(8).
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
#define REQ_MAX 1024

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: targetctl [-s SOCKET] [-o text|json] COMMAND\n"
		"Commands:\n"
		"  status                 version, uptime, counts\n"
		"  sessions               logged-in sessions and their negotiated parameters\n"
		"  luns                   LUNs of every target with size and I/O counters\n"
		"  pr show TARGET LUN     persistent reservation state of one LU\n"
		"  reload                 re-read the configuration file and apply changes\n"
		"Options:\n"
		"  -s, --socket PATH      control socket (default %s)\n"
		"  -o, --output FORMAT    text (default) or json\n"
		"  -h, --help             this help\n",
		DEFAULT_SOCKET);
}

/* Says why the daemon cannot be reached, in words an operator can act on. */
static void connect_error(const char *path, int err)
{
	switch (err) {
	case ENOENT:
	case ECONNREFUSED:
		fprintf(stderr,
			"targetctl: targetd is not running (no control socket listening at %s)\n",
			path);
		break;
	case EACCES:
	case EPERM:
		fprintf(stderr,
			"targetctl: permission denied on %s: the control socket is root-only "
			"(run targetctl as root)\n",
			path);
		break;
	default:
		fprintf(stderr, "targetctl: %s: %s\n", path, strerror(err));
	}
}

static int build_request(char *req, size_t cap, bool json, int argc, char **argv)
{
	size_t len = 0;
	int n;

	if (json) {
		n = snprintf(req, cap, "json ");
		len = (size_t)n;
	}
	for (int i = 0; i < argc; i++) {
		if (strpbrk(argv[i], " \t\r\n") || !*argv[i])
			return -EINVAL;
		n = snprintf(req + len, cap - len, "%s%s", i ? " " : "", argv[i]);
		if (n < 0 || (size_t)n >= cap - len)
			return -E2BIG;
		len += (size_t)n;
	}
	if (len + 2 > cap)
		return -E2BIG;
	req[len++] = '\n';
	req[len] = '\0';
	return (int)len;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *path = DEFAULT_SOCKET;
	char req[REQ_MAX];
	char *resp = NULL;
	size_t resp_len = 0;
	FILE *mem;
	bool json = false, ok;
	int fd, opt, n;

	while ((opt = getopt_long(argc, argv, "+s:o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			path = optarg;
			break;
		case 'o':
			if (!strcmp(optarg, "json")) {
				json = true;
			} else if (strcmp(optarg, "text")) {
				fprintf(stderr, "targetctl: -o %s: use text or json\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	n = build_request(req, sizeof(req), json, argc - optind, argv + optind);
	if (n < 0 || strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "targetctl: %s\n",
			n == -EINVAL ? "arguments must not be empty or contain spaces"
				     : "argument too long");
		return 2;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		connect_error(path, errno);
		return 1;
	}
	if (write(fd, req, (size_t)n) != n) {
		fprintf(stderr, "targetctl: %s: %s\n", path, strerror(errno));
		close(fd);
		return 1;
	}
	mem = open_memstream(&resp, &resp_len);
	if (!mem) {
		close(fd);
		return 1;
	}
	for (;;) {
		char buf[4096];
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "targetctl: %s: %s\n", path, strerror(errno));
			fclose(mem);
			free(resp);
			close(fd);
			return 1;
		}
		if (r == 0)
			break;
		fwrite(buf, 1, (size_t)r, mem);
	}
	close(fd);
	if (fclose(mem)) {
		free(resp);
		return 1;
	}
	/* "ok\n" or "error\n", then the answer */
	char *body = memchr(resp, '\n', resp_len);

	if (!body) {
		fprintf(stderr,
			"targetctl: %s: the daemon closed the connection without an answer\n",
			path);
		free(resp);
		return 1;
	}
	*body++ = '\0';
	ok = !strcmp(resp, "ok");
	if (!ok && strcmp(resp, "error")) {
		fprintf(stderr, "targetctl: %s: unexpected answer '%s'\n", path, resp);
		free(resp);
		return 1;
	}
	/* JSON answers go to stdout even on failure (scripts read them); a
	 * plain-text error goes to stderr */
	if (ok || (json && body[0] == '{'))
		fputs(body, stdout);
	else
		fprintf(stderr, "targetctl: %s", body);
	free(resp);
	return ok ? 0 : 1;
}
