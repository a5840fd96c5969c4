#!/usr/bin/env bash
# 520-dash-listen: slipwatch-dash --listen serves the site it writes over
# HTTP (libmicrohttpd, dashboards/dash_serve.c), checked with curl on a
# free loopback port against a small site drawn from an RRD file the test
# fills (the fixture of 500-dash, one warehouse):
#   - / is index.html (200, text/html, no-cache), byte for byte; an SVG is
#     image/svg+xml; the stylesheet text/css; HEAD gives the headers and
#     length without a body;
#   - nothing outside the generation is ever served: /../, %2e%2e, %2f,
#     a symbolic link planted inside the generation (to a file, to a
#     directory), a hidden file: 404 and never the file's text; a
#     directory is 404, never a listing; a missing file 404;
#   - POST, PUT, DELETE: 405 with "Allow: GET, HEAD";
#   - access lines at debug level, the path escaped, no query string;
#   - a non-loopback address is refused at start (exit 1, saying how to
#     allow it) from --listen and from [dash] listen (naming the line);
#     malformed addresses likewise; a port in use is refused, naming it;
#   - with --every, every page and image fetched while generations swap is
#     whole (200, complete documents);
#   - [::1] when the machine has IPv6 loopback;
#   - SIGTERM: exit 0 and the port is closed.
# Readiness is polled (curl until 200), never slept for.
. "$SW_SRCDIR/tests/integration/lib.sh"
DASH=$SW_BUILDDIR/dashboards/slipwatch-dash
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:fast_unwind_on_malloc=0"
export LSAN_OPTIONS="suppressions=$SW_TEST_DATA/dash/lsan.supp"
PUT=$SW_BUILDDIR/tests/tools/sw_rrdput
command -v curl >/dev/null || bail "curl is not installed (Debian: curl; ./autotools/deps installs it)"

# --- one warehouse with three hours of known values (as 500-dash) ----------
STEP=60
END=$(($(date +%s) / STEP * STEP - STEP))
START=$((END - 3 * 3600))
RRD=$T_DIR/rrd
"$PUT" -s "$STEP" "$RRD" warehouse/blr1 "$START" || bail "sw_rrdput failed"
args=()
for ((i = (END - START) / STEP - 1; i >= 0; i--)); do
	args+=("$((END - i * STEP)):$((i % 7)):2:3:$((100 + i)):60:120:300:600")
done
rrdtool update "$RRD/warehouse/blr1.rrd" \
	-t created:picked:shipped:backlog_pick:pick_p10:pick_p50:pick_p90:pick_max "${args[@]}" ||
	bail "rrdtool update failed"

conf() { # conf FILE OUT [DASH-LINES...]: writes FILE
	local f=$1 out=$2
	shift 2
	{
		printf '[store]\npath = %s/store.db\n[log]\nlevel = debug\n' "$T_DIR"
		printf '[rrd]\ndir = %s\nstep = 60s\n' "$RRD"
		printf '[dash]\nout = %s\ntitle = Test shop\n' "$out"
		[ $# -gt 0 ] && printf '%s\n' "$@"
	} >"$f"
}
conf "$T_DIR/c.conf" "$T_DIR/www/site"
SITE=$T_DIR/www/site

# --- addresses refused at start ------------------------------------------------
PORT=$(free_port)
out=$("$DASH" -c "$T_DIR/c.conf" -d "$SW_SRCDIR/dashboards" --listen "0.0.0.0:$PORT" 2>&1); st=$?
is "$st" 1 "--listen 0.0.0.0 without listen_public: exit 1"
is "$out" "slipwatch-dash: --listen: not a loopback address: set [dash] listen_public = yes to serve other machines: '0.0.0.0:$PORT'" \
	"saying why and how to allow it"
check "and nothing was written" test ! -e "$SITE"
conf "$T_DIR/public.conf" "$T_DIR/www/public" "listen = 192.0.2.7:$PORT"
out=$("$DASH" -c "$T_DIR/public.conf" -d "$SW_SRCDIR/dashboards" -t 2>&1); st=$?
is "$st" 1 "[dash] listen = a LAN address without listen_public: -t exits 1"
line=$(grep -n '^listen = ' "$T_DIR/public.conf" | cut -d: -f1)
contains "$out" "public.conf:$line: [dash] listen: not a loopback address: set [dash] listen_public = yes" \
	"naming the file and line"
out=$("$DASH" -c "$T_DIR/public.conf" -d "$SW_SRCDIR/dashboards" 2>&1); st=$?
is "$st" 1 "and a start is refused the same way"
conf "$T_DIR/public.conf" "$T_DIR/www/public" "listen = 0.0.0.0:$PORT" "listen_public = yes"
out=$("$DASH" -c "$T_DIR/public.conf" -d "$SW_SRCDIR/dashboards" -t 2>&1); st=$?
is "$st" 0 "with listen_public = yes a wildcard address passes -t (not started: tests stay on loopback)"
for bad in "127.0.0.1" "127.0.0.1:" "127.0.0.1:0" "127.0.0.1:65536" "127.0.0.1:80x" "::1:$PORT" \
	"[::1]$PORT" "localhost:$PORT" "[127.0.0.1]:$PORT" "300.0.0.1:$PORT"; do
	out=$("$DASH" -c "$T_DIR/c.conf" -d "$SW_SRCDIR/dashboards" --listen "$bad" 2>&1); st=$?
	is "$st" 1 "--listen '$bad' is refused"
	contains "$out" "slipwatch-dash: --listen: " "and says why: ${out#slipwatch-dash: --listen: }"
done
out=$("$DASH" -c "$T_DIR/c.conf" --listen "" 2>&1); st=$?
is "$st" 2 "--listen '': usage error"
check "nothing was written by the refused starts" test ! -e "$SITE"

# --- serving a site written once ------------------------------------------------
URL=http://127.0.0.1:$PORT
sw_spawn "$T_DIR/once.log" "$DASH" -c "$T_DIR/c.conf" -d "$SW_SRCDIR/dashboards" --once --listen "127.0.0.1:$PORT"
ONCE_PID=$SPAWNED
wait_for 60 curl -sf -o /dev/null "$URL/" || bail "no 200 for / on $URL: $(tail -n 5 "$T_DIR/once.log")"
ok "the site answers on 127.0.0.1:$PORT"
contains "$(cat "$T_DIR/once.log")" "http: serving $SITE on http://127.0.0.1:$PORT/" "and says where"
GEN=$(realpath "$SITE")

# get PATH [CURL-ARGS...]: sets CODE, TYPE, CC (Cache-Control), ALLOW, LEN
# and BODY (a file) from one request.
get() {
	local path=$1
	shift
	rm -f "$T_DIR/body" "$T_DIR/hdr"
	CODE=$(curl -s --path-as-is -o "$T_DIR/body" -D "$T_DIR/hdr" -w '%{http_code}' "$@" "$URL$path")
	TYPE=$(sed -n 's/^Content-Type: \(.*\)\r$/\1/Ip' "$T_DIR/hdr")
	CC=$(sed -n 's/^Cache-Control: \(.*\)\r$/\1/Ip' "$T_DIR/hdr")
	ALLOW=$(sed -n 's/^Allow: \(.*\)\r$/\1/Ip' "$T_DIR/hdr")
	LEN=$(sed -n 's/^Content-Length: \(.*\)\r$/\1/Ip' "$T_DIR/hdr")
	BODY=$T_DIR/body
	touch "$BODY"
}

get /
is "$CODE" 200 "/: 200"
is "$TYPE" "text/html; charset=utf-8" "/: text/html"
is "$CC" "no-cache" "/: Cache-Control no-cache"
check "/ is index.html, byte for byte" cmp -s "$BODY" "$GEN/index.html"
get /index.html
check "/index.html too" cmp -s "$BODY" "$GEN/index.html"
svg=img/warehouse-blr1/pick-4h.svg
check "the site has $svg" test -f "$GEN/$svg"
get "/$svg"
is "$CODE" 200 "an SVG: 200"
is "$TYPE" "image/svg+xml" "an SVG: image/svg+xml"
check "the SVG byte for byte" cmp -s "$BODY" "$GEN/$svg"
get /style.css
is "$TYPE" "text/css; charset=utf-8" "the stylesheet: text/css"
get /warehouse-blr1.html -I
is "$CODE" 200 "HEAD: 200"
is "$TYPE" "text/html; charset=utf-8" "HEAD: its Content-Type"
is "$LEN" "$(stat -c %s "$GEN/warehouse-blr1.html")" "HEAD: the file's length"
check "HEAD: no body (curl -I writes the headers as its output: they are all that came)" \
	cmp -s "$BODY" "$T_DIR/hdr"
get "/index.html?from=<script>&x=%0a"
is "$CODE" 200 "a query string is ignored"

# Outside the generation: a secret beside it and above it.
echo "SECRET-BESIDE" >"$T_DIR/www/secret.txt"
echo "SECRET-ABOVE" >"$T_DIR/secret.txt"
ln -s "$T_DIR/www/secret.txt" "$GEN/leak.txt"
ln -s "$T_DIR" "$GEN/up"
ln -s ../secret.txt "$GEN/rel.txt"
echo "hidden" >"$GEN/.hidden"
mkfifo "$GEN/fifo"
for path in /../secret.txt /../../secret.txt /../../../../../../etc/passwd /img/../../secret.txt \
	/%2e%2e/secret.txt /%2E%2E/%2E%2E/secret.txt /img/..%2f..%2fsecret.txt /..%2fsecret.txt \
	/leak.txt /up/secret.txt /up/www/secret.txt /rel.txt /.hidden /./index.html //index.html \
	/img/./warehouse-blr1/pick-4h.svg /%00index.html /fifo /index.html%00.svg /index.html%2500; do
	get "$path"
	is "$CODE" 404 "$path: 404"
	if grep -q "SECRET\|root:\|hidden" "$BODY"; then
		not_ok "$path: never the file" "$(head -c 200 "$BODY")"
	else
		ok "$path: never the file"
	fi
done
for path in /img /img/ /img/warehouse-blr1/; do
	get "$path"
	is "$CODE" 404 "the directory $path: 404"
	if grep -q "pick-4h\|warehouse-blr1" "$BODY"; then not_ok "$path: no listing"; else ok "$path: no listing"; fi
done
get /nope.html
is "$CODE" 404 "a missing file: 404"
is "$TYPE" "text/html; charset=utf-8" "with an HTML page"
contains "$(cat "$BODY")" "Not found" "saying so"
for m in POST PUT DELETE OPTIONS; do
	get / -X "$m" --data-binary x
	is "$CODE" 405 "$m: 405"
	is "$ALLOW" "GET, HEAD" "$m: Allow: GET, HEAD"
done
get "/%3Cscript%3Ealert(1)%3C/script%3E.html"
is "$CODE" 404 "a path with markup: 404"

# The access log: debug lines, the path escaped, the query string never.
log=$(cat "$T_DIR/once.log")
contains "$log" "dash debug: http: GET /index.html 200" "an access line per request at debug level"
contains "$log" "dash debug: http: HEAD /warehouse-blr1.html 200" "HEAD too"
contains "$log" "dash debug: http: POST / 405" "405s too"
contains "$log" "dash debug: http: GET /%3Cscript%3Ealert%281%29%3C/script%3E.html 404" "the path escaped"
if grep -q "<script>\|from=" "$T_DIR/once.log"; then
	not_ok "no markup and no query string in the log" "$(grep "<script>\|from=" "$T_DIR/once.log")"
else
	ok "no markup and no query string in the log"
fi

# A second server on the same port is refused, naming it.
out=$("$DASH" -c "$T_DIR/c.conf" -d "$SW_SRCDIR/dashboards" -o "$T_DIR/www/other" --listen "127.0.0.1:$PORT" 2>&1); st=$?
is "$st" 1 "a port in use: exit 1"
contains "$out" "slipwatch-dash: cannot listen on 127.0.0.1:$PORT: Address already in use" "naming it"

check "--once keeps serving after writing the site" kill -0 "$ONCE_PID"
kill -TERM "$ONCE_PID"
wait_exit "$ONCE_PID" 30
is "$EXIT_STATUS" 0 "SIGTERM: exit 0"
curl -s -o /dev/null "$URL/"
is "$?" 7 "the port is closed (curl: cannot connect)"
contains "$(cat "$T_DIR/once.log")" "http: stopped serving on 127.0.0.1:$PORT" "and it says so"

# --- --every: whole generations while they swap ---------------------------------------
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
conf "$T_DIR/every.conf" "$T_DIR/www/site" "listen = 127.0.0.1:$PORT"
sw_spawn "$T_DIR/every.log" "$DASH" -c "$T_DIR/every.conf" -d "$SW_SRCDIR/dashboards" --every 1
EVERY_PID=$SPAWNED
wait_for 60 curl -sf -o /dev/null "$URL/" || bail "no 200 for / on $URL: $(tail -n 5 "$T_DIR/every.log")"
ok "[dash] listen serves with --every"
last=$(readlink "$SITE") seen=0 bad="" n=0
end=$((SECONDS + 60 * T_WAIT_SCALE))
while [ "$seen" -lt 3 ] && [ $SECONDS -lt "$end" ]; do
	n=$((n + 1))
	get /warehouse-blr1.html
	{ [ "$CODE" = 200 ] && tail -c 16 "$BODY" | grep -q '</html>'; } ||
		bad="$bad page:$CODE:$(tail -c 20 "$BODY" | tr '\n' ' ')"
	get "/$svg"
	{ [ "$CODE" = 200 ] && tail -c 16 "$BODY" | grep -q '</svg>'; } || bad="$bad svg:$CODE"
	if [ "$(readlink "$SITE")" != "$last" ]; then
		last=$(readlink "$SITE")
		seen=$((seen + 1))
	fi
done
is "$seen" 3 "generations swapped while being served (3 seen, $n rounds)"
is "$bad" "" "every page and image fetched meanwhile was whole"
kill -TERM "$EVERY_PID"
wait_exit "$EVERY_PID" 60
is "$EXIT_STATUS" 0 "--every with listen: SIGTERM, exit 0"
curl -s -o /dev/null "$URL/"
is "$?" 7 "and the port is closed"

# --- IPv6 loopback -----------------------------------------------------------------------
if python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0))' 2>/dev/null; then
	PORT=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0)); print(s.getsockname()[1])')
	sw_spawn "$T_DIR/v6.log" "$DASH" -c "$T_DIR/c.conf" -d "$SW_SRCDIR/dashboards" --listen "[::1]:$PORT"
	V6_PID=$SPAWNED
	if wait_for 60 curl -sf -o /dev/null "http://[::1]:$PORT/"; then ok "[::1]:$PORT serves /"; else
		not_ok "[::1]:$PORT serves /" "$(tail -n 5 "$T_DIR/v6.log")"
	fi
	kill -TERM "$V6_PID"
	wait_exit "$V6_PID" 30
	is "$EXIT_STATUS" 0 "[::1]: SIGTERM, exit 0"
else
	ok "# SKIP no IPv6 loopback on this machine"
fi
done_testing
