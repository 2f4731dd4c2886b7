/* SPDX-License-Identifier: MIT */
/*
 * util: logging, byte order, RFC 1982 serial arithmetic, aligned buffer pool,
 * durable file writes. Depends on libc only. Everything here is safe to call
 * from the loop thread; only the logging and file functions may be called from
 * the worker thread.
 */
#ifndef TARGETD_UTIL_H
#define TARGETD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))
#define UTIL_MIN(a, b) ((a) < (b) ? (a) : (b))
#define UTIL_MAX(a, b) ((a) > (b) ? (a) : (b))

/* ---- logging ------------------------------------------------------------
 * Levels are syslog priorities. Every line should name its object
 * ("iqn...:isid 80..: ..." or "lu <serial>: ..."). When stderr is connected to
 * the journal (JOURNAL_STREAM set) lines get a "<N>" priority prefix.
 * Debug lines are enabled per subsystem: util_log_set_debug("login,pr") or
 * "all". errno is preserved across every logging call.
 */
enum util_log_level {
	UTIL_LOG_ERR = 3,
	UTIL_LOG_WARN = 4,
	UTIL_LOG_NOTICE = 5,
	UTIL_LOG_INFO = 6,
	UTIL_LOG_DEBUG = 7,
};

void util_log_init(const char *progname);
int util_log_set_debug(const char *csv_subsystems); /* -EINVAL on junk */
bool util_log_debug_enabled(const char *subsys);
void util_log(enum util_log_level lvl, const char *subsys, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_err(sub, ...) util_log(UTIL_LOG_ERR, sub, __VA_ARGS__)
#define log_warn(sub, ...) util_log(UTIL_LOG_WARN, sub, __VA_ARGS__)
#define log_notice(sub, ...) util_log(UTIL_LOG_NOTICE, sub, __VA_ARGS__)
#define log_info(sub, ...) util_log(UTIL_LOG_INFO, sub, __VA_ARGS__)
#define log_debug(sub, ...)                                         \
	do {                                                        \
		if (util_log_debug_enabled(sub))                    \
			util_log(UTIL_LOG_DEBUG, sub, __VA_ARGS__); \
	} while (0)

/* Rate limit for data-path errors: at most `burst` lines per `interval_ms`,
 * then one "N messages suppressed" line when the window reopens. */
struct util_ratelimit {
	uint64_t interval_ms;
	unsigned burst;
	uint64_t window_start_ms;
	unsigned printed;
	unsigned suppressed;
};
#define UTIL_RATELIMIT_INIT(ms, n)                \
	{                                         \
		.interval_ms = (ms), .burst = (n) \
	}
bool util_ratelimit_ok(struct util_ratelimit *rl); /* true: print this one */

uint64_t util_now_ms(void); /* CLOCK_MONOTONIC */
uint64_t util_now_ns(void);

/* ---- byte order (wire formats are big endian) ---------------------------- */
static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t get_be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}
static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}
static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void put_be24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}
static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static inline void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

/* ---- RFC 1982 serial number arithmetic, SERIAL_BITS = 32 (RFC 7143 4.2.2.1) */
static inline bool sna32_lt(uint32_t a, uint32_t b)
{
	return a != b && ((a < b && b - a < (1u << 31)) || (a > b && a - b > (1u << 31)));
}
static inline bool sna32_gt(uint32_t a, uint32_t b)
{
	return a != b && !sna32_lt(a, b) && (a - b) != (1u << 31);
}
static inline bool sna32_le(uint32_t a, uint32_t b)
{
	return a == b || sna32_lt(a, b);
}
static inline bool sna32_ge(uint32_t a, uint32_t b)
{
	return a == b || sna32_gt(a, b);
}

/* ---- aligned data buffers ------------------------------------------------
 * 4 KiB-aligned buffers for the data path (O_DIRECT needs no bounce copy),
 * recycled through per-size-class free lists (powers of two from 4 KiB up to
 * UTIL_BUF_MAX) so steady-state I/O does no malloc. Thread-safe (one mutex:
 * a buffer may be allocated on the loop thread and freed on the worker).
 * util_buf_free must be passed the same len as util_buf_alloc. Contents of a
 * returned buffer are undefined (not zeroed).
 */
#define UTIL_BUF_ALIGN 4096u
#define UTIL_BUF_MAX (32u << 20)
void *util_buf_alloc(size_t len); /* NULL if len > UTIL_BUF_MAX or OOM */
void util_buf_free(void *buf, size_t len);
size_t util_buf_class(size_t len); /* the real capacity a buffer of len gets */
void util_buf_pool_trim(void); /* free all cached buffers (shutdown) */

/* ---- durable files --------------------------------------------------------
 * util_file_write_atomic: write data to "<dir>/.<name>.tmp", fsync it, rename
 * over "<dir>/<name>", fsync dir. Crash at any point leaves either the old or
 * the new complete file. Returns 0 or -errno (temp file removed on failure).
 * util_file_remove_durable: unlink + fsync dir; -ENOENT counts as success.
 * Blocking: call on the worker thread when on the data path.
 */
int util_file_write_atomic(const char *dir, const char *name, const void *data, size_t len);
int util_file_remove_durable(const char *dir, const char *name);
/* Read a whole (small) file into a malloc'd NUL-terminated buffer. */
int util_file_read_all(const char *path, char **out, size_t *len, size_t max_len);

/* ---- misc ---------------------------------------------------------------- */
/* Parse "4096", "64k", "1M", "2G", "1T" (binary units). -EINVAL / -ERANGE. */
int util_parse_size(const char *s, uint64_t *out);
/* strlcpy semantics; returns strlen(src). */
size_t util_strlcpy(char *dst, const char *src, size_t size);
/* Value of one hexadecimal digit (either case), -1 if c is not one. */
static inline int util_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
/* CRC32C (Castagnoli) as used by iSCSI digests (RFC 7143 12.1), via ISA-L.
 * Start with crc = 0; pass the previous result to continue over more bytes.
 * The digest goes on the wire least significant byte first (RFC 3720 B.4:
 * 32 zero bytes -> 0x8a9136aa, sent as aa 36 91 8a). */
uint32_t util_crc32c(uint32_t crc, const void *buf, size_t len);

#endif
