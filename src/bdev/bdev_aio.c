/* SPDX-License-Identifier: MIT */
/*
 * bdev_aio: the data path of the aio backend (block devices and regular
 * files, O_DIRECT + libaio).
 *
 * Submission: bdev_submit -> the iocb is prepared inside bdev_io.priv (no
 * malloc per I/O) and queued; an evl_defer ("kick") runs after the current
 * batch of loop events and hands everything queued to the kernel in one
 * io_submit. A partial submission or EAGAIN leaves the rest queued; it goes
 * out when completions free slots (or from a 1 ms retry timer when nothing is
 * in flight). At most `depth` iocbs are given to the kernel at once.
 *
 * Completion: every iocb carries IOCB_FLAG_RESFD, so the kernel bumps an
 * eventfd that the loop watches; its callback reaps the completions and calls
 * done on the loop thread. Reaping costs no syscall where the kernel's
 * completion ring is usable (see ring_reap): the events are read straight
 * from the ring io_setup mapped into our address space, and the eventfd is
 * registered edge-triggered so it never has to be read (every completion
 * still wakes the loop: eventfd signals epoll on each increment). Otherwise
 * the eventfd is level-triggered, read, and reaped with a non-blocking
 * io_getevents. Per I/O at QD1 that is 2 syscalls fewer. A completion with
 * res != len is -EIO (the LU size is fixed at open; a short transfer means
 * the medium shrank or failed).
 *
 * Durability (why GOOD after SYNCHRONIZE CACHE, and after a FUA write, is true):
 *  - A write is only reported complete when the kernel completed it. With
 *    O_DIRECT it bypassed the page cache but may sit in the device's
 *    volatile write cache; buffered, it may sit in the page cache.
 *  - FLUSH is IOCB_CMD_FDSYNC (vfs_fsync(datasync=1), Linux 4.18) or, when the
 *    kernel or filesystem refuses that (probed once: EINVAL), fdatasync(2) on
 *    the worker thread. Either one writes back dirty page cache, commits the
 *    file metadata needed to read the data back (extents allocated by writes
 *    into holes), and sends a cache flush (REQ_PREFLUSH) to the device; for a
 *    block device it is blkdev_issue_flush. So every write that completed
 *    before the FLUSH was submitted is on stable media when FLUSH completes,
 *    which is what SBC-4 5.24 (SYNCHRONIZE CACHE) asks for. Writes still in
 *    flight when FLUSH is issued are not covered, as SBC-4 allows.
 *  - FUA (SBC-4 5.44 WRITE(10) FUA bit) is RWF_DSYNC on the iocb: the kernel
 *    completes the write only after a data-integrity sync of that range
 *    (REQ_FUA on the bio where the device supports it, a flush otherwise).
 *    If RWF_DSYNC is refused, the write is followed by a FLUSH as above and
 *    done runs only after both.
 *  - DISCARD and WRITE_ZEROES run on the worker (BLKDISCARD/BLKZEROOUT or
 *    fallocate) and become durable with the next FLUSH, like writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#include "bdev_aio.h"

#ifdef RWF_ATOMIC
#define BDEV_RWF_ATOMIC RWF_ATOMIC
#else
#define BDEV_RWF_ATOMIC 0x00000040 /* uapi linux/fs.h, Linux 6.11 */
#endif

#define ZERO_BUF_LEN (64u << 10)

enum aio_stage {
	ST_MAIN = 0, /* the requested operation */
	ST_FLUSH_AFTER, /* write done, FUA fallback flush still to do */
	ST_FLUSHING_AFTER, /* the FUA fallback flush is in flight */
};

static const char *op_name(enum bdev_op op)
{
	switch (op) {
	case BDEV_OP_READ:
		return "read";
	case BDEV_OP_WRITE:
		return "write";
	case BDEV_OP_FLUSH:
		return "flush";
	case BDEV_OP_DISCARD:
		return "discard";
	case BDEV_OP_WRITE_ZEROES:
		return "write-zeroes";
	}
	return "?";
}

static void aio_finish(struct bdev_aio *a, struct bdev_io *io, int res)
{
	if (res && util_ratelimit_ok(&a->rl)) {
		errno = -res;
		log_err("bdev", "%s: %s offset %llu len %llu: %m", a->b.path, op_name(io->op),
			(unsigned long long)io->offset, (unsigned long long)io->len);
	}
	bdev_complete(&a->b, io, res);
}

/* ---- worker jobs: DISCARD, WRITE_ZEROES, fdatasync fallback ---- */

static int zero_fill(struct bdev_aio *a, uint64_t off, uint64_t len)
{
	if (!a->zero_buf) {
		if (posix_memalign(&a->zero_buf, UTIL_BUF_ALIGN, ZERO_BUF_LEN))
			return -ENOMEM;
		memset(a->zero_buf, 0, ZERO_BUF_LEN);
	}
	while (len) {
		size_t n = len > ZERO_BUF_LEN ? ZERO_BUF_LEN : (size_t)len;
		ssize_t w = pwrite(a->fd, a->zero_buf, n, (off_t)off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w == 0)
			return -EIO;
		off += (uint64_t)w;
		len -= (uint64_t)w;
	}
	return 0;
}

static int aio_work(void *arg)
{
	struct bdev_io *io = arg;
	struct bdev_aio *a = container_of(bdev_priv(io)->bdev, struct bdev_aio, b);
	uint64_t range[2] = {io->offset, io->len};
	int ret = 0;

	if (io->op == BDEV_OP_FLUSH || bdev_priv(io)->stage == ST_FLUSHING_AFTER)
		return fdatasync(a->fd) < 0 ? -errno : 0;
	switch (io->op) {
	case BDEV_OP_DISCARD:
		if (a->b.info.is_blockdev)
			ret = ioctl(a->fd, BLKDISCARD, range);
		else
			ret = fallocate(a->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					(off_t)io->offset, (off_t)io->len);
		return ret < 0 ? -errno : 0;
	case BDEV_OP_WRITE_ZEROES:
		if (a->b.info.is_blockdev)
			ret = ioctl(a->fd, BLKZEROOUT, range);
		else
			ret = fallocate(a->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
					(off_t)io->offset, (off_t)io->len);
		if (ret < 0 && (errno == EOPNOTSUPP || errno == ENOTTY))
			return zero_fill(a, io->offset, io->len);
		return ret < 0 ? -errno : 0;
	case BDEV_OP_READ:
	case BDEV_OP_WRITE:
	case BDEV_OP_FLUSH:
		break;
	}
	return -EINVAL;
}

static void aio_work_done(void *arg, int res)
{
	struct bdev_io *io = arg;
	struct bdev_aio *a = container_of(bdev_priv(io)->bdev, struct bdev_aio, b);

	a->winflight--;
	aio_finish(a, io, res);
}

static void to_worker(struct bdev_aio *a, struct bdev_io *io)
{
	struct evl_job *job = &bdev_priv(io)->u.job;

	memset(job, 0, sizeof(*job));
	job->work = aio_work;
	job->done = aio_work_done;
	job->arg = io;
	a->winflight++;
	evl_job_submit(a->b.evl, job);
}

/* ---- queueing and io_submit ---- */

static void enqueue(struct bdev_aio *a, struct bdev_io *io, bool front)
{
	struct bdev_priv *p = bdev_priv(io);

	if (front) {
		p->next = a->q_head;
		a->q_head = io;
		if (!a->q_tail)
			a->q_tail = io;
	} else {
		p->next = NULL;
		if (a->q_tail)
			bdev_priv(a->q_tail)->next = io;
		else
			a->q_head = io;
		a->q_tail = io;
	}
	evl_defer_schedule(a->b.evl, &a->kick);
}

static struct bdev_io *dequeue(struct bdev_aio *a)
{
	struct bdev_io *io = a->q_head;

	if (io) {
		a->q_head = bdev_priv(io)->next;
		if (!a->q_head)
			a->q_tail = NULL;
		bdev_priv(io)->next = NULL;
	}
	return io;
}

static void prep_rw(struct bdev_aio *a, struct bdev_io *io)
{
	struct bdev_priv *p = bdev_priv(io);
	struct iocb *cb = &p->u.iocb;
	int rwf = 0;

	p->stage = ST_MAIN;
	if (io->op == BDEV_OP_WRITE && (io->flags & BDEV_IO_FUA)) {
		if (a->rwf_dsync)
			rwf = RWF_DSYNC;
		else
			p->stage = ST_FLUSH_AFTER;
	}
	/* untorn write (bdev.c checked it against the probed atomic limits) */
	if (io->op == BDEV_OP_WRITE && (io->flags & BDEV_IO_ATOMIC))
		rwf |= BDEV_RWF_ATOMIC;
	if (io->op == BDEV_OP_READ)
		io_prep_preadv2(cb, a->fd, io->iov, io->iovcnt, (long long)io->offset, 0);
	else
		io_prep_pwritev2(cb, a->fd, io->iov, io->iovcnt, (long long)io->offset, rwf);
	cb->data = io;
	io_set_eventfd(cb, a->efd);
}

/* Queue a flush for io (a FLUSH request, or the flush after a FUA write). */
static void submit_flush(struct bdev_aio *a, struct bdev_io *io)
{
	struct iocb *cb = &bdev_priv(io)->u.iocb;

	if (!a->fdsync_aio) {
		to_worker(a, io);
		return;
	}
	io_prep_fdsync(cb, a->fd);
	cb->data = io;
	io_set_eventfd(cb, a->efd);
	enqueue(a, io, false);
}

/* io_submit refused the first iocb of the batch with err. */
static void submit_failed(struct bdev_aio *a, struct bdev_io *io, int err)
{
	struct bdev_priv *p = bdev_priv(io);
	bool is_fsync = p->u.iocb.aio_lio_opcode == IO_CMD_FDSYNC;

	if (is_fsync && err == -EINVAL && !a->fdsync_probed) {
		/* No aio fsync here (kernel < 4.18 or the filesystem): use
		 * fdatasync on the worker from now on. */
		log_notice("bdev", "%s: aio fdsync unsupported, FLUSH uses fdatasync", a->b.path);
		a->fdsync_aio = false;
		a->fdsync_probed = true;
		to_worker(a, io);
		return;
	}
	if (!is_fsync && io->op == BDEV_OP_WRITE && p->u.iocb.aio_rw_flags == RWF_DSYNC &&
	    (err == -EINVAL || err == -EOPNOTSUPP) && a->rwf_dsync) {
		log_notice("bdev", "%s: RWF_DSYNC unsupported, FUA becomes write + flush",
			   a->b.path);
		a->rwf_dsync = false;
		prep_rw(a, io);
		enqueue(a, io, true);
		return;
	}
	aio_finish(a, io, err);
}

static void retry_fire(void *arg)
{
	struct bdev_aio *a = arg;

	evl_defer_schedule(a->b.evl, &a->kick);
}

static void kick(void *arg)
{
	struct bdev_aio *a = arg;

	while (a->q_head && a->kinflight < a->depth) {
		unsigned room = a->depth - a->kinflight, n = 0;
		struct bdev_io *io;
		int ret;

		for (io = a->q_head; io && n < room; io = bdev_priv(io)->next)
			a->batch[n++] = &bdev_priv(io)->u.iocb;
		ret = io_submit(a->ctx, (long)n, a->batch);
		if (ret == -EINTR)
			continue;
		if (ret == -EAGAIN || ret == 0) {
			/* Kernel out of resources: completions will kick
			 * again; with none pending, a timer does. */
			if (a->kinflight == 0)
				evl_timer_arm(a->retry, 1, 0);
			return;
		}
		if (ret < 0) {
			submit_failed(a, dequeue(a), ret);
			continue;
		}
		for (int i = 0; i < ret; i++) {
			io = dequeue(a);
			if (bdev_priv(io)->u.iocb.aio_lio_opcode == IO_CMD_FDSYNC)
				a->fdsync_probed = true;
		}
		a->kinflight += (unsigned)ret;
	}
}

static void reap_one(struct bdev_aio *a, struct io_event *ev)
{
	struct bdev_io *io = ev->data;
	struct bdev_priv *p = bdev_priv(io);
	long res = (long)ev->res;
	int err = 0;

	a->kinflight--;
	if (res < 0)
		err = (int)res;
	else if (p->u.iocb.aio_lio_opcode != IO_CMD_FDSYNC && (uint64_t)res != io->len)
		err = -EIO; /* short transfer */
	if (!err && p->stage == ST_FLUSH_AFTER) {
		p->stage = ST_FLUSHING_AFTER;
		submit_flush(a, io);
		return;
	}
	aio_finish(a, io, err);
}

/*
 * The completion ring io_setup maps at the address it returns as the context
 * (Linux fs/aio.c struct aio_ring). Its layout is kernel ABI that libaio,
 * fio (--userspace_reap) and SPDK read the same way: the kernel appends at
 * tail, the consumer advances head. Used only when magic and
 * incompat_features say it is this layout; io_getevents is never mixed in.
 */
struct aio_uring {
	/* cppcheck-suppress unusedStructMember ; kernel ABI layout: id is not read */
	unsigned id, nr, head, tail;
	/* cppcheck-suppress unusedStructMember ; kernel ABI layout: compat_features is not read */
	unsigned magic, compat_features, incompat_features, header_length;
	struct io_event events[];
};
#define AIO_URING_MAGIC 0xa10a10a1u

static bool ring_usable(io_context_t ctx)
{
	const struct aio_uring *r = (const void *)ctx;

	return r && r->magic == AIO_URING_MAGIC && r->incompat_features == 0 &&
	    r->header_length == sizeof(*r) && r->nr > 0;
}

static int ring_reap(struct bdev_aio *a)
{
	struct aio_uring *r = (void *)a->ctx;
	unsigned nr = r->nr, head = r->head % nr;
	unsigned tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) % nr;
	int n = 0;

	while (head != tail && n < AIO_EVENTS) {
		a->events[n++] = r->events[head];
		head = head + 1 < nr ? head + 1 : 0;
	}
	/* the slots are free for the kernel once head has passed them */
	__atomic_store_n(&r->head, head, __ATOMIC_RELEASE);
	return n;
}

static void aio_event_cb(struct evl *evl, int fd, uint32_t events, void *arg)
{
	struct bdev_aio *a = arg;
	struct timespec zero = {0, 0};
	uint64_t cnt;
	int n;

	(void)evl;
	(void)events;
	if (!a->uring && read(fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		log_err("bdev", "%s: eventfd read: %m", a->b.path);
	do {
		n = a->uring ? ring_reap(a) : io_getevents(a->ctx, 0, AIO_EVENTS, a->events, &zero);
		if (n == -EINTR)
			continue;
		if (n < 0) {
			errno = -n;
			log_err("bdev", "%s: io_getevents: %m", a->b.path);
			break;
		}
		for (int i = 0; i < n; i++)
			reap_one(a, &a->events[i]);
	} while (n == AIO_EVENTS);
	if (a->q_head)
		evl_defer_schedule(a->b.evl, &a->kick);
}

static void aio_submit(struct bdev *bdev, struct bdev_io *io)
{
	struct bdev_aio *a = container_of(bdev, struct bdev_aio, b);
	struct bdev_priv *p = bdev_priv(io);

	p->bdev = bdev;
	p->stage = ST_MAIN;
	switch (io->op) {
	case BDEV_OP_READ:
	case BDEV_OP_WRITE:
		prep_rw(a, io);
		enqueue(a, io, false);
		return;
	case BDEV_OP_FLUSH:
		submit_flush(a, io);
		return;
	case BDEV_OP_DISCARD:
	case BDEV_OP_WRITE_ZEROES:
		to_worker(a, io);
		return;
	}
	bdev_complete_later(bdev, io, -EOPNOTSUPP);
}

static int aio_refresh_size(struct bdev *bdev)
{
	struct bdev_aio *a = container_of(bdev, struct bdev_aio, b);
	uint64_t size;
	int ret = bdev_aio_read_size(a, &size);

	if (ret)
		return ret;
	bdev->info.size = size;
	return 0;
}

static void aio_close(struct bdev *bdev)
{
	struct bdev_aio *a = container_of(bdev, struct bdev_aio, b);

	if (a->kinflight || a->winflight || a->q_head)
		log_err("bdev", "%s: close with I/O outstanding (bug)",
			bdev->path ? bdev->path : "?");
	evl_defer_cancel(bdev->evl, &a->kick);
	evl_timer_destroy(a->retry);
	if (a->efd >= 0) {
		evl_fd_del(bdev->evl, a->efd);
		close(a->efd);
	}
	if (a->ctx)
		io_destroy(a->ctx);
	if (a->fd >= 0)
		close(a->fd);
	free(a->zero_buf);
	free(a);
}

const struct bdev_ops bdev_aio_ops = {
    .name = "aio",
    .submit = aio_submit,
    .refresh_size = aio_refresh_size,
    .map_status = bdev_aio_map_status,
    .close = aio_close,
};

int bdev_aio_start(struct bdev_aio *a)
{
	int ret;

	a->rwf_dsync = true;
	a->fdsync_aio = true;
	a->rl = (struct util_ratelimit)UTIL_RATELIMIT_INIT(5000, 10);
	evl_defer_init(&a->kick, kick, a);
	/* io_setup fails with EAGAIN when fs.aio-max-nr is used up: take a
	 * smaller queue rather than no LU. */
	for (a->depth = AIO_DEPTH;; a->depth /= 2) {
		ret = io_setup((int)a->depth, &a->ctx);
		if (ret == 0)
			break;
		if (ret != -EAGAIN || a->depth <= 16)
			return ret;
	}
	a->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->efd < 0)
		return -errno;
	/*
	 * Not under valgrind: memcheck maps only the io_setup(nr) events of the
	 * ring, not the larger ring the kernel allocates (fs/aio.c doubles nr),
	 * and marks READ buffers defined only in its io_getevents wrapper, so
	 * reaping from the ring shows as invalid reads and uninitialised data
	 * sent on the wire (docs/testing.md, valgrind).
	 */
	a->uring = ring_usable(a->ctx) && !RUNNING_ON_VALGRIND;
	ret = evl_fd_add(a->b.evl, a->efd, EPOLLIN | (a->uring ? EPOLLET : 0), aio_event_cb, a);
	if (ret) {
		close(a->efd);
		a->efd = -1;
		return ret;
	}
	return evl_timer_create(a->b.evl, retry_fire, a, &a->retry);
}
