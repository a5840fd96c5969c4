/*
 * standalone.c - runs a libFuzzer target without libFuzzer, for make check.
 *
 * Replays every file of the target's corpus (tests/fuzz/corpus/NAME/, NAME
 * being the program name without "fuzz_"), then a bounded number of seeded
 * mutations of those files (bit flips, byte changes, truncation, insertion
 * of interesting bytes, splicing two inputs).  Deterministic: the same
 * build always runs the same inputs.  A crash, sanitizer report or
 * assertion aborts the program and the test fails; otherwise it prints TAP.
 * Environment: SW_FUZZ_ITERS (default 3000) mutations, SW_FUZZ_CORPUS
 * overrides the corpus directory.  Arguments, if any, are extra input files.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	uint8_t *data;
	size_t size;
};

static struct input *inputs;
static size_t n_inputs;

static void add_input(const uint8_t *data, size_t size)
{
	inputs = xreallocarray(inputs, n_inputs + 1, sizeof(*inputs));
	inputs[n_inputs].data = xmalloc(size ? size : 1);
	if (size)
		memcpy(inputs[n_inputs].data, data, size);
	inputs[n_inputs].size = size;
	n_inputs++;
}

static int load_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t buf[1 << 16];
	size_t n;

	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	add_input(buf, n);
	return 0;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	/* xorshift64*: deterministic, good enough to pick mutations */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static size_t mutate(uint8_t *buf, size_t size, size_t cap)
{
	static const uint8_t interesting[] = { 0, 0xff, '\n', '\r', '"', '\\', '[', ']',
					       '=', ':', '-', '+', 'T', 'Z', '.', 0x80, 0xc3 };
	size_t pos = size ? rng() % size : 0;

	switch (rng() % 6) {
	case 0:
		if (size)
			buf[pos] ^= (uint8_t)(1u << (rng() % 8));
		break;
	case 1:
		if (size)
			buf[pos] = interesting[rng() % sizeof(interesting)];
		break;
	case 2:
		size = size ? rng() % size : 0;
		break;
	case 3:
		if (size < cap) {
			memmove(buf + pos + 1, buf + pos, size - pos);
			buf[pos] = interesting[rng() % sizeof(interesting)];
			size++;
		}
		break;
	case 4: {
		const struct input *o = &inputs[rng() % n_inputs];
		size_t take = o->size ? rng() % o->size : 0;

		if (pos + take > cap)
			take = cap - pos;
		memcpy(buf + pos, o->data, take);
		if (pos + take > size)
			size = pos + take;
		break;
	}
	default:
		if (size)
			buf[pos] = (uint8_t)('0' + rng() % 10);
		break;
	}
	return size;
}

int main(int argc, char **argv)
{
	const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	const char *srcdir = getenv("SW_SRCDIR") ? getenv("SW_SRCDIR") : ".";
	const char *iters_env = getenv("SW_FUZZ_ITERS");
	long iters = iters_env ? strtol(iters_env, NULL, 10) : 3000;
	char *dir;
	DIR *d;
	struct dirent *de;
	uint8_t buf[1 << 16];
	int n = 0;

	if (strncmp(prog, "lt-", 3) == 0)
		prog += 3;
	if (strncmp(prog, "fuzz_", 5) == 0)
		prog += 5;
	dir = getenv("SW_FUZZ_CORPUS") ? xstrdup(getenv("SW_FUZZ_CORPUS"))
				       : xasprintf("%s/tests/fuzz/corpus/%s", srcdir, prog);
	d = opendir(dir);
	if (d == NULL) {
		printf("Bail out! cannot open corpus %s: %s\n", dir, strerror(errno));
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		char *path;

		if (de->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		if (load_file(path) == 0) {
			LLVMFuzzerTestOneInput(inputs[n_inputs - 1].data, inputs[n_inputs - 1].size);
			printf("ok %d - corpus %s\n", ++n, de->d_name);
		}
		free(path);
	}
	closedir(d);
	for (int i = 1; i < argc; i++)
		if (load_file(argv[i]) == 0)
			LLVMFuzzerTestOneInput(inputs[n_inputs - 1].data, inputs[n_inputs - 1].size);
	if (n_inputs == 0) {
		printf("Bail out! corpus %s is empty\n", dir);
		return 1;
	}
	for (long i = 0; i < iters; i++) {
		const struct input *seed = &inputs[rng() % n_inputs];
		size_t size = seed->size < sizeof(buf) ? seed->size : sizeof(buf);
		int rounds = 1 + (int)(rng() % 4);

		memcpy(buf, seed->data, size);
		while (rounds--)
			size = mutate(buf, size, sizeof(buf));
		LLVMFuzzerTestOneInput(buf, size);
	}
	printf("ok %d - %ld seeded mutations without a crash\n", ++n, iters);
	printf("1..%d\n", n);
	for (size_t i = 0; i < n_inputs; i++)
		free(inputs[i].data);
	free(inputs);
	free(dir);
	return 0;
}
