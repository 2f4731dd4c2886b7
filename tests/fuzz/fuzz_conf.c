/* SPDX-License-Identifier: MIT */
/*
 * fuzz_conf: the configuration readers of src/conf: conf_load_ex on a file
 * (inih + targetd's validation, targetd.conf(5)) and conf_from_args for the
 * quick-export command line (--listen / --export).
 *
 * Input: byte 0 bit 0 clear: the rest is the file, handed to conf_load_ex
 * through a memfd (/proc/self/fd/N, no temp file per input). Bit 0 set: the
 * rest is lines; "L..." lines are --listen values, "E..." lines --export
 * values (at most 16 of each).
 * Checks: a failure reports at least one error; a success yields targets
 * with a name, distinct target names, LUNs with a path, a block size of 512
 * or 4096 (SBC-4 logical block length as targetd.conf(5) allows) and no LUN
 * number twice in one target (SAM-5 4.6: a LUN addresses one logical unit).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "targetd/conf.h"

static int memfd = -1;
static char memfd_path[64];

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_conf: invariant broken: %s\n", what);
		abort();
	}
}

static void check_conf(const struct conf *c)
{
	for (size_t i = 0; i < c->n_targets; i++) {
		const struct conf_target *t = &c->targets[i];

		check(t->name && *t->name, "target without a name");
		for (size_t j = 0; j < i; j++)
			check(strcmp(c->targets[j].name, t->name) != 0, "target defined twice");
		for (size_t j = 0; j < t->n_luns; j++) {
			const struct conf_lun *l = &t->luns[j];

			check(l->path && *l->path, "LUN without a path");
			check(l->block_size == 512 || l->block_size == 4096, "block size");
			for (size_t k = 0; k < j; k++)
				check(t->luns[k].lun != l->lun, "LUN number twice in a target");
		}
	}
	for (size_t i = 0; i < c->n_portals; i++)
		check(c->portals[i].host != NULL, "portal without host");
}

static void from_args(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *save = NULL;
	const char *listens[16], *exports[16];
	size_t nl = 0, ne = 0;
	struct conf *c = NULL;

	if (!text)
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == 'L' && nl < 16)
			listens[nl++] = line + 1;
		else if (line[0] == 'E' && ne < 16)
			exports[ne++] = line + 1;
	}
	if (conf_from_args(listens, nl, exports, ne, fuzz_state_dir_get(), &c) == 0) {
		check(c != NULL, "conf_from_args success without a conf");
		check_conf(c);
		conf_free(c);
	}
	free(text);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	memfd = memfd_create("targetd-fuzz.conf", MFD_CLOEXEC);
	if (memfd < 0) {
		perror("fuzz_conf: memfd_create");
		abort();
	}
	snprintf(memfd_path, sizeof(memfd_path), "/proc/self/fd/%d", memfd);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_problems probs;
	struct conf *c = NULL;
	size_t errors = 0;
	int r;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		from_args(data + 1, size - 1);
		return 0;
	}
	if (ftruncate(memfd, 0) || pwrite(memfd, data + 1, size - 1, 0) != (ssize_t)(size - 1))
		abort();
	r = conf_load_ex(memfd_path, &c, &probs);
	for (size_t i = 0; i < probs.n; i++) {
		check(probs.v[i].msg != NULL, "problem without a message");
		errors += !probs.v[i].warning;
	}
	if (r == 0) {
		check(c != NULL, "conf_load success without a conf");
		check(errors == 0, "conf_load success with errors");
		check_conf(c);
		conf_free(c);
	} else {
		check(r == -EINVAL || r == -ENOMEM, "conf_load result");
		check(r != -EINVAL || errors > 0, "conf_load failed without naming an error");
	}
	conf_problems_free(&probs);
	return 0;
}
