/* SPDX-License-Identifier: MIT */
/*
 * Unit tests: the aio backend on a regular file in /var/tmp (not tmpfs, so
 * O_DIRECT is in effect) and, when running as root, on a loop device.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "targetd/bdev.h"
#include "targetd/evloop.h"
#include "targetd/util.h"

#include "bdev_aio.h" /* white-box: force the fallback paths */

#define FILE_SIZE (8u << 20)
#define BLK 4096u
#define NIO 200

struct fix {
	struct evl *evl;
	struct bdev *bdev;
	char path[128];
	char loopdev[64];
	bool in_submit;
	int done, expect;
};

struct req {
	struct bdev_io io;
	struct iovec iov[2];
	struct fix *f;
	int res;
	bool completed;
	uint8_t *buf;
};

static void req_done(struct bdev_io *io, int res)
{
	struct req *r = container_of(io, struct req, io);

	assert_false(r->f->in_submit); /* bdev.h: done never runs inside bdev_submit */
	assert_false(r->completed);
	r->completed = true;
	r->res = res;
	if (++r->f->done == r->f->expect)
		evl_stop(r->f->evl);
}

static void submit_and_wait(struct fix *f, struct req *r, int n)
{
	f->done = 0;
	f->expect = n;
	f->in_submit = true;
	for (int i = 0; i < n; i++) {
		r[i].f = f;
		r[i].completed = false;
		r[i].res = 1;
		r[i].io.done = req_done;
		bdev_submit(f->bdev, &r[i].io);
		assert_false(r[i].completed);
	}
	f->in_submit = false;
	assert_int_equal(evl_run(f->evl), 0);
	assert_int_equal(f->done, n);
}

static void prep(struct req *r, enum bdev_op op, uint64_t off, void *buf, size_t len)
{
	memset(&r->io, 0, sizeof(r->io));
	r->io.op = op;
	r->io.offset = off;
	r->io.len = len;
	if (buf) {
		r->iov[0].iov_base = buf;
		r->iov[0].iov_len = len;
		r->io.iov = r->iov;
		r->io.iovcnt = 1;
	}
}

static void fill(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 9));
}

static int make_file(struct fix *f)
{
	int fd;

	snprintf(f->path, sizeof(f->path), "/var/tmp/targetd-aio-XXXXXX");
	fd = mkstemp(f->path);
	if (fd < 0 || ftruncate(fd, FILE_SIZE) < 0)
		return -1;
	close(fd);
	return 0;
}

static int setup_file(void **state)
{
	static struct fix f;

	memset(&f, 0, sizeof(f));
	if (evl_create(&f.evl) || make_file(&f) || bdev_open(f.evl, f.path, 0, &f.bdev))
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	char cmd[160];

	if (f->bdev)
		bdev_close(f->bdev);
	evl_destroy(f->evl);
	if (f->loopdev[0]) {
		snprintf(cmd, sizeof(cmd), "losetup -d %s", f->loopdev);
		if (system(cmd) != 0)
			fprintf(stderr, "warning: %s failed\n", cmd);
	}
	unlink(f->path);
	util_buf_pool_trim();
	return 0;
}

static int setup_loop(void **state)
{
	static struct fix f;
	char cmd[200];
	FILE *p;

	memset(&f, 0, sizeof(f));
	*state = &f;
	if (evl_create(&f.evl) || make_file(&f))
		return -1;
	if (geteuid() != 0)
		return 0; /* the test skips */
	snprintf(cmd, sizeof(cmd), "losetup --find --show %s", f.path);
	p = popen(cmd, "r");
	if (!p)
		return 0;
	if (!fgets(f.loopdev, sizeof(f.loopdev), p))
		f.loopdev[0] = '\0';
	pclose(p);
	f.loopdev[strcspn(f.loopdev, "\n")] = '\0';
	if (f.loopdev[0] && bdev_open(f.evl, f.loopdev, 0, &f.bdev))
		return -1;
	return 0;
}

static void file_info(void **state)
{
	struct fix *f = *state;
	const struct bdev_info *info = bdev_get_info(f->bdev);

	assert_true(info->size == FILE_SIZE);
	assert_false(info->is_blockdev);
	assert_true(info->direct);
	assert_true(info->min_io >= 512 && info->min_io <= 4096);
	assert_true(info->write_cache);
	assert_false(info->read_only);
	assert_false(info->volatile_media);
	assert_string_equal(bdev_path(f->bdev), f->path);
}

/* 200 concurrent writes (some FUA, some vectored), a FLUSH, then 200
 * concurrent reads: everything completes, with the right data. */
static void concurrent_200_io_correct_data(struct fix *f)
{
	static struct req r[NIO + 1];
	struct bdev_stats st;

	for (int i = 0; i < NIO; i++) {
		r[i].buf = util_buf_alloc(BLK);
		assert_non_null(r[i].buf);
		fill(r[i].buf, BLK, (unsigned)i);
		/* reverse-ish order so offsets are not sequential */
		prep(&r[i], BDEV_OP_WRITE, (uint64_t)((NIO - 1 - i) * 3 % NIO) * BLK, r[i].buf,
		     BLK);
		if (i % 3 == 0)
			r[i].io.flags = BDEV_IO_FUA;
		if (i % 5 == 0) {
			r[i].iov[0].iov_len = 512;
			r[i].iov[1].iov_base = r[i].buf + 512;
			r[i].iov[1].iov_len = BLK - 512;
			r[i].io.iovcnt = 2;
		}
	}
	submit_and_wait(f, r, NIO);
	for (int i = 0; i < NIO; i++)
		assert_int_equal(r[i].res, 0);
	prep(&r[NIO], BDEV_OP_FLUSH, 0, NULL, 0);
	submit_and_wait(f, &r[NIO], 1);
	assert_int_equal(r[NIO].res, 0);
	for (int i = 0; i < NIO; i++) {
		uint64_t off = r[i].io.offset;

		memset(r[i].buf, 0xee, BLK);
		prep(&r[i], BDEV_OP_READ, off, r[i].buf, BLK);
	}
	submit_and_wait(f, r, NIO);
	for (int i = 0; i < NIO; i++) {
		uint8_t expect[BLK];

		assert_int_equal(r[i].res, 0);
		fill(expect, BLK, (unsigned)i);
		assert_memory_equal(r[i].buf, expect, BLK);
		util_buf_free(r[i].buf, BLK);
	}
	bdev_get_stats(f->bdev, &st);
	assert_int_equal(st.inflight, 0);
	assert_true(st.writes == NIO && st.reads == NIO && st.flushes == 1);
	assert_int_equal(st.errors, 0);
}

static void file_concurrent_200_io(void **state)
{
	concurrent_200_io_correct_data(*state);
}

/* More requests than the queue depth (256): the rest stay queued and go out
 * as completions free slots. */
static void file_more_than_queue_depth(void **state)
{
	struct fix *f = *state;
	static struct req r[700];
	uint8_t *buf = util_buf_alloc(BLK);

	for (int i = 0; i < 700; i++)
		prep(&r[i], BDEV_OP_READ, (uint64_t)(i % 2048) * BLK, buf, BLK);
	submit_and_wait(f, r, 700);
	for (int i = 0; i < 700; i++)
		assert_int_equal(r[i].res, 0);
	util_buf_free(buf, BLK);
}

/* SBC-4 5.24 SYNCHRONIZE CACHE and the WRITE FUA bit: both complete GOOD. */
static void sbc4_fua_write_and_flush_complete(void **state)
{
	struct fix *f = *state;
	struct req r[3];
	uint8_t *buf = util_buf_alloc(BLK);

	fill(buf, BLK, 99);
	prep(&r[0], BDEV_OP_WRITE, 0, buf, BLK);
	r[0].io.flags = BDEV_IO_FUA;
	prep(&r[1], BDEV_OP_FLUSH, 0, NULL, 0);
	prep(&r[2], BDEV_OP_FLUSH, 0, NULL, 0);
	submit_and_wait(f, r, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(r[i].res, 0);
	util_buf_free(buf, BLK);
}

/* Kernels without aio fdsync or RWF_DSYNC: FLUSH is fdatasync on the worker,
 * and a FUA write is followed by that flush before done runs. */
static void fallback_worker_fdatasync_and_fua_flush(void **state)
{
	struct fix *f = *state;
	struct bdev_aio *a = container_of(f->bdev, struct bdev_aio, b);
	struct req r[3];
	uint8_t *buf = util_buf_alloc(BLK);

	a->fdsync_aio = false;
	a->rwf_dsync = false;
	fill(buf, BLK, 42);
	prep(&r[0], BDEV_OP_WRITE, 5 * BLK, buf, BLK);
	r[0].io.flags = BDEV_IO_FUA;
	prep(&r[1], BDEV_OP_FLUSH, 0, NULL, 0);
	submit_and_wait(f, r, 2);
	assert_int_equal(r[0].res, 0);
	assert_int_equal(r[1].res, 0);
	memset(buf, 0, BLK);
	prep(&r[0], BDEV_OP_READ, 5 * BLK, buf, BLK);
	submit_and_wait(f, r, 1);
	assert_int_equal(r[0].res, 0);
	{
		uint8_t expect[BLK];

		fill(expect, BLK, 42);
		assert_memory_equal(buf, expect, BLK);
	}
	util_buf_free(buf, BLK);
}

static void discard_and_write_zeroes_read_back_zero(void **state)
{
	struct fix *f = *state;
	struct req r[4];
	uint8_t *buf = util_buf_alloc(4 * BLK);

	assert_true(bdev_get_info(f->bdev)->can_discard);
	fill(buf, 4 * BLK, 5);
	prep(&r[0], BDEV_OP_WRITE, 16 * BLK, buf, 4 * BLK);
	submit_and_wait(f, r, 1);
	assert_int_equal(r[0].res, 0);
	prep(&r[0], BDEV_OP_DISCARD, 16 * BLK, NULL, 2 * BLK);
	prep(&r[1], BDEV_OP_WRITE_ZEROES, 18 * BLK, NULL, 2 * BLK);
	submit_and_wait(f, r, 2);
	assert_int_equal(r[0].res, 0);
	assert_int_equal(r[1].res, 0);
	memset(buf, 0xaa, 4 * BLK);
	prep(&r[0], BDEV_OP_READ, 16 * BLK, buf, 4 * BLK);
	submit_and_wait(f, r, 1);
	assert_int_equal(r[0].res, 0);
	for (size_t i = 0; i < 4 * BLK; i++)
		assert_int_equal(buf[i], 0);
	util_buf_free(buf, 4 * BLK);
}

/* The LU size is fixed at open: a read the medium can no longer satisfy
 * in full is -EIO, never a silent short read. */
static void short_read_is_eio(void **state)
{
	struct fix *f = *state;
	struct req r[1];
	uint8_t *buf = util_buf_alloc(2 * BLK);

	assert_int_equal(truncate(f->path, FILE_SIZE - BLK), 0);
	prep(&r[0], BDEV_OP_READ, FILE_SIZE - 2 * BLK, buf, 2 * BLK);
	submit_and_wait(f, r, 1);
	assert_int_equal(r[0].res, -EIO);
	assert_int_equal(bdev_refresh_size(f->bdev), 0);
	assert_true(bdev_get_info(f->bdev)->size == FILE_SIZE - BLK);
	util_buf_free(buf, 2 * BLK);
}

static void misaligned_direct_io_rejected(void **state)
{
	struct fix *f = *state;
	struct req r[1];
	uint8_t *buf = util_buf_alloc(BLK);

	prep(&r[0], BDEV_OP_READ, 100, buf, BLK);
	submit_and_wait(f, r, 1);
	assert_int_equal(r[0].res, -EINVAL);
	util_buf_free(buf, BLK);
}

static void read_only_open(void **state)
{
	struct fix *f = *state;
	struct bdev *ro;

	assert_int_equal(bdev_open(f->evl, f->path, BDEV_OPEN_RDONLY, &ro), 0);
	assert_true(bdev_get_info(ro)->read_only);
	assert_false(bdev_get_info(ro)->can_discard);
	bdev_close(ro);
	assert_int_equal(bdev_open(f->evl, "/var/tmp/does-not-exist-targetd", 0, &ro), -ENOENT);
	assert_int_equal(bdev_open(f->evl, "/dev/null", 0, &ro), -EINVAL);
}

/* tmpfs: O_DIRECT is refused on older kernels (then buffered, with one
 * warning); either way I/O, FUA and FLUSH work and the data reads back. */
static void tmpfs_file_direct_or_buffered(void **state)
{
	struct fix *f = *state;
	char path[] = "/dev/shm/targetd-aio-XXXXXX";
	struct bdev *saved = f->bdev;
	struct req r[3];
	uint8_t *wbuf = util_buf_alloc(BLK), *rbuf = util_buf_alloc(BLK);
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1 << 20), 0);
	close(fd);
	assert_int_equal(bdev_open(f->evl, path, 0, &f->bdev), 0);
	fill(wbuf, BLK, 7);
	prep(&r[0], BDEV_OP_WRITE, BLK, wbuf, BLK);
	r[0].io.flags = BDEV_IO_FUA;
	prep(&r[1], BDEV_OP_FLUSH, 0, NULL, 0);
	submit_and_wait(f, r, 2);
	assert_int_equal(r[0].res, 0);
	assert_int_equal(r[1].res, 0);
	prep(&r[2], BDEV_OP_READ, BLK, rbuf, BLK);
	submit_and_wait(f, &r[2], 1);
	assert_int_equal(r[2].res, 0);
	assert_memory_equal(rbuf, wbuf, BLK);
	bdev_close(f->bdev);
	f->bdev = saved;
	unlink(path);
	util_buf_free(wbuf, BLK);
	util_buf_free(rbuf, BLK);
}

static void loopdev_io(void **state)
{
	struct fix *f = *state;
	const struct bdev_info *info;
	struct req r[2];
	uint8_t *buf;

	if (!f->bdev) {
		fprintf(stderr, "skipped: loop device test needs root and losetup\n");
		skip();
	}
	info = bdev_get_info(f->bdev);
	assert_true(info->is_blockdev);
	assert_true(info->size == FILE_SIZE);
	assert_true(info->direct);
	assert_true(info->min_io == 512 || info->min_io == 4096);
	assert_true(info->phys_io >= info->min_io);
	concurrent_200_io_correct_data(f);
	buf = util_buf_alloc(BLK);
	prep(&r[0], BDEV_OP_WRITE_ZEROES, 0, NULL, BLK);
	submit_and_wait(f, r, 1);
	assert_int_equal(r[0].res, 0);
	prep(&r[0], BDEV_OP_READ, 0, buf, BLK);
	submit_and_wait(f, r, 1);
	assert_int_equal(r[0].res, 0);
	for (size_t i = 0; i < BLK; i++)
		assert_int_equal(buf[i], 0);
	if (info->can_discard) {
		prep(&r[0], BDEV_OP_DISCARD, BLK, NULL, BLK);
		submit_and_wait(f, r, 1);
		assert_int_equal(r[0].res, 0);
	}
	util_buf_free(buf, BLK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(file_info, setup_file, teardown),
	    cmocka_unit_test_setup_teardown(file_concurrent_200_io, setup_file, teardown),
	    cmocka_unit_test_setup_teardown(file_more_than_queue_depth, setup_file, teardown),
	    cmocka_unit_test_setup_teardown(sbc4_fua_write_and_flush_complete, setup_file,
					    teardown),
	    cmocka_unit_test_setup_teardown(fallback_worker_fdatasync_and_fua_flush, setup_file,
					    teardown),
	    cmocka_unit_test_setup_teardown(discard_and_write_zeroes_read_back_zero, setup_file,
					    teardown),
	    cmocka_unit_test_setup_teardown(short_read_is_eio, setup_file, teardown),
	    cmocka_unit_test_setup_teardown(misaligned_direct_io_rejected, setup_file, teardown),
	    cmocka_unit_test_setup_teardown(read_only_open, setup_file, teardown),
	    cmocka_unit_test_setup_teardown(tmpfs_file_direct_or_buffered, setup_file, teardown),
	    cmocka_unit_test_setup_teardown(loopdev_io, setup_loop, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
