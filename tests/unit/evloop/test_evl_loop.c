/* SPDX-License-Identifier: MIT */
/* Unit tests: evloop fds, deferred calls, timers, worker jobs, stop. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "targetd/evloop.h"
#include "targetd/util.h"

static int setup(void **state)
{
	struct evl *evl;

	if (evl_create(&evl))
		return -1;
	*state = evl;
	return 0;
}

static int teardown(void **state)
{
	evl_destroy(*state);
	return 0;
}

/* ---- fd callbacks ---- */
struct pipe_ctx {
	int rfd, wfd;
	int calls;
	char got[16];
};

static void pipe_cb(struct evl *evl, int fd, uint32_t events, void *arg)
{
	struct pipe_ctx *c = arg;
	ssize_t n;

	assert_true(events & EPOLLIN);
	n = read(fd, c->got, sizeof(c->got) - 1);
	assert_true(n > 0);
	c->got[n] = '\0';
	c->calls++;
	evl_stop(evl);
}

static void fd_readable_calls_back(void **state)
{
	struct evl *evl = *state;
	struct pipe_ctx c = {0};
	int p[2];

	assert_int_equal(pipe(p), 0);
	c.rfd = p[0];
	c.wfd = p[1];
	assert_int_equal(evl_fd_add(evl, p[0], EPOLLIN, pipe_cb, &c), 0);
	assert_int_equal(evl_fd_add(evl, p[0], EPOLLIN, pipe_cb, &c), -EEXIST);
	assert_int_equal(write(p[1], "hi", 2), 2);
	assert_int_equal(evl_run(evl), 0);
	assert_int_equal(c.calls, 1);
	assert_string_equal(c.got, "hi");
	assert_int_equal(evl_fd_mod(evl, p[0], EPOLLIN | EPOLLRDHUP), 0);
	assert_int_equal(evl_fd_mod(evl, 999, EPOLLIN), -ENOENT);
	evl_fd_del(evl, p[0]);
	evl_fd_del(evl, p[0]); /* second del is a no-op */
	close(p[0]);
	close(p[1]);
}

/* Two ready fds in one batch; the first callback deletes the second. The
 * second callback must not run (evloop.h callback rules). */
struct del_ctx {
	int fd_a, fd_b;
	int calls_a, calls_b;
};

static void del_cb_b(struct evl *evl, int fd, uint32_t events, void *arg)
{
	struct del_ctx *c = arg;

	(void)events;
	(void)fd;
	c->calls_b++;
	evl_fd_del(evl, c->fd_a);
	evl_stop(evl);
}

static void del_cb_a(struct evl *evl, int fd, uint32_t events, void *arg)
{
	struct del_ctx *c = arg;

	(void)events;
	(void)fd;
	c->calls_a++;
	evl_fd_del(evl, c->fd_b);
	evl_stop(evl);
}

static void fd_del_in_same_batch_suppresses_callback(void **state)
{
	struct evl *evl = *state;
	struct del_ctx c = {0};
	uint64_t one = 1;

	c.fd_a = eventfd(0, EFD_NONBLOCK);
	c.fd_b = eventfd(0, EFD_NONBLOCK);
	assert_int_equal(write(c.fd_a, &one, 8), 8);
	assert_int_equal(write(c.fd_b, &one, 8), 8);
	assert_int_equal(evl_fd_add(evl, c.fd_a, EPOLLIN, del_cb_a, &c), 0);
	assert_int_equal(evl_fd_add(evl, c.fd_b, EPOLLIN, del_cb_b, &c), 0);
	assert_int_equal(evl_run(evl), 0);
	assert_int_equal(c.calls_a + c.calls_b, 1);
	evl_fd_del(evl, c.fd_a);
	evl_fd_del(evl, c.fd_b);
	close(c.fd_a);
	close(c.fd_b);
}

/* ---- deferred calls ---- */
struct defer_ctx {
	struct evl *evl;
	struct evl_defer d1, d2, d3;
	char order[16];
	int n;
};

static void d3_fn(void *arg)
{
	struct defer_ctx *c = arg;

	c->order[c->n++] = '3';
	evl_stop(c->evl);
}

static void d1_fn(void *arg)
{
	struct defer_ctx *c = arg;

	c->order[c->n++] = '1';
	/* scheduled from a deferred call: runs in the same drain, after d2 */
	evl_defer_schedule(c->evl, &c->d3);
}

static void d2_fn(void *arg)
{
	struct defer_ctx *c = arg;

	c->order[c->n++] = '2';
}

static void defer_fifo_idempotent_and_nested(void **state)
{
	struct defer_ctx c = {.evl = *state};

	evl_defer_init(&c.d1, d1_fn, &c);
	evl_defer_init(&c.d2, d2_fn, &c);
	evl_defer_init(&c.d3, d3_fn, &c);
	evl_defer_schedule(c.evl, &c.d1);
	evl_defer_schedule(c.evl, &c.d2);
	evl_defer_schedule(c.evl, &c.d1); /* twice: no-op */
	assert_int_equal(evl_run(c.evl), 0);
	assert_string_equal(c.order, "123");
}

static void defer_cancel(void **state)
{
	struct defer_ctx c = {.evl = *state};

	evl_defer_init(&c.d1, d1_fn, &c);
	evl_defer_init(&c.d2, d2_fn, &c);
	evl_defer_init(&c.d3, d3_fn, &c);
	evl_defer_schedule(c.evl, &c.d2);
	evl_defer_schedule(c.evl, &c.d1);
	evl_defer_cancel(c.evl, &c.d1); /* tail */
	evl_defer_cancel(c.evl, &c.d1); /* not pending: no-op */
	evl_defer_schedule(c.evl, &c.d3);
	assert_int_equal(evl_run(c.evl), 0);
	assert_string_equal(c.order, "23");
}

/* ---- timers ---- */
struct timer_ctx {
	struct evl *evl;
	struct evl_timer *t;
	int fired;
	uint64_t start;
};

static void periodic_fn(void *arg)
{
	struct timer_ctx *c = arg;

	if (++c->fired == 3)
		evl_stop(c->evl);
}

static void timer_periodic_then_disarm(void **state)
{
	struct timer_ctx c = {.evl = *state};

	assert_int_equal(evl_timer_create(c.evl, periodic_fn, &c, &c.t), 0);
	c.start = util_now_ms();
	assert_int_equal(evl_timer_arm(c.t, 10, 10), 0);
	assert_int_equal(evl_run(c.evl), 0);
	assert_int_equal(c.fired, 3);
	assert_true(util_now_ms() - c.start >= 29);
	assert_int_equal(evl_timer_arm(c.t, 0, 0), 0);
	evl_timer_destroy(c.t);
}

static void oneshot_destroys_itself(void *arg)
{
	struct timer_ctx *c = arg;

	c->fired++;
	evl_timer_destroy(c->t); /* destroying inside its own callback is allowed */
	evl_stop(c->evl);
}

static void timer_oneshot_destroy_in_callback(void **state)
{
	struct timer_ctx c = {.evl = *state};

	assert_int_equal(evl_timer_create(c.evl, oneshot_destroys_itself, &c, &c.t), 0);
	assert_int_equal(evl_timer_arm(c.t, 5, 0), 0);
	assert_int_equal(evl_run(c.evl), 0);
	assert_int_equal(c.fired, 1);
}

/* ---- busy polling (evl_set_poll_us, issue 8) ---- */
static uint64_t thread_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void oneshot_stop(void *arg)
{
	struct timer_ctx *c = arg;

	c->fired++;
	evl_stop(c->evl);
}

/* The loop spins for about poll_us after the last event, then sleeps: a
 * timer 150 ms away fires on time and the wait costs at most the 20 ms window
 * of CPU, not 150. The lower bound is lenient: on a loaded machine the
 * spinning thread gets only its share of a CPU during the window. */
static void busy_poll_spins_then_sleeps(void **state)
{
	struct timer_ctx c = {.evl = *state};
	uint64_t cpu0, cpu;

	evl_set_poll_us(c.evl, 20000);
	assert_int_equal(evl_timer_create(c.evl, oneshot_stop, &c, &c.t), 0);
	assert_int_equal(evl_timer_arm(c.t, 150, 0), 0);
	c.start = util_now_ms();
	cpu0 = thread_cpu_us();
	assert_int_equal(evl_run(c.evl), 0);
	cpu = thread_cpu_us() - cpu0;
	assert_int_equal(c.fired, 1);
	assert_true(util_now_ms() - c.start >= 149);
	assert_true(cpu >= 300); /* it did spin */
	assert_true(cpu < 100000); /* and then slept */
	evl_timer_destroy(c.t);
}

/* Events arriving while the loop spins are delivered like any other. */
static void busy_poll_delivers_fd_events(void **state)
{
	struct evl *evl = *state;
	struct pipe_ctx c = {0};
	int p[2];

	evl_set_poll_us(evl, 10000);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(evl_fd_add(evl, p[0], EPOLLIN, pipe_cb, &c), 0);
	assert_int_equal(write(p[1], "a", 1), 1);
	assert_int_equal(evl_run(evl), 0);
	assert_int_equal(write(p[1], "b", 1), 1);
	assert_int_equal(evl_run(evl), 0);
	assert_int_equal(c.calls, 2);
	assert_string_equal(c.got, "b");
	evl_set_poll_us(evl, 0);
	evl_fd_del(evl, p[0]);
	close(p[0]);
	close(p[1]);
}

/* ---- worker jobs ---- */
#define NJOBS 50
struct job_ctx {
	struct evl *evl;
	struct evl_job jobs[NJOBS];
	pthread_t loop_thread;
	pthread_t work_thread[NJOBS];
	int seq[NJOBS];
	int next_seq;
	int done;
};

static int job_work(void *arg)
{
	(void)arg; /* work must not touch loop-owned state */
	usleep(100);
	return 7;
}

static struct job_ctx *g_job_ctx;

static void job_done(void *arg, int result)
{
	struct evl_job *j = arg;
	struct job_ctx *c = g_job_ctx;
	int idx = (int)(j - c->jobs);

	assert_int_equal(result, 7);
	assert_true(pthread_equal(pthread_self(), c->loop_thread));
	c->seq[idx] = c->next_seq++;
	if (++c->done == NJOBS)
		evl_stop(c->evl);
}

static void worker_jobs_done_on_loop_in_order(void **state)
{
	static struct job_ctx c;

	memset(&c, 0, sizeof(c));
	c.evl = *state;
	c.loop_thread = pthread_self();
	g_job_ctx = &c;
	for (int i = 0; i < NJOBS; i++) {
		c.jobs[i].work = job_work;
		c.jobs[i].done = job_done;
		c.jobs[i].arg = &c.jobs[i];
		evl_job_submit(c.evl, &c.jobs[i]);
	}
	assert_int_equal(evl_run(c.evl), 0);
	assert_int_equal(c.done, NJOBS);
	for (int i = 0; i < NJOBS; i++)
		assert_int_equal(c.seq[i], i);
}

static void stop_before_run_returns_after_one_batch(void **state)
{
	struct evl *evl = *state;

	evl_stop(evl);
	assert_int_equal(evl_run(evl), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(fd_readable_calls_back, setup, teardown),
	    cmocka_unit_test_setup_teardown(fd_del_in_same_batch_suppresses_callback, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(defer_fifo_idempotent_and_nested, setup, teardown),
	    cmocka_unit_test_setup_teardown(defer_cancel, setup, teardown),
	    cmocka_unit_test_setup_teardown(timer_periodic_then_disarm, setup, teardown),
	    cmocka_unit_test_setup_teardown(timer_oneshot_destroy_in_callback, setup, teardown),
	    cmocka_unit_test_setup_teardown(busy_poll_spins_then_sleeps, setup, teardown),
	    cmocka_unit_test_setup_teardown(busy_poll_delivers_fd_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(worker_jobs_done_on_loop_in_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(stop_before_run_returns_after_one_batch, setup,
					    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
