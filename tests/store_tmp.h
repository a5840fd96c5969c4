/*
 * store_tmp.h - a store in a temporary directory for one unit test: made
 * at the start, removed at the end.  Header-only, for tests whose cases
 * share one store (store_path is there for raw SQL beside the API).
 */
#ifndef SW_TEST_STORE_TMP_H
#define SW_TEST_STORE_TMP_H

#include <stdio.h>
#include <stdlib.h>

#include "lib/store.h"
#include "lib/xmalloc.h"
#include "tests/sqlite_raw.h"
#include "tests/tap.h"

static char tmpdir[] = "/tmp/sw-store-test.XXXXXX";
static char *store_path;

/* A new store in a new temporary directory, or NULL (a failed check
 * printed; the test should end with store_tmp_done). */
static inline struct sw_store *store_tmp_open(void)
{
	struct sw_store *st = NULL;
	char err[512] = "";

	const char *url = getenv("SW_TEST_STORE_URL");

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		exit(1);
	}
	/* tests/integration/060-store-pg.sh: that PostgreSQL database,
	 * emptied, instead of a file */
	if (url && raw_exec(url, "DROP SCHEMA public CASCADE; CREATE SCHEMA public") != 0)
		printf("# could not empty the PostgreSQL test database\n");
	store_path = url ? xstrdup(url) : xasprintf("%s/store.db", tmpdir);
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
