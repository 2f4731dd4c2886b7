/* SPDX-License-Identifier: MIT */
/*
 * Log-linear latency histogram (HdrHistogram-like): 32 sub-buckets per power of two,
 * so any recorded value is reported within 1/32 (~3 %). Fixed size, no allocation.
 */
#ifndef TARGETD_BENCH_HIST_H
#define TARGETD_BENCH_HIST_H

#include <stdint.h>
#include <string.h>

#define BENCH_HIST_SUB_BITS 5
#define BENCH_HIST_SUB (1u << BENCH_HIST_SUB_BITS)
#define BENCH_HIST_N ((64 - BENCH_HIST_SUB_BITS) * BENCH_HIST_SUB)

struct bench_hist {
	uint64_t b[BENCH_HIST_N];
	uint64_t count, sum, max;
};

static inline unsigned bench_hist_idx(uint64_t v)
{
	unsigned msb, shift;

	if (v < 2 * BENCH_HIST_SUB)
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v);
	shift = msb - BENCH_HIST_SUB_BITS;
	return (shift + 1) * BENCH_HIST_SUB + (unsigned)((v >> shift) - BENCH_HIST_SUB);
}

/* Midpoint of the values that map to bucket idx. */
static inline uint64_t bench_hist_value(unsigned idx)
{
	unsigned shift;

	if (idx < 2 * BENCH_HIST_SUB)
		return idx;
	shift = idx / BENCH_HIST_SUB - 1;
	return ((uint64_t)(idx % BENCH_HIST_SUB + BENCH_HIST_SUB) << shift) +
	    ((1ULL << shift) >> 1);
}

static inline void bench_hist_add(struct bench_hist *h, uint64_t v)
{
	h->b[bench_hist_idx(v)]++;
	h->count++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
}

static inline void bench_hist_merge(struct bench_hist *dst, const struct bench_hist *src)
{
	for (unsigned i = 0; i < BENCH_HIST_N; i++)
		dst->b[i] += src->b[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->max > dst->max)
		dst->max = src->max;
}

/* Smallest recorded value v such that at least pct % of the values are <= v. */
static inline uint64_t bench_hist_pct(const struct bench_hist *h, double pct)
{
	uint64_t want, seen = 0;

	if (!h->count)
		return 0;
	want = (uint64_t)((double)h->count * pct / 100.0 + 0.999999);
	if (want == 0)
		want = 1;
	for (unsigned i = 0; i < BENCH_HIST_N; i++) {
		seen += h->b[i];
		if (seen >= want) {
			uint64_t v = bench_hist_value(i);

			return v > h->max ? h->max : v;
		}
	}
	return h->max;
}

static inline double bench_hist_mean(const struct bench_hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0;
}

#endif
