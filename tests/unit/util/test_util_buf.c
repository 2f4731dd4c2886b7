/* SPDX-License-Identifier: MIT */
/* Unit tests: aligned pooled buffers. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "targetd/util.h"

static void classes_are_powers_of_two(void **state)
{
	(void)state;
	assert_int_equal(util_buf_class(0), 4096);
	assert_int_equal(util_buf_class(1), 4096);
	assert_int_equal(util_buf_class(4096), 4096);
	assert_int_equal(util_buf_class(4097), 8192);
	assert_int_equal(util_buf_class(65536), 65536);
	assert_int_equal(util_buf_class(UTIL_BUF_MAX), UTIL_BUF_MAX);
	assert_int_equal(util_buf_class(UTIL_BUF_MAX + 1), 0);
}

static void alloc_is_aligned_and_reused(void **state)
{
	void *a, *b;

	(void)state;
	a = util_buf_alloc(5000);
	assert_non_null(a);
	assert_int_equal((uintptr_t)a % UTIL_BUF_ALIGN, 0);
	memset(a, 0xab, util_buf_class(5000)); /* whole class is usable */
	util_buf_free(a, 5000);
	b = util_buf_alloc(8192); /* same class: comes from the free list */
	assert_ptr_equal(a, b);
	util_buf_free(b, 8192);
	assert_null(util_buf_alloc(UTIL_BUF_MAX + 1));
	util_buf_pool_trim();
}

static void *worker_free(void *arg)
{
	void **bufs = arg;

	for (int i = 0; i < 64; i++)
		util_buf_free(bufs[i], 4096 << (i % 4));
	return NULL;
}

/* One loop thread + one worker may alloc and free concurrently. */
static void loop_and_worker_threads(void **state)
{
	void *bufs[64];
	pthread_t t;

	(void)state;
	for (int round = 0; round < 50; round++) {
		for (int i = 0; i < 64; i++) {
			bufs[i] = util_buf_alloc(4096 << (i % 4));
			assert_non_null(bufs[i]);
			assert_int_equal((uintptr_t)bufs[i] % UTIL_BUF_ALIGN, 0);
		}
		assert_int_equal(pthread_create(&t, NULL, worker_free, bufs), 0);
		for (int i = 0; i < 16; i++) {
			void *p = util_buf_alloc(16384);

			assert_non_null(p);
			util_buf_free(p, 16384);
		}
		pthread_join(t, NULL);
	}
	util_buf_pool_trim();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(classes_are_powers_of_two),
	    cmocka_unit_test(alloc_is_aligned_and_reused),
	    cmocka_unit_test(loop_and_worker_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
