/* SPDX-License-Identifier: MIT */
/*
 * util_file: durable file replacement and removal (for the APTPL store) and
 * whole-file reads.
 *
 * Durability argument for util_file_write_atomic (POSIX rename(2) is atomic
 * with respect to the name; ext4/xfs order the data before the rename only
 * if we ask):
 *  1. write the new contents to "<dir>/.<name>.tmp" and fsync it: the data
 *     and the inode are on stable storage before any name points at them;
 *  2. rename over "<dir>/<name>": readers see the old or the new file, never
 *     a mix;
 *  3. fsync the directory: the rename itself is on stable storage.
 * Only after 3 returns 0 may the caller answer GOOD. A crash before 3 leaves
 * the old complete file (or the new one); a stale temp file is harmless and
 * overwritten next time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "targetd/util.h"

static int write_full(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_dirfd(int dfd)
{
	/* Some filesystems refuse fsync on a directory (EINVAL): nothing more
	 * can be done there, and it is not an error of ours. */
	if (fsync(dfd) < 0 && errno != EINVAL)
		return -errno;
	return 0;
}

static bool name_ok(const char *name)
{
	return name && *name && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..");
}

int util_file_write_atomic(const char *dir, const char *name, const void *data, size_t len)
{
	char tmp[512];
	int dfd, fd, ret;

	if (!name_ok(name))
		return -EINVAL;
	if ((size_t)snprintf(tmp, sizeof(tmp), ".%s.tmp", name) >= sizeof(tmp))
		return -ENAMETOOLONG;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		ret = -errno;
		goto out_dir;
	}
	ret = write_full(fd, data, len);
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (!ret && renameat(dfd, tmp, dfd, name) < 0)
		ret = -errno;
	if (ret) {
		unlinkat(dfd, tmp, 0);
		goto out_dir;
	}
	ret = fsync_dirfd(dfd);
out_dir:
	close(dfd);
	return ret;
}

int util_file_remove_durable(const char *dir, const char *name)
{
	int dfd, ret = 0;

	if (!name_ok(name))
		return -EINVAL;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
		ret = -errno;
	/* fsync even after ENOENT: a previous unlink may not be durable yet. */
	if (!ret)
		ret = fsync_dirfd(dfd);
	close(dfd);
	return ret;
}

int util_file_read_all(const char *path, char **out, size_t *len, size_t max_len)
{
	size_t cap = 4096, used = 0;
	char *buf;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t n;

		if (used + 1 >= cap) {
			char *nb;

			if (cap > max_len + 1) {
				ret = -EFBIG;
				break;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				ret = -ENOMEM;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + used, cap - used - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > max_len) {
			ret = -EFBIG;
			break;
		}
	}
	close(fd);
	if (ret) {
		free(buf);
		return ret;
	}
	buf[used] = '\0';
	*out = buf;
	if (len)
		*len = used;
	return 0;
}
