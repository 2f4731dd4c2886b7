/* SPDX-License-Identifier: MIT */
/*
 * iscsi_rw_verify: write a file's bytes to a LUN with WRITE(16) and read them
 * back with READ(16) into another file, through libiscsi. The integration test
 * compares input, read-back and backing store. Exit 0 only if every command
 * ended GOOD (SBC-4 5.43 WRITE (16), 5.16 READ (16)).
 *
 * usage: iscsi_rw_verify [-i INITIATOR] URL LBA IN-FILE OUT-FILE [CHUNK-BYTES]
 * The transfer is split into CHUNK-BYTES commands (default 262144, so that one
 * command exceeds the default FirstBurstLength and needs R2Ts, RFC 7143 8.2.2).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

static int read_all(const char *path, unsigned char **buf, size_t *len)
{
	struct stat st;
	size_t done = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(path);
		return -1;
	}
	*len = (size_t)st.st_size;
	*buf = malloc(*len ? *len : 1);
	if (!*buf) {
		close(fd);
		return -1;
	}
	while (done < *len) {
		ssize_t n = read(fd, *buf + done, *len - done);

		if (n <= 0) {
			perror(path);
			close(fd);
			return -1;
		}
		done += (size_t)n;
	}
	close(fd);
	return 0;
}

static int write_all(const char *path, const unsigned char *buf, size_t len)
{
	size_t done = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0) {
		perror(path);
		return -1;
	}
	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n <= 0) {
			perror(path);
			close(fd);
			return -1;
		}
		done += (size_t)n;
	}
	return close(fd);
}

static int task_ok(struct iscsi_context *iscsi, struct scsi_task *task, const char *what,
		   uint64_t lba)
{
	if (task && task->status == SCSI_STATUS_GOOD)
		return 1;
	fprintf(stderr, "%s at lba %" PRIu64 " failed: %s\n", what, lba,
		task ? iscsi_get_error(iscsi) : "no task");
	return 0;
}

int main(int argc, char **argv)
{
	const char *initiator = "iqn.2026-11.org.example:integration";
	struct iscsi_context *iscsi;
	struct iscsi_url *url;
	struct scsi_task *task;
	struct scsi_readcapacity16 *rc16;
	unsigned char *in, *out;
	size_t len, chunk = 262144;
	uint64_t lba0;
	uint32_t bs;
	int opt, ret = 1;

	while ((opt = getopt(argc, argv, "i:")) != -1) {
		if (opt == 'i')
			initiator = optarg;
		else
			return 2;
	}
	if (argc - optind < 4) {
		fprintf(stderr, "usage: %s [-i INITIATOR] URL LBA IN-FILE OUT-FILE [CHUNK]\n",
			argv[0]);
		return 2;
	}
	lba0 = strtoull(argv[optind + 1], NULL, 0);
	if (argc - optind > 4)
		chunk = strtoul(argv[optind + 4], NULL, 0);
	if (read_all(argv[optind + 2], &in, &len) < 0)
		return 1;
	out = calloc(1, len ? len : 1);

	iscsi = iscsi_create_context(initiator);
	if (!iscsi || !out)
		return 1;
	url = iscsi_parse_full_url(iscsi, argv[optind]);
	if (!url) {
		fprintf(stderr, "bad url %s: %s\n", argv[optind], iscsi_get_error(iscsi));
		return 1;
	}
	iscsi_set_targetname(iscsi, url->target);
	iscsi_set_session_type(iscsi, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(iscsi, ISCSI_HEADER_DIGEST_NONE_CRC32C);
	if (iscsi_full_connect_sync(iscsi, url->portal, url->lun) != 0) {
		fprintf(stderr, "login to %s failed: %s\n", argv[optind], iscsi_get_error(iscsi));
		goto out;
	}

	task = iscsi_readcapacity16_sync(iscsi, url->lun);
	if (!task_ok(iscsi, task, "READ CAPACITY (16)", 0))
		goto out;
	rc16 = scsi_datain_unmarshall(task);
	if (!rc16) {
		fprintf(stderr, "cannot unmarshall READ CAPACITY (16) data\n");
		goto out;
	}
	bs = rc16->block_length;
	scsi_free_scsi_task(task);
	if (bs == 0 || len % bs || chunk % bs) {
		fprintf(stderr, "length %zu / chunk %zu not a multiple of block size %u\n", len,
			chunk, bs);
		goto out;
	}

	for (size_t off = 0; off < len; off += chunk) {
		uint32_t n = (uint32_t)(len - off < chunk ? len - off : chunk);
		uint64_t lba = lba0 + off / bs;

		task =
		    iscsi_write16_sync(iscsi, url->lun, lba, in + off, n, (int)bs, 0, 0, 0, 0, 0);
		if (!task_ok(iscsi, task, "WRITE (16)", lba))
			goto out;
		scsi_free_scsi_task(task);
	}
	task = iscsi_synchronizecache10_sync(iscsi, url->lun, 0, 0, 0, 0);
	if (!task_ok(iscsi, task, "SYNCHRONIZE CACHE (10)", 0))
		goto out;
	scsi_free_scsi_task(task);
	for (size_t off = 0; off < len; off += chunk) {
		uint32_t n = (uint32_t)(len - off < chunk ? len - off : chunk);
		uint64_t lba = lba0 + off / bs;

		task = iscsi_read16_sync(iscsi, url->lun, lba, n, (int)bs, 0, 0, 0, 0, 0);
		if (!task_ok(iscsi, task, "READ (16)", lba))
			goto out;
		if (task->datain.size != (int)n) {
			fprintf(stderr, "READ (16) at lba %" PRIu64 ": got %d bytes, want %u\n",
				lba, task->datain.size, n);
			scsi_free_scsi_task(task);
			goto out;
		}
		memcpy(out + off, task->datain.data, n);
		scsi_free_scsi_task(task);
	}
	if (write_all(argv[optind + 3], out, len) < 0)
		goto out;
	ret = 0;
	iscsi_logout_sync(iscsi);
out:
	iscsi_destroy_url(url);
	iscsi_destroy_context(iscsi);
	free(in);
	free(out);
	return ret;
}
