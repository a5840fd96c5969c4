#!/usr/bin/env bash
# 001-banned-calls: no C source uses the calls style.md bans (curl's
# CODE_STYLE list): strcpy, strcat, sprintf, strtok, atoi, gets.
. "$SW_SRCDIR/tests/integration/lib.sh"

cd "$SW_SRCDIR"
# git's list in a checkout; a dist tree (make distcheck unpacks one, maybe
# inside a checkout where git lists nothing for it) is searched instead.
files=$(git ls-files '*.c' '*.h' 2>/dev/null)
[ -n "$files" ] || files=$(find lib collector alerts probes dashboards include tests bench tools \
	-name '*.[ch]' 2>/dev/null)
[ -n "$files" ] || bail "no C sources found"
for fn in strcpy strcat sprintf vsprintf strtok atoi gets; do
	# \b before the name so snprintf/strtok_r-less names like xasprintf don't match.
	hits=$(grep -nE "(^|[^A-Za-z0-9_])$fn[[:space:]]*\(" $files | grep -v 'banned-ok' || true)
	if [ -z "$hits" ]; then ok "no $fn()"; else not_ok "no $fn()" "$hits"; fi
done

# The check itself must be able to fail: it finds a planted call.
echo 'int f(char *d){ return atoi(d); }' >"$T_DIR/planted.c"
if grep -qE "(^|[^A-Za-z0-9_])atoi[[:space:]]*\(" "$T_DIR/planted.c"; then
	ok "the pattern catches a planted atoi()"
else
	not_ok "the pattern catches a planted atoi()"
fi
done_testing
