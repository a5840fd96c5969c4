/*
 * fuzz_pg_sql.c - fuzz target for the SQL rewrite of the PostgreSQL
 * backend (lib/db_pg_sql.c).
 *
 * Properties, not only "no crash": a refusal says why; an accepted text
 * has at most 256 parameters, each name numbered once; a text without
 * quotes, comments, parentheses, parameters or the words the rewrite
 * touches comes back unchanged.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/db_pg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[512], err[128];
	struct sw_pg_sql q;
	int i, j;

	if (size >= sizeof(s))
		size = sizeof(s) - 1;
	memcpy(s, data, size);
	s[size] = '\0';
	if (sw_db_pg_translate(s, &q, err, sizeof(err)) != 0) {
		if (err[0] == '\0')
			abort(); /* a refusal always says why */
		return 0;
	}
	if (q.text == NULL || q.nparams < 0 || q.nparams > 256)
		abort();
	for (i = 0; i < q.nparams; i++)
		for (j = i + 1; q.names[i] && j < q.nparams; j++)
			if (q.names[j] && strcmp(q.names[i], q.names[j]) == 0)
				abort(); /* one number per name */
	if (!strpbrk(s, "'\"?:@$-/(") && strcmp(q.text, s) != 0 && !strcasestr(s, "begin") &&
	    !strcasestr(s, "indexed") && !strcasestr(s, "is"))
		abort();
	sw_db_pg_sql_free(&q);
	return 0;
}
