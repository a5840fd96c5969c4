/*
 * store_tmp.h - a store in a temporary directory for one unit test: made
 * at the start, removed at the end.  Header-only, for tests whose cases
 * share one store (store_path is there for raw SQL beside the API), and
 * for tests that open a new one now and then (store_tmp_new).
 */
#ifndef SW_TEST_STORE_TMP_H
#define SW_TEST_STORE_TMP_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/store.h"
#include "lib/xmalloc.h"
#include "tests/sqlite_raw.h"
#include "tests/tap.h"

static char tmpdir[] = "/tmp/sw-store-test.XXXXXX";
static char *store_path;

/* The temporary directory, made on the first call. */
static inline const char *store_tmp_dir(void)
{
	static int made;

	if (!made && !mkdtemp(tmpdir)) {
		perror("mkdtemp");
		exit(1);
	}
	made = 1;
	return tmpdir;
}

/* The address of a new, empty store called name (store_path): a file of
 * that name in the temporary directory, whatever an earlier store left
 * there removed, or with SW_TEST_STORE_URL that PostgreSQL database,
 * emptied (tests/integration/060-store-pg.sh: it holds one store at a
 * time, so a test opening several closes each before the next). */
static inline const char *store_tmp_new(const char *name)
{
	const char *url = getenv("SW_TEST_STORE_URL"), *const ext[] = {"", "-wal", "-shm",
									"-journal"};

	store_tmp_dir();
	free(store_path);
	if (url) {
		if (raw_exec(url, "DROP SCHEMA public CASCADE; CREATE SCHEMA public") != 0)
			printf("# could not empty the PostgreSQL test database\n");
		store_path = xstrdup(url);
		return store_path;
	}
	store_path = xasprintf("%s/%s", tmpdir, name);
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		char *f = xasprintf("%s%s", store_path, ext[i]);

		unlink(f);
		free(f);
	}
	return store_path;
}

/* A new store in a new temporary directory, or NULL (a failed check
 * printed; the test should end with store_tmp_done). */
static inline struct sw_store *store_tmp_open(void)
{
	struct sw_store *st = NULL;
	char err[512] = "";

	store_tmp_new("store.db");
	if (!ok(sw_store_open(store_path, 0, &st, err, sizeof(err)) == SW_OK, "open store")) {
		printf("#   %s\n", err);
		return NULL;
	}
	return st;
}

/* Closes st (may be NULL), removes the directory, returns tap_done(). */
static inline int store_tmp_done(struct sw_store *st)
{
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);

	sw_store_close(st);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpdir);
	free(cmd);
	free(store_path);
	return tap_done();
}

#endif /* SW_TEST_STORE_TMP_H */
