#!/usr/bin/env bash
# 500-dash: slipwatch-dash draws the shipped dashboards from RRD files the
# test fills (step 60 s, three hours of known values ending at the step
# before now, TZ pinned; the site's zone Asia/Kolkata) and writes a static
# site that:
#   - links only to files that exist (every href and src, every page),
#     with relative links only (it works from file://);
#   - has well-formed SVG for every graph (PNG with --png);
#   - shows "no data yet", never an <img>, for a missing RRD file, an
#     empty (zero-byte) one, and one whose only value is out of every range;
#   - shows a graph librrd refuses as text, and --once then exits 1;
#   - escapes what comes from outside: a definition titled with <script>
#     shows as text on every page;
#   - reads values rrdcached still caches (when rrdcached is installed);
#   - with --every, regenerates (polled: new generations appear), every
#     generation seen is complete, old ones are removed, a second writer
#     is refused, and SIGTERM stops it with status 0.
. "$SW_SRCDIR/tests/integration/lib.sh"
DASH=$SW_BUILDDIR/dashboards/slipwatch-dash
# Under ASan: librrd's and fontconfig's own leaks are not ours (the file says why).
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:fast_unwind_on_malloc=0"
export LSAN_OPTIONS="suppressions=$SW_TEST_DATA/dash/lsan.supp"
PUT=$SW_BUILDDIR/tests/tools/sw_rrdput
STEP=60
END=$(( $(date +%s) / STEP * STEP - STEP )) # the last step written
START=$((END - 3 * 3600))                   # the first

# --- RRD files with known values ---------------------------------------------
RRD=$T_DIR/rrd
# fill FILE TEMPLATE VALUES-EXPR: creates FILE through the project's writer
# at START (counts 0), then one update per step START+STEP..END with the
# data sources of TEMPLATE set to VALUES-EXPR (evaluated with i = steps
# before END).
fill() {
	local file=$1 template=$2 expr=$3 args=() i t
	"$PUT" -s "$STEP" "$RRD" "$file" "$START" || bail "sw_rrdput $file failed"
	for ((i = (END - START) / STEP - 1; i >= 0; i--)); do
		t=$((END - i * STEP))
		args+=("$t:$(eval "echo $expr")")
	done
	rrdtool update "$RRD/$file.rrd" -t "$template" "${args[@]}" || bail "rrdtool update $file failed"
}
fill warehouse/blr1 created:picked:shipped:backlog_pick:pick_p10:pick_p50:pick_p90:pick_max \
	'$((i % 7)):2:3:$((100 + i)):60:120:300:600'
fill warehouse/del-2.b created:shipped '1:1'
fill courier/dhl delivered_ontime:delivered_late '9:1'
: >"$RRD/warehouse/zero.rrd"                                   # empty file
"$PUT" -s "$STEP" "$RRD" warehouse/old $((END - 800 * 86400)) # its one value: 2+ years ago
# notify.rrd, oncall.rrd, collector.rrd and probe/ are missing.

conf() { # conf FILE OUT [RRD-DIR [RRD-KEY...]]: a configuration writing OUT
	local f=$1 out=$2 dir=${3:-$RRD}
	shift 2; shift $(($# > 0 ? 1 : 0))
	{
		printf '[store]\npath = %s/store.db\n[rrd]\ndir = %s\nstep = 60s\n' "$T_DIR" "$dir"
		[ $# -gt 0 ] && printf '%s\n' "$@"
		printf '[dash]\nout = %s\ntitle = Test shop\ntimezone = Asia/Kolkata\nrefresh = 30s\n' "$out"
	} >"$f"
}
conf "$T_DIR/c.conf" "$T_DIR/www/site"

# site_ok SITE: every page's href and src name an existing file under
# SITE, relative; every image is well-formed SVG (or PNG with --png);
# prints one line per problem, nothing when all is well.
site_ok() {
	"$PY3" - "$1" <<'PY'
import html.parser, os, sys, xml.etree.ElementTree as ET
site = os.path.realpath(sys.argv[1])
class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.links = []
    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("href", "src"): self.links.append((tag, v))
pages = [f for f in os.listdir(site) if f.endswith(".html")]
if "index.html" not in pages: print("no index.html")
for page in pages:
    p = Links(); p.feed(open(os.path.join(site, page), encoding="utf-8").read())
    for tag, link in p.links:
        target = link.split("#")[0]
        if not target: continue
        if "://" in link or link.startswith("/") or ".." in link:
            print(f"{page}: not a relative link: {link}"); continue
        path = os.path.join(site, target)
        if not os.path.isfile(path):
            print(f"{page}: {tag} {link}: no such file"); continue
        if tag == "img" and path.endswith(".svg"):
            try:
                root = ET.parse(path).getroot()
                if root.tag != "{http://www.w3.org/2000/svg}svg": print(f"{link}: not SVG: {root.tag}")
            except ET.ParseError as e:
                print(f"{link}: not well-formed: {e}")
        elif tag == "img" and open(path, "rb").read(8) != b"\x89PNG\r\n\x1a\n":
            print(f"{link}: not PNG")
PY
}
# figures PAGE: "img" or "nodata" or "failed" per figure, one a line.
figures() {
	grep -o '<figure><figcaption>[^<]*</figcaption><[a-z]*\( class="[a-z ]*"\)\?' "$1" |
		sed -e 's/.*<img.*/img/' -e 's/.*class="nodata failed".*/failed/' -e 's/.*class="nodata".*/nodata/'
}
count() { grep -c -- "$1" "$2"; } # count TEXT FILE: lines holding it

# --- one site --------------------------------------------------------------------
out=$("$DASH" -c "$T_DIR/c.conf" -d "$SW_SRCDIR/dashboards" --once 2>&1); st=$?
is "$st" 0 "--once exits 0"
contains "$out" "site: $T_DIR/www/site: " "and says what it wrote"
SITE=$T_DIR/www/site
check "the site is a symbolic link" test -L "$SITE"
case "$(readlink "$SITE")" in
site.gen-*) ok "to a generation beside it, named relatively" ;;
*) not_ok "to a generation beside it, named relatively" "$(readlink "$SITE")" ;;
esac
problems=$(site_ok "$SITE")
is "$problems" "" "every link of every page names an existing file; every image is SVG"
for p in index.html warehouse-blr1.html warehouse-del-2.b.html warehouse-zero.html \
	warehouse-old.html courier-dhl.html notifications.html style.css; do
	check "$p is there" test -f "$SITE/$p"
done
check "no page for a probe: there is no probe file" sh -c "! ls '$SITE'/probe-* 2>/dev/null"
contains "$(cat "$SITE/index.html")" '<a href="warehouse-blr1.html">blr1</a>' "the overview lists the warehouses"
contains "$(cat "$SITE/index.html")" '<a href="courier-dhl.html">dhl</a>' "and the couriers"
contains "$(cat "$SITE/index.html")" '<section class="list" id="list-probe"><h3>Probes</h3>
<p class="nodata">no data yet</p>' "and says there are no probes yet"

# Known values: blr1 has all three hours, so each of its graphs is an
# image for 4 hours and a day; the graphs of the other warehouses' pages
# follow their files.
is "$(figures "$SITE/warehouse-blr1.html" | head -n 2 | tr '\n' ' ')" "img img " "blr1's first graph: 4 hours and a day drawn"
check "blr1's pick-time graph (the p10-p90 band) is drawn" test -f "$SITE/img/warehouse-blr1/pick-4h.svg"
contains "$(cat "$SITE/warehouse-blr1.html")" '<img src="img/warehouse-blr1/pick-4h.svg" width=' "and shown"
is "$(figures "$SITE/courier-dhl.html" | head -n 1)" img "dhl's on-time graph is drawn"
for p in warehouse-zero notifications warehouse-old; do
	n=$(figures "$SITE/$p.html" | sort -u | tr '\n' ' ')
	is "$n" "nodata " "$p: every graph says no data yet"
	is "$(count '<img' "$SITE/$p.html")" 0 "$p: no <img> at all"
	check "$p: no image file either" sh -c "[ -z \"\$(ls -A '$SITE/img/$p')\" ]"
done
is "$(count 'no data yet' "$SITE/warehouse-zero.html")" 30 "the empty file: 6 graphs x 5 ranges say no data yet"
is "$(figures "$SITE/index.html" | grep -c failed)" 0 "nothing failed"
contains "$(cat "$SITE/index.html")" '<meta http-equiv="refresh" content="30">' "pages reload themselves ([dash] refresh)"
contains "$(cat "$SITE/index.html")" "(Asia/Kolkata) by slipwatch-dash" "times are in [dash] timezone"
contains "$(cat "$SITE/index.html")" " IST (Asia/Kolkata)" "with the zone's abbreviation"
contains "$(cat "$SITE/index.html")" "<title>Overview - Test shop</title>" "the site's title"

# --- what comes from outside is escaped -----------------------------------------------
mkdir -p "$T_DIR/defs"
cp "$SW_SRCDIR"/dashboards/*.dash "$T_DIR/defs/"
cat >"$T_DIR/defs/evil.dash" <<'EOF'
[dashboard]
title = <script>alert(1)</script> & "co"
each = warehouse
[graph g]
title = <img src=x onerror=alert(2)> at {id}
file = warehouse/{id}.rrd
line = shipped #ff0000 <b>shipped</b>
EOF
out=$("$DASH" -c "$T_DIR/c.conf" -d "$T_DIR/defs" -o "$T_DIR/www/evil" 2>&1); st=$?
is "$st" 0 "a site with a hostile definition: exit 0"
E=$T_DIR/www/evil
check "its page per warehouse exists" test -f "$E/evil-blr1.html"
contains "$(cat "$E/evil-blr1.html")" '<h2>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;co&quot;</h2>' "the title is text"
contains "$(cat "$E/evil-blr1.html")" '<h3>&lt;img src=x onerror=alert(2)&gt; at blr1</h3>' "the graph's title is text"
contains "$(cat "$E/index.html")" '&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;co&quot;</a>' "and in every page's navigation"
is "$(grep -l '<script' "$E"/*.html | wc -l)" 0 "no page has a <script> tag"
is "$(grep -l '<img src=x' "$E"/*.html | wc -l)" 0 "no page has the img tag as markup"
problems=$(site_ok "$E")
is "$problems" "" "that site's links and images are sound too"
xmllint_ok=yes
command -v xmllint >/dev/null && { xmllint --noout "$E"/img/evil-blr1/*.svg 2>/dev/null || xmllint_ok=no; }
is "$xmllint_ok" yes "the graph with the hostile titles is well-formed SVG"

# --- PNG -------------------------------------------------------------------------------
out=$("$DASH" -c "$T_DIR/c.conf" -d "$SW_SRCDIR/dashboards" -o "$T_DIR/www/png" --png 2>&1); st=$?
is "$st" 0 "--png exits 0"
check "PNG images" test -f "$T_DIR/www/png/img/warehouse-blr1/pick-4h.png"
is "$(site_ok "$T_DIR/www/png")" "" "PNG site: links and images sound"

# --- a graph librrd refuses ----------------------------------------------------------------
mkdir -p "$T_DIR/rrd-odd/warehouse"
rrdtool create "$T_DIR/rrd-odd/warehouse/odd.rrd" --step 60 --start $((START - 60)) \
	DS:created:ABSOLUTE:120:0:U RRA:AVERAGE:0.5:1:600
conf "$T_DIR/odd.conf" "$T_DIR/www/odd" "$T_DIR/rrd-odd"
out=$("$DASH" -c "$T_DIR/odd.conf" -d "$SW_SRCDIR/dashboards" 2>&1); st=$?
is "$st" 1 "--once exits 1 when librrd refuses a graph"
contains "$out" "dash error: graphs: 40 of 90 failed (shown on their pages); the first: " "and logs it"
contains "$out" "index: graph orders: No DS called 'picked' in '$T_DIR/rrd-odd/warehouse/odd.rrd'" \
	"naming the page, the graph and librrd's words"
contains "$(cat "$T_DIR/www/odd/warehouse-odd.html")" '<p class="nodata failed">graph failed: ' "the page shows the failure as text"
is "$(site_ok "$T_DIR/www/odd")" "" "and no broken image"

# --- through rrdcached -----------------------------------------------------------------------
RRDCACHED_BIN=${SW_RRDCACHED:-$(command -v rrdcached || echo /usr/bin/rrdcached)}
if [ -x "$RRDCACHED_BIN" ]; then
	C=$T_DIR/rrd-cached
	mkdir -p "$C" "$T_DIR/rrdcached-journal"
	sw_spawn "$T_DIR/rrdcached.log" "$RRDCACHED_BIN" -g -B -b "$C" -l "unix:$T_DIR/rrdcached.sock" \
		-p "$T_DIR/rrdcached.pid" -j "$T_DIR/rrdcached-journal" -w 3600 -z 1 -f 7200
	check "rrdcached started" wait_for 10 test -S "$T_DIR/rrdcached.sock"
	"$PUT" -s "$STEP" "$C" courier/ups $((END - 800 * 86400))
	# in updates of 10 values: librrd's client refuses a longer command
	for ((i = 179; i >= 0; i -= 10)); do
		args=()
		for ((j = i; j > i - 10; j--)); do args+=("$((END - j * STEP)):9:1"); done
		rrdtool update --daemon "unix:$T_DIR/rrdcached.sock" "$C/courier/ups.rrd" \
			-t delivered_ontime:delivered_late "${args[@]}" || bail "rrdtool update --daemon failed"
	done
	conf "$T_DIR/cached.conf" "$T_DIR/www/cached" "$C" "rrdcached = unix:$T_DIR/rrdcached.sock"
	conf "$T_DIR/direct.conf" "$T_DIR/www/direct" "$C"
	"$DASH" -c "$T_DIR/direct.conf" -d "$SW_SRCDIR/dashboards" >/dev/null 2>&1
	is "$(figures "$T_DIR/www/direct/courier-ups.html" | head -n 1)" nodata \
		"the file on disk has none of the cached values yet"
	out=$("$DASH" -c "$T_DIR/cached.conf" -d "$SW_SRCDIR/dashboards" 2>&1); st=$?
	is "$st" 0 "with [rrd] rrdcached: exit 0"
	is "$(figures "$T_DIR/www/cached/courier-ups.html" | head -n 1)" img \
		"the graph reads what rrdcached still caches"
else
	ok "# SKIP rrdcached is not installed"
fi

# --- installed definitions -------------------------------------------------------------------
# make install puts the definitions where [dash] defs looks by default.
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$SW_BUILDDIR" "$@"; }
pkgdatadir=$(printf 'sw-dirs:\n\t@echo "$(pkgdatadir)"\n' | mk -f Makefile -f - sw-dirs) ||
	bail "cannot read pkgdatadir from $SW_BUILDDIR/Makefile"
mk install-dist_swdashDATA DESTDIR="$T_DIR/root" >"$T_DIR/install.log" 2>&1
is "$?" 0 "make install-dist_swdashDATA exits 0"
for f in "$SW_SRCDIR"/dashboards/*.dash; do
	check "${f##*/} installed in $pkgdatadir/dashboards" cmp -s "$f" "$T_DIR/root$pkgdatadir/dashboards/${f##*/}"
done
out=$("$DASH" -c "$T_DIR/c.conf" -t 2>&1)
contains "$out" "$pkgdatadir/dashboards" "[dash] defs defaults to them"
out=$("$DASH" -c "$T_DIR/c.conf" -d "$T_DIR/root$pkgdatadir/dashboards" -t 2>&1); st=$?
is "$st" 0 "the installed definitions load"

# --- configuration, usage ----------------------------------------------------------------------
out=$("$DASH" -c "$T_DIR/c.conf" -d "$SW_SRCDIR/dashboards" -t 2>&1); st=$?
is "$st" 0 "-t accepts the configuration and the definitions"
contains "$out" "configuration OK; 5 dashboard definitions" "and says so"
printf '[dashboard]\ntitle = X\n[graph g]\ntitle = G\nfile = notify.rrd\nline = snet #000000\n' >"$T_DIR/defs/bad.dash"
out=$("$DASH" -c "$T_DIR/c.conf" -d "$T_DIR/defs" -t 2>&1); st=$?
is "$st" 1 "a broken definition: exit 1"
is "$out" "slipwatch-dash: $T_DIR/defs/bad.dash:6: [graph g] line: not a data source of notify.rrd nor an earlier cdef: 'snet'" \
	"naming its file, line and the bad text"
rm "$T_DIR/defs/bad.dash"
conf "$T_DIR/tz.conf" "$T_DIR/www/tz"
sed -i 's|^timezone = .*|timezone = Mars/Olympus|' "$T_DIR/tz.conf"
out=$("$DASH" -c "$T_DIR/tz.conf" -d "$SW_SRCDIR/dashboards" 2>&1); st=$?
is "$st" 1 "an unknown time zone: exit 1"
line=$(grep -n '^timezone = ' "$T_DIR/tz.conf" | cut -d: -f1)
contains "$out" "tz.conf:$line: [dash] timezone: no such zone: 'Mars/Olympus'" "naming its line"
printf '[dash]\nwidht = 5\n' >"$T_DIR/typo.conf"
out=$("$DASH" -c "$T_DIR/typo.conf" 2>&1); st=$?
is "$st" 1 "an unknown key in [dash]: exit 1"
contains "$out" "typo.conf:2: unknown key 'widht' in [dash]" "naming it"
# The example's [dash] (enabled, if it is shipped disabled with ';') is
# accepted, and documents every key slipwatch-dash has, as
# slipwatch.conf(5) does.
example=$SW_SRCDIR/slipwatch.conf.example
{ printf '[store]\npath = %s/store.db\n' "$T_DIR"; sed -n '/^;\{0,1\}\[dash\]/,/^$/p' "$example" | sed 's/^;\([a-z[]\)/\1/'; } >"$T_DIR/example.conf"
out=$("$DASH" -c "$T_DIR/example.conf" -d "$SW_SRCDIR/dashboards" -t -v 2>&1); st=$?
is "$st" 0 "the example's [dash], enabled, passes -t"
section=
while IFS= read -r line; do
	case "$line" in
	\[*\]) section=$line ;;
	*' = '* | *' =')
		[ "$section" = "[dash]" ] || continue
		key=${line%% =*}
		grep -qE "^;?${key} = " "$example" && ok "[dash] $key is in the example" ||
			not_ok "[dash] $key is in the example"
		grep -qE "^\.BR \"?$key" "$SW_SRCDIR/man/slipwatch.conf.5" && ok "[dash] $key is in slipwatch.conf(5)" ||
			not_ok "[dash] $key is in slipwatch.conf(5)"
		;;
	esac
done <<<"$out"
for bad in "--every 0" "--every 1x" "--once --every 5" "--bogus" "extra" "-v"; do
	out=$("$DASH" -c "$T_DIR/c.conf" $bad 2>&1); st=$?
	is "$st" 2 "usage error: $bad"
done
out=$("$DASH" --help); st=$?
is "$st" 0 "--help exits 0"
contains "$out" "usage: slipwatch-dash" "and prints the usage"
out=$("$DASH" --version); st=$?
contains "$out" "slipwatch-dash " "--version"
mkdir -p "$T_DIR/www/real"
out=$("$DASH" -c "$T_DIR/c.conf" -d "$SW_SRCDIR/dashboards" -o "$T_DIR/www/real" 2>&1); st=$?
is "$st" 1 "an output that is a real directory is not replaced"
contains "$out" "exists and is not a symbolic link" "and says why"

# --- --every: regenerates, never a partial site, a clean stop ---------------------------------
# Each poll opens index.html through the link: it must always be there.
# Each new generation is checked whole while the writer is held with
# SIGSTOP (so nothing is removed under the check), then let go on.
sw_spawn "$T_DIR/every.log" "$DASH" -c "$T_DIR/c.conf" -d "$SW_SRCDIR/dashboards" --every 1
EVERY_PID=$SPAWNED
SITE=$T_DIR/www/site
last=$(readlink "$SITE")
seen=0 bad="" missing=0
end=$((SECONDS + 60 * T_WAIT_SCALE))
while [ "$seen" -lt 3 ] && [ $SECONDS -lt "$end" ]; do
	[ -f "$SITE/index.html" ] || missing=$((missing + 1))
	if [ "$(readlink "$SITE")" != "$last" ]; then
		kill -STOP "$EVERY_PID"
		last=$(readlink "$SITE")
		seen=$((seen + 1))
		p=$(site_ok "$SITE")
		[ -z "$p" ] || bad="$bad $last: $p"
		kill -CONT "$EVERY_PID"
	fi
	sleep 0.05
done
is "$seen" 3 "--every 1 wrote new generations (3 seen)"
is "$missing" 0 "the site's index.html was there at every poll"
is "$bad" "" "each new generation was complete and sound"
out=$("$DASH" -c "$T_DIR/c.conf" -d "$SW_SRCDIR/dashboards" 2>&1); st=$?
is "$st" 1 "a second writer of the same site is refused"
contains "$out" "another slipwatch-dash writes $SITE" "and told why"
kill -TERM "$EVERY_PID"
wait_exit "$EVERY_PID" 60
is "$EXIT_STATUS" 0 "SIGTERM stops --every with status 0"
contains "$(cat "$T_DIR/every.log")" "stopped" "and it says so"
check "the site is complete after the stop" test -f "$SITE/index.html"
is "$(site_ok "$SITE")" "" "and sound"
gens=$(ls -d "$T_DIR"/www/site.gen-* | wc -l)
check "old generations removed: at most the current one and the one before ($gens)" test "$gens" -le 2
check "no temporary link left" sh -c "! ls '$T_DIR'/www/site.new-* 2>/dev/null"
done_testing
