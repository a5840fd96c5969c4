#!/usr/bin/env bash
# 590-browser-check: the real-browser check the dashboard tests use
# (tests/tools/browser_check.py, headless Chromium) can pass and can fail.
# Pages are the fixture site tests/data/browser/ (its README lists them),
# loaded from file:// and from a loopback HTTP server.
#   - the clean pages pass (exit 0), each gets a PNG screenshot and a text
#     dump, and the escaped page shows its HTML-looking data as text;
#   - each faulty page is reported, for its own fault, and makes it exit 1;
#   - a missing browser is a skip (77) saying what to install, one that
#     does not start an error (99); bad usage is exit 2.
# Screenshots are kept in $SW_BUILDDIR/tests/artefacts/590-browser-check/.
# Skips (TAP "1..0 # SKIP") only when Chromium, chromedriver or Selenium
# is not installed; autotools/deps installs them.
. "$SW_SRCDIR/tests/integration/lib.sh"
CHECK=("$PY3" "$SW_SRCDIR/tests/tools/browser_check.py")
SITE=$(cd "$SW_TEST_DATA/browser" && pwd -P) || bail "no fixture site in $SW_TEST_DATA/browser"
ART=$SW_BUILDDIR/tests/artefacts/590-browser-check
TIMEOUT=$((20 * T_WAIT_SCALE)) # a failure bound per page, never expected

"${CHECK[@]}" --probe >"$T_DIR/probe.out" 2>&1
case $? in
0) echo "# $(cat "$T_DIR/probe.out")" ;;
77) echo "1..0 # SKIP $(tail -n 1 "$T_DIR/probe.out" | sed "s/^browser_check: SKIP: //")"; exit 0 ;;
*) bail "browser_check --probe failed: $(cat "$T_DIR/probe.out")" ;;
esac
rm -rf "$ART"
mkdir -p "$ART"

# run NAME ARGS...: browser_check into $ART/NAME; sets RC, OUT (stdout and
# stderr) and REPORT (report.json).
run() {
	local name=$1; shift
	OUT=$("${CHECK[@]}" --timeout "$TIMEOUT" "$ART/$name" "$@" 2>&1)
	RC=$?
	REPORT=$ART/$name/report.json
	printf '%s\n' "$OUT" | sed 's/^/#   /'
}
# rj EXPR: a Python expression over R (the report), P and H (its file://
# and its http:// pages by the file name of their URL) is true.
rj() {
	"$PY3" -c 'import json, sys
R = json.load(open(sys.argv[1]))
P = {p["url"].rsplit("/", 1)[-1]: p for p in R["pages"] if p["url"].startswith("file:")}
H = {p["url"].rsplit("/", 1)[-1]: p for p in R["pages"] if p["url"].startswith("http:")}
sys.exit(0 if eval(sys.argv[2]) else 1)' "$REPORT" "$1" 2>&1
}
is_png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }

# --- the skip and usage paths --------------------------------------------
out=$(SW_CHROMIUM=/nonexistent/chromium "${CHECK[@]}" "$T_DIR/x" "$SITE/clean.html" 2>&1)
is "$?" 77 "no Chromium: exit 77 (automake SKIP)"
contains "$out" "Chromium is not installed (/nonexistent/chromium)" "no Chromium: says what is missing"
out=$(SW_CHROMEDRIVER=/nonexistent/chromedriver "${CHECK[@]}" "$T_DIR/x" "$SITE/clean.html" 2>&1)
is "$?" 77 "no chromedriver: exit 77"
out=$(SW_CHROMIUM=/bin/false "${CHECK[@]}" "$T_DIR/x" "$SITE/clean.html" 2>&1)
is "$?" 99 "a browser that does not start: an error (99), not a skip"
contains "$out" "cannot start Chromium" "and it says so"
out=$("${CHECK[@]}" "$T_DIR/x" 2>&1)
is "$?" 2 "no page: usage error"
out=$("${CHECK[@]}" "$T_DIR/x" "http://192.0.2.1/index.html" 2>&1)
is "$?" 2 "a page off loopback: usage error"
contains "$out" "only loopback URLs" "the usage error says why"

# --- a loopback web server for the fixture site ---------------------------
HTTP_PORT=$(free_port)
sw_spawn "$T_DIR/http.log" "$PY3" -m http.server --bind 127.0.0.1 --directory "$SITE" "$HTTP_PORT"
wait_for 15 curl -sf -o /dev/null "http://127.0.0.1:$HTTP_PORT/clean.html" ||
	bail "python3 -m http.server did not start: $(tail -n 5 "$T_DIR/http.log")"
URL=http://127.0.0.1:$HTTP_PORT

# --- clean pages pass -------------------------------------------------------
run pass "$SITE/clean.html" "file://$SITE/escaped.html" "$URL/clean.html"
is "$RC" 0 "clean pages: exit 0"
contains "$OUT" "3 of 3 pages clean" "clean pages: the report says so"
check "clean pages: report.json says clean" rj 'R["clean"] and all(p["clean"] for p in R["pages"])'
check "clean.html: 2 images, both loaded (the lazy one too)" \
	rj 'P["clean.html"]["images"] == {"total": 2, "loaded": 2, "broken": []}'
check "clean.html: its <object> SVG loaded" rj 'P["clean.html"]["objects"]["loaded"] == 1'
check "clean.html over http: same figures" \
	rj 'H["clean.html"]["images"]["loaded"] == 2 and H["clean.html"]["objects"]["loaded"] == 1'
for f in 01-clean 02-escaped 03-clean; do
	check "$f.png is a PNG" is_png "$ART/pass/$f.png"
	check "$f.txt holds the page text" test -s "$ART/pass/$f.txt"
done
txt=$(cat "$ART/pass/02-escaped.txt")
contains "$txt" '<script>alert("escaped")</script>' "escaped.html: the script tag shows as text"
contains "$txt" 'Zoë <img src=x onerror=alert(1)>' "escaped.html: the img tag shows as text"
contains "$txt" '"><b>held</b> &amp; '"'customs'" "escaped.html: quotes and entities as text"
check "escaped.html: no dialog, no error" \
	rj 'P["escaped.html"]["dialogs"] == [] and P["escaped.html"]["console_errors"] == []'

# --- each faulty page is reported for its own fault --------------------------
cd "$SITE" || bail "cd $SITE"  # relative page paths work too
run fail missing-image.html missing-object.html broken-svg.html console-error.html \
	exception.html dialog.html external.html no-such-page.html "$URL/missing-image.html" \
	"$URL/no-such-page.html" "$SITE/clean.html"
cd "$OLDPWD" || bail "cd back"
is "$RC" 1 "faulty pages: exit 1"
contains "$OUT" "1 of 11 pages clean" "faulty pages: only clean.html is clean"
check "missing-image.html: the image is not loaded" \
	rj 'P["missing-image.html"]["images"]["broken"][0].endswith("/no-such-graph.svg")'
check "missing-image.html: the file:// request failed" \
	rj 'any(f["url"].endswith("/no-such-graph.svg") and "FILE_NOT_FOUND" in f["error"] for f in P["missing-image.html"]["failed_requests"])'
check "missing-object.html: the object is not loaded" \
	rj 'P["missing-object.html"]["objects"] == {"total": 1, "loaded": 0, "broken": ["no-such-object.svg"]}'
check "missing-object.html: its request failed" \
	rj 'any(f["url"].endswith("/no-such-object.svg") for f in P["missing-object.html"]["failed_requests"])'
check "broken-svg.html: the invalid SVG is not loaded" \
	rj 'P["broken-svg.html"]["images"]["broken"][0].endswith("/broken.svg")'
check "console-error.html: the console error, and nothing else" \
	rj 'len(P["console-error.html"]["problems"]) == 1 and "fixture: console error" in P["console-error.html"]["console_errors"][0]["message"]'
check "exception.html: the uncaught exception, and nothing else" \
	rj 'len(P["exception.html"]["problems"]) == 1 and "Uncaught Error: fixture: thrown" in P["exception.html"]["exceptions"][0]'
check "dialog.html: alert() was called" \
	rj 'len(P["dialog.html"]["problems"]) == 1 and P["dialog.html"]["dialogs"] == ["alert() called: injected"]'
check "external.html: the request off loopback" \
	rj 'any("off loopback" in f["error"] for f in P["external.html"]["failed_requests"])'
check "no-such-page.html (file): no such file" \
	rj 'P["no-such-page.html"]["problems"][0].startswith("no such file")'
check "no-such-page.html (http): HTTP 404" \
	rj 'any(f["error"] == "HTTP 404" for f in H["no-such-page.html"]["failed_requests"])'
check "missing-image.html (http): the image's HTTP 404" \
	rj 'any(f["url"].endswith("/no-such-graph.svg") and f["error"] == "HTTP 404" for f in H["missing-image.html"]["failed_requests"])'
check "clean.html among faulty pages: still clean" rj 'P["clean.html"]["clean"]'
check "a faulty page gets its screenshot too" is_png "$ART/fail/01-missing-image.png"

# --- one faulty page alone: exit 1, the text report names the fault ----------
run single "$SITE/missing-image.html"
is "$RC" 1 "missing image alone: exit 1"
contains "$OUT" "NOT CLEAN: file://$SITE/missing-image.html" "the text report names the page"
contains "$OUT" "image not loaded: file://$SITE/no-such-graph.svg" "and the image"

done_testing
