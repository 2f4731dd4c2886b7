// SPDX-License-Identifier: MIT
/*
 * bdev_map_status (GET LBA STATUS, SBC-4 5.7) on a sparse regular file in
 * /var/tmp: SEEK_DATA / SEEK_HOLE extents, a punched hole (DISCARD) becomes
 * unmapped, discard_zeroes is reported for files; mem reports all mapped.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "targetd/bdev.h"
#include "targetd/evloop.h"
#include "targetd/util.h"

#define SIZE (8u << 20)
#define MiB (1u << 20)

struct waiter {
	int res;
	struct evl *evl;
};

static void done_cb(struct bdev_io *io, int res)
{
	struct waiter *w = io->ctx;

	w->res = res;
	evl_stop(w->evl);
}

static void sbc4_5_7_file_extents_and_punched_hole(void **state)
{
	char path[] = "/var/tmp/targetd-map-XXXXXX";
	struct waiter w = {.res = 1};
	struct bdev *b;
	struct bdev_io io;
	bool mapped;
	uint64_t len;
	int fd = mkstemp(path);
	char *data = malloc(MiB);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, SIZE), 0);
	memset(data, 'x', MiB);
	assert_int_equal(pwrite(fd, data, MiB, 2 * MiB), (ssize_t)MiB);
	assert_int_equal(fsync(fd), 0);
	close(fd);
	free(data);
	assert_int_equal(evl_create(&w.evl), 0);
	assert_int_equal(bdev_open(w.evl, path, 0, &b), 0);
	assert_true(bdev_get_info(b)->discard_zeroes);

	/* a hole from 0 up to the data at 2 MiB */
	assert_int_equal(bdev_map_status(b, 0, &mapped, &len), 0);
	assert_false(mapped);
	assert_int_equal(len, 2 * MiB);
	/* the data extent */
	assert_int_equal(bdev_map_status(b, 2 * MiB, &mapped, &len), 0);
	assert_true(mapped);
	assert_int_equal(len, MiB);
	/* the hole up to the end */
	assert_int_equal(bdev_map_status(b, 3 * MiB, &mapped, &len), 0);
	assert_false(mapped);
	assert_int_equal(len, SIZE - 3 * MiB);
	/* beyond the end */
	assert_int_equal(bdev_map_status(b, SIZE, &mapped, &len), -EINVAL);

	/* punch the first half of the data extent (UNMAP) */
	memset(&io, 0, sizeof(io));
	io.op = BDEV_OP_DISCARD;
	io.offset = 2 * MiB;
	io.len = MiB / 2;
	io.done = done_cb;
	io.ctx = &w;
	bdev_submit(b, &io);
	assert_int_equal(evl_run(w.evl), 0);
	assert_int_equal(w.res, 0);
	assert_int_equal(bdev_map_status(b, 2 * MiB, &mapped, &len), 0);
	assert_false(mapped);
	assert_int_equal(len, MiB / 2);
	assert_int_equal(bdev_map_status(b, 2 * MiB + MiB / 2, &mapped, &len), 0);
	assert_true(mapped);
	assert_int_equal(len, MiB / 2);

	bdev_close(b);
	evl_destroy(w.evl);
	unlink(path);
}

static void mem_reports_everything_mapped(void **state)
{
	struct evl *evl;
	struct bdev *b;
	bool mapped = false;
	uint64_t len = 0;

	(void)state;
	assert_int_equal(evl_create(&evl), 0);
	assert_int_equal(bdev_open(evl, "mem:1M", 0, &b), 0);
	assert_true(bdev_get_info(b)->discard_zeroes);
	assert_int_equal(bdev_map_status(b, 4096, &mapped, &len), 0);
	assert_true(mapped);
	assert_int_equal(len, MiB - 4096);
	bdev_close(b);
	evl_destroy(evl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sbc4_5_7_file_extents_and_punched_hole),
	    cmocka_unit_test(mem_reports_everything_mapped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
