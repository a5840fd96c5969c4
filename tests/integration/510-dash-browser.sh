#!/usr/bin/env bash
# 510-dash-browser: slipwatch-dash's site in a real browser (headless
# Chromium through tests/tools/browser_check.py, see tests/README.md).  The
# site is drawn from RRD files with three hours of known values and the
# store of 505-dash-store (tests/data/dash/store.jsonl and store.sql: late
# parcels, an order id, a customer, a courier, the courier's words and a
# page summary with HTML and script in them).  From file://:
#   - the overview (headline figures and graphs), a courier's page (its
#     graphs and late parcels), late.html and the promise report load
#     cleanly: every image loaded, no request failed, no console error,
#     no alert() (injected script would call it);
#   - the hostile values show as text in the rendered pages;
#   - a screenshot and the text of each page are kept in
#     $SW_BUILDDIR/tests/artefacts/510-dash-browser/.
# Skips (TAP "1..0 # SKIP") only when Chromium, chromedriver or Selenium
# is not installed; 505-dash-store checks the same site without a browser.
. "$SW_SRCDIR/tests/integration/lib.sh"
BROWSER=("$PY3" "$SW_SRCDIR/tests/tools/browser_check.py")
"${BROWSER[@]}" --probe >"$T_DIR/probe.out" 2>&1
case $? in
0) echo "# $(cat "$T_DIR/probe.out")" ;;
77) echo "1..0 # SKIP $(tail -n 1 "$T_DIR/probe.out" | sed 's/^browser_check: SKIP: //')"; exit 0 ;;
*) bail "browser_check --probe: $(cat "$T_DIR/probe.out")" ;;
esac
ART=$SW_BUILDDIR/tests/artefacts/$(basename "$0" .sh)
rm -rf "$ART"
DASH=$SW_BUILDDIR/dashboards/slipwatch-dash
PUT=$SW_BUILDDIR/tests/tools/sw_rrdput
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:fast_unwind_on_malloc=0"
export LSAN_OPTIONS="suppressions=$SW_TEST_DATA/dash/lsan.supp"

NOW=$(date +%s)
"$SEED" "$T_DIR/store.db" "$NOW" <"$SW_TEST_DATA/dash/store.jsonl" || bail "sw_seed failed"
sqlite3 -cmd ".parameter set @now $NOW" "$T_DIR/store.db" <"$SW_TEST_DATA/dash/store.sql" ||
	bail "store.sql failed"

# RRD files with three hours of values (step 60 s) ending at the step
# before now, so the graphs are images, not "no data yet".
STEP=60
END=$((NOW / STEP * STEP - STEP))
START=$((END - 3 * 3600))
fill() { # fill FILE TEMPLATE VALUES: VALUES for every step
	local args=() t
	"$PUT" -s "$STEP" "$T_DIR/rrd" "$1" "$START" || bail "sw_rrdput $1 failed"
	for ((t = START + STEP; t <= END; t += STEP)); do args+=("$t:$3"); done
	rrdtool update "$T_DIR/rrd/$1.rrd" -t "$2" "${args[@]}" || bail "rrdtool update $1 failed"
}
fill warehouse/w1 created:picked:shipped:backlog_pick:pick_p10:pick_p50:pick_p90:pick_max \
	'5:4:3:120:60:120:300:600'
fill warehouse/w2 created:shipped '2:2'
fill courier/dhl delivered_ontime:delivered_late '9:1'
fill courier/ups delivered_ontime:delivered_late '4:1'

{
	printf '[store]\npath = %s/store.db\n[rrd]\ndir = %s/rrd\nstep = 60s\n' "$T_DIR" "$T_DIR"
	printf '[alerts]\ntracking_url = https://track.example/{courier}/{tracking}\n'
	printf '[dash]\nout = %s/site\ntitle = Browser <b>shop</b>\ntimezone = Asia/Kolkata\n' "$T_DIR"
	printf 'refresh = 0\n' # the check sees each page as loaded, not a reload
} >"$T_DIR/c.conf"
out=$("$DASH" -c "$T_DIR/c.conf" -d "$SW_SRCDIR/dashboards" --once 2>&1)
is "$?" 0 "the site is written"
SITE=$(cd "$T_DIR/site" && pwd -P) || bail "no site"
pages=("$SITE/index.html" "$SITE/courier-dhl.html" "$SITE/late.html")
if [ -f "$SW_SRCDIR/dashboards/dash_report.c" ]; then
	check "the promise report is there" test -f "$SITE/report.html"
	pages+=("$SITE/report.html")
fi
check "the overview has graphs drawn" grep -q '<img src="img/index/' "$SITE/index.html"
check "dhl's page has graphs drawn" grep -q '<img src="img/courier-dhl/' "$SITE/courier-dhl.html"

out=$("${BROWSER[@]}" --timeout $((20 * T_WAIT_SCALE)) "$ART" "${pages[@]}" 2>&1)
is "$?" 0 "the site loads cleanly in Chromium (images, requests, console, dialogs)"
printf '%s\n' "$out" | sed 's/^/#   /'
contains "$out" "${#pages[@]} of ${#pages[@]} pages clean" "every page clean"
rj() { # rj EXPR: a Python expression over R (the report) and P (pages by file name) holds
	"$PY3" -c 'import json, sys
R = json.load(open(sys.argv[1]))
P = {p["url"].rsplit("/", 1)[-1]: p for p in R["pages"]}
sys.exit(0 if eval(sys.argv[2]) else 1)' "$ART/report.json" "$1" 2>&1
}
check "the overview: its images all loaded, and there are some" \
	rj 'P["index.html"]["images"]["total"] > 0 and P["index.html"]["images"]["loaded"] == P["index.html"]["images"]["total"]'
check "dhl's page: its images all loaded, and there are some" \
	rj 'P["courier-dhl.html"]["images"]["total"] > 0 and P["courier-dhl.html"]["images"]["broken"] == []'
check "no page called alert() or logged an error" \
	rj 'all(p["dialogs"] == [] and p["console_errors"] == [] for p in R["pages"])'
check "a screenshot of the overview was kept" test -s "$ART/01-index.png"
check "and of dhl's page" test -s "$ART/02-courier-dhl.png"

# What the browser rendered: the hostile values as text.
txt=$(cat "$ART/01-index.txt")
contains "$txt" "backlog 512 <script>alert(4)</script>" "the overview shows a page's summary with a script tag as text"
contains "$txt" "Browser <b>shop</b>" "and the site's title with markup as text"
contains "$txt" "late now" "and the headline figures"
txt=$(cat "$ART/02-courier-dhl.txt")
contains "$txt" "O-1<script>alert(1)</script>" "dhl's page shows the order id as text"
contains "$txt" "Eve <img src=x onerror=alert(3)>" "and the customer's name"
contains "$txt" "Held at <b>customs</b>" "and the courier's words"
txt=$(cat "$ART/03-late.txt")
contains "$txt" "evil<script>alert(2)</script>" "late.html shows the courier with a script tag as text"

done_testing
