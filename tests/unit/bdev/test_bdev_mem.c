/* SPDX-License-Identifier: MIT */
/* Unit tests: the mem backend and the common bdev request checks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "targetd/bdev.h"
#include "targetd/evloop.h"
#include "targetd/util.h"

struct fix {
	struct evl *evl;
	struct bdev *bdev;
	bool in_submit;
	int done, expect;
};

static int setup(void **state)
{
	static struct fix f;

	memset(&f, 0, sizeof(f));
	if (evl_create(&f.evl) || bdev_open(f.evl, "mem:1M", 0, &f.bdev))
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	bdev_close(f->bdev);
	evl_destroy(f->evl);
	return 0;
}

struct req {
	struct bdev_io io;
	struct iovec iov[2];
	struct fix *f;
	int res;
	bool completed;
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
	memset(r, 0, sizeof(*r));
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

static void info_and_path(void **state)
{
	struct fix *f = *state;
	const struct bdev_info *info = bdev_get_info(f->bdev);

	assert_true(info->size == 1u << 20);
	assert_int_equal(info->min_io, 1);
	assert_true(info->volatile_media);
	assert_true(info->can_discard);
	assert_false(info->read_only);
	assert_string_equal(bdev_path(f->bdev), "mem:1M");
}

static void write_read_flush_discard_zeroes(void **state)
{
	struct fix *f = *state;
	static uint8_t wbuf[8192], rbuf[8192];
	struct req r[3];
	struct bdev_stats st;

	for (size_t i = 0; i < sizeof(wbuf); i++)
		wbuf[i] = (uint8_t)(i * 7 + 1);
	/* Two-element iovec write */
	prep(&r[0], BDEV_OP_WRITE, 4096, NULL, 0);
	r[0].iov[0] = (struct iovec){wbuf, 1000};
	r[0].iov[1] = (struct iovec){wbuf + 1000, 7192};
	r[0].io.iov = r[0].iov;
	r[0].io.iovcnt = 2;
	r[0].io.len = 8192;
	r[0].io.flags = BDEV_IO_FUA;
	prep(&r[1], BDEV_OP_FLUSH, 0, NULL, 0);
	submit_and_wait(f, r, 2);
	assert_int_equal(r[0].res, 0);
	assert_int_equal(r[1].res, 0);
	prep(&r[0], BDEV_OP_READ, 4096, rbuf, sizeof(rbuf));
	submit_and_wait(f, r, 1);
	assert_int_equal(r[0].res, 0);
	assert_memory_equal(rbuf, wbuf, sizeof(wbuf));
	/* discard first 4 KiB of it, zero the second: both read back zero */
	prep(&r[0], BDEV_OP_DISCARD, 4096, NULL, 4096);
	prep(&r[1], BDEV_OP_WRITE_ZEROES, 8192, NULL, 4096);
	prep(&r[2], BDEV_OP_READ, 4096, rbuf, sizeof(rbuf));
	submit_and_wait(f, r, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(r[i].res, 0);
	for (size_t i = 0; i < sizeof(rbuf); i++)
		assert_int_equal(rbuf[i], 0);
	bdev_get_stats(f->bdev, &st);
	assert_int_equal(st.inflight, 0);
	assert_true(st.writes == 1 && st.reads == 2 && st.flushes == 1);
	assert_true(st.write_bytes == 8192 && st.read_bytes == 16384);
}

static void overflow_safe_range_checks(void **state)
{
	struct fix *f = *state;
	static uint8_t buf[4096];
	struct req r[4];
	struct bdev_stats st;

	prep(&r[0], BDEV_OP_READ, (1u << 20) - 2048, buf, 4096); /* crosses the end */
	prep(&r[1], BDEV_OP_READ, UINT64_MAX - 100, buf, 4096); /* would wrap */
	prep(&r[2], BDEV_OP_WRITE, 0, buf, 4096);
	r[2].io.len = 8192; /* len != iov total */
	prep(&r[3], BDEV_OP_READ, (1u << 20) - 4096, buf, 4096); /* last block: fine */
	submit_and_wait(f, r, 4);
	assert_int_equal(r[0].res, -EINVAL);
	assert_int_equal(r[1].res, -EINVAL);
	assert_int_equal(r[2].res, -EINVAL);
	assert_int_equal(r[3].res, 0);
	bdev_get_stats(f->bdev, &st);
	assert_true(st.errors == 3);
}

static void read_only_rejects_writes(void **state)
{
	struct fix *f = *state;
	struct bdev *ro;
	static uint8_t buf[512];
	struct req r[2];

	assert_int_equal(bdev_open(f->evl, "mem:64k", BDEV_OPEN_RDONLY, &ro), 0);
	assert_true(bdev_get_info(ro)->read_only);
	prep(&r[0], BDEV_OP_WRITE, 0, buf, sizeof(buf));
	prep(&r[1], BDEV_OP_READ, 0, buf, sizeof(buf));
	f->done = 0;
	f->expect = 2;
	for (int i = 0; i < 2; i++) {
		r[i].f = f;
		r[i].io.done = req_done;
		bdev_submit(ro, &r[i].io);
	}
	assert_int_equal(evl_run(f->evl), 0);
	assert_int_equal(r[0].res, -EROFS);
	assert_int_equal(r[1].res, 0);
	bdev_close(ro);
}

static void bad_mem_paths(void **state)
{
	struct fix *f = *state;
	struct bdev *b;

	assert_int_equal(bdev_open(f->evl, "mem:", 0, &b), -EINVAL);
	assert_int_equal(bdev_open(f->evl, "mem:12Q", 0, &b), -EINVAL);
	assert_int_equal(bdev_open(f->evl, "mem:0", 0, &b), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(info_and_path, setup, teardown),
	    cmocka_unit_test_setup_teardown(write_read_flush_discard_zeroes, setup, teardown),
	    cmocka_unit_test_setup_teardown(overflow_safe_range_checks, setup, teardown),
	    cmocka_unit_test_setup_teardown(read_only_rejects_writes, setup, teardown),
	    cmocka_unit_test_setup_teardown(bad_mem_paths, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
