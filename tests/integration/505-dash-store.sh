#!/usr/bin/env bash
# 505-dash-store: the store's parts of slipwatch-dash's site, from a store
# seeded with known orders, parcels, slips, customer notices and on-call
# pages (tests/data/dash/store.jsonl through sw_seed, store.sql through
# sqlite3; times relative to the test's now, the site's zone
# Asia/Kolkata):
#   - the overview's headline figures (late now, at risk, past ship-by,
#     pick backlog, open pages by state, on time today / this week / this
#     month) equal what this script computes from the seed files itself;
#   - late.html lists the late and at-risk units most overdue first, with
#     the tracking link of [alerts] tracking_url, the courier's words, the
#     stage that ran over and its ratio, and the customer told (yes and
#     when, from the latest customer notice sent; no for a queued notice
#     or an on-call page row);
#   - each warehouse's and courier's page has its own units;
#   - an order id, a customer name, a courier, the courier's text and a
#     page summary with HTML or script in them show as text on every page;
#   - a table shows 500 rows and says how many more there are;
#   - without a store (missing, or not a slipwatch store) every store part
#     says "store not available", the site is still written and -t says so.
. "$SW_SRCDIR/tests/integration/lib.sh"
DASH=$SW_BUILDDIR/dashboards/slipwatch-dash
PUT=$SW_BUILDDIR/tests/tools/sw_rrdput
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:fast_unwind_on_malloc=0"
export LSAN_OPTIONS="suppressions=$SW_TEST_DATA/dash/lsan.supp"
TRACK='https://track.example/{courier}/{tracking}?o={order}'

NOW=$(date +%s)
"$SEED" "$T_DIR/store.db" "$NOW" <"$SW_TEST_DATA/dash/store.jsonl" || bail "sw_seed failed"
sqlite3 -cmd ".parameter set @now $NOW" "$T_DIR/store.db" <"$SW_TEST_DATA/dash/store.sql" ||
	bail "store.sql failed"
# One RRD file per entity, so each has its page.
for f in warehouse/w1 warehouse/w2 courier/dhl courier/ups courier/bulkc; do
	"$PUT" -s 60 "$T_DIR/rrd" "$f" $((NOW - 3600)) || bail "sw_rrdput $f failed"
done

conf() { # conf FILE OUT STORE
	printf '[store]\npath = %s\n[rrd]\ndir = %s/rrd\nstep = 60s\n[alerts]\ntracking_url = %s\n' \
		"$3" "$T_DIR" "$TRACK" >"$1"
	printf '[dash]\nout = %s\ntimezone = Asia/Kolkata\nat_risk_within = 24h\ntarget = 90\n' \
		"$2" >>"$1"
}
conf "$T_DIR/c.conf" "$T_DIR/site" "$T_DIR/store.db"
SITE=$T_DIR/site

out=$("$DASH" -c "$T_DIR/c.conf" -d "$SW_SRCDIR/dashboards" --once 2>&1); st=$?
is "$st" 0 "--once with a store exits 0"
case "$out" in *"store"*) not_ok "and says nothing about the store" "$out" ;; *) ok "and says nothing about the store" ;; esac
for p in index.html late.html warehouse-w1.html warehouse-w2.html courier-dhl.html courier-ups.html; do
	check "$p is there" test -f "$SITE/$p"
done

# --- the figures, computed here from the seed files ---------------------------------
# expect: one line per figure "ID VALUE", and "rows OID,OID,..." for the
# table's order, from store.jsonl and what store.sql adds, at the time
# the generation says it was made (its footer, to the second).
expect() {
	"$PY3" - "$SW_TEST_DATA/dash/store.jsonl" "$NOW" "$SITE/index.html" <<'PY'
import datetime, json, re, sys, zoneinfo
seed, now0, index = sys.argv[1], int(sys.argv[2]), sys.argv[3]
zone = zoneinfo.ZoneInfo("Asia/Kolkata")
m = re.search(r"Generated (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) ", open(index).read())
gen = int(datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=zone).timestamp())
orders, parcels = {}, {}
for line in open(seed):
    o = json.loads(line)
    rel = lambda k: now0 + o[k] if k in o else None
    if o["op"] == "order":
        orders[(o["wh"], o["id"])] = dict(promise=rel("deliver_by"), ship_by=rel("ship_by"),
            shipped=rel("shipped"), cancelled=rel("cancelled"), created=True)
    elif o["op"] == "parcel":
        parcels[(o["wh"], o["id"])] = dict(status=o["status"], delivered=rel("delivered"))
late = at_risk = ship_late = pick = 0
rows = []
periods = {"today": [0, 0], "week": [0, 0], "month": [0, 0]}
today = datetime.datetime.fromtimestamp(gen, zone).date()
for key, o in orders.items():
    if o["cancelled"]:
        continue
    p = parcels.get(key)
    delivered = p["delivered"] if p and p["status"] == "delivered" else None
    # store.sql: shipped orders were picked when they shipped
    if not o["shipped"]:
        pick += 1
    is_ship_late = not o["shipped"] and o["ship_by"] is not None and o["ship_by"] < gen
    ship_late += is_ship_late
    is_late = delivered is None and o["promise"] < gen
    late += is_late
    risky = (not is_late and not is_ship_late and delivered is None
             and gen <= o["promise"] <= gen + 86400)
    at_risk += risky
    if is_late or is_ship_late:
        deadline = min(t for t, broken in ((o["promise"], is_late), (o["ship_by"], is_ship_late)) if broken)
        rows.append((0, deadline, key[1]))
    elif risky:
        rows.append((1, o["promise"], key[1]))
    # on time: delivered by the promise; late: after it, or not delivered
    # and the promise passed; judged in the period of the promise's date
    if delivered is None and o["promise"] >= gen:
        continue
    on = delivered is not None and delivered <= o["promise"]
    day = datetime.datetime.fromtimestamp(o["promise"], zone).date()
    for name, same in (("today", day == today),
                       ("week", day.isocalendar()[:2] == today.isocalendar()[:2]),
                       ("month", (day.year, day.month) == (today.year, today.month))):
        if same:
            periods[name][0] += 1
            periods[name][1] += on
print("late", late)
print("at-risk", at_risk)
print("ship-late", ship_late)
print("pick-backlog", pick)
print("pages", 3)
for name, (judged, on) in periods.items():
    print(f"ontime-{name}", f"{100 * on / judged:.1f} %" if judged else "-")
print("rows", ",".join(k for _, _, k in sorted(rows)))
PY
}
# figures PAGE: "ID VALUE" of each headline figure.
figures() {
	"$PY3" - "$1" <<'PY'
import html.parser, sys
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.id = None; self.in_v = False; self.out = []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "div" and (a.get("id") or "").startswith("fig-"): self.id = a["id"][4:]
        if tag == "span" and a.get("class") == "v" and self.id: self.in_v = True
    def handle_endtag(self, tag):
        if tag == "span" and self.in_v: self.in_v = False; self.id = None
    def handle_data(self, d):
        if self.in_v: self.out.append(f"{self.id} {d}")
p = P(); p.feed(open(sys.argv[1], encoding="utf-8").read()); print("\n".join(p.out))
PY
}
# rows PAGE [CLASS]: each row of the late table, its cells' text (or the
# cells of CLASS alone) joined by " | ".
rows() {
	"$PY3" - "$@" <<'PY'
import html.parser, sys
want = sys.argv[2] if len(sys.argv) > 2 else None
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.rows = []; self.cell = None; self.body = False
    def handle_starttag(self, tag, attrs):
        if tag == "tbody": self.body = True
        elif tag == "tr" and self.body: self.rows.append([])
        elif tag == "td" and self.body:
            self.cls = dict(attrs).get("class", "").split(" ")[0]; self.cell = []
    def handle_endtag(self, tag):
        if tag == "tbody": self.body = False
        elif tag == "td" and self.cell is not None:
            if want in (None, self.cls): self.rows[-1].append("".join(self.cell).strip())
            self.cell = None
    def handle_data(self, d):
        if self.cell is not None: self.cell.append(d)
p = P(); p.feed(open(sys.argv[1], encoding="utf-8").read())
print("\n".join(" | ".join(r) for r in p.rows))
PY
}
oids() { rows "$1" order | sed 's/^[^/]* \/ //' | paste -sd, -; }

want=$(expect)
got=$(figures "$SITE/index.html")
is "$(printf '%s\n' "$want" | grep -c '^[a-z-]* [^ ]')" 9 "the seed's figures are computed (9 lines)"
for id in late at-risk ship-late pick-backlog pages ontime-today ontime-week ontime-month; do
	is "$(printf '%s\n' "$got" | sed -n "s/^$id //p")" "$(printf '%s\n' "$want" | sed -n "s/^$id //p")" \
		"headline: $id equals the seed's"
done
idx=$(cat "$SITE/index.html")
contains "$idx" "1 firing, 1 pending, 1 no data" "headline: the open pages by state"
is "$(grep -o '<li class="page-[a-z]*"><b>[a-z]*</b>[^<]*<span class="rule">[a-z_]*' "$SITE/index.html" |
	sed 's/.*class="rule">//' | paste -sd, -)" "backlog,feed,stalled" \
	"headline: the open pages named, firing first, then no data, then pending (the ok one not)"
contains "$idx" '<a href="late.html"><span class="v">' "headline: late and at risk link the table"
contains "$idx" "on time today: " "headline: the on-time rates say what they count"
contains "$idx" "(target 90 %)" "against [dash] target"

# --- late.html ----------------------------------------------------------------------
is "$(oids "$SITE/late.html")" "$(printf '%s\n' "$want" | sed -n 's/^rows //p')" \
	"late.html: the late and at-risk units, most overdue first"
r1=$(rows "$SITE/late.html" | sed -n 1p)
contains "$r1" "Eve <img src=x onerror=alert(3)>" "O-1: its customer, as text"
contains "$r1" "| dhl | TN-1 |" "O-1: its courier and tracking number"
contains "$r1" "| line_haul ×2.4 |" "O-1: the stage that ran over, with its ratio (the resolved slip's not)"
told=$(TZ=Asia/Kolkata date -d "@$((NOW - 7200))" '+%Y-%m-%d %H:%M IST')
contains "$r1" "yes, $told (late, email)" "O-1: customer told, when (the latest notice sent) and what"
contains "$r1" "past promise" "O-1: why: past its promise"
contains "$r1" "slips: stalled" "and its open slip"
contains "$r1" "late 1 d 2 h" "O-1: how late"
r2=$(rows "$SITE/late.html" | sed -n 2p)
contains "$r2" "exception" "O-2: its status"
contains "$r2" "Held at <b>customs</b>" "O-2: the courier's words, as text"
contains "$r2" "| courier |" "O-2: the stage of its slip (no ratio)"
is "$(rows "$SITE/late.html" told | sed -n 2p)" "no" \
	"O-2: customer not told (a queued notice and an on-call page row are not)"
r3=$(rows "$SITE/late.html" | sed -n 3p)
contains "$r3" "not shipped" "O-4: an order not shipped has no tracking number"
contains "$r3" "past ship-by" "O-4: why: past its ship-by"
contains "$(rows "$SITE/late.html" | sed -n 5p)" "due soon" "O-3: at risk: due soon"
contains "$(rows "$SITE/late.html" | sed -n 5p)" "due in 4 h" "and how long is left (promised 4 h 59 min 30 s after the seed, so never a round 5 h)"
late=$(cat "$SITE/late.html")
contains "$late" '<a href="https://track.example/dhl/TN-1?o=O-1%3Cscript%3Ealert%281%29%3C%2Fscript%3E" ' \
	"the tracking link: [alerts] tracking_url with its values percent-encoded"
contains "$late" '<a href="https://track.example/evil%3Cscript%3Ealert%282%29%3C%2Fscript%3E/TN-7?o=O-7" ' \
	"a courier with markup is percent-encoded in the link"
is "$(grep -c '<tr class="late">' "$SITE/late.html"):$(grep -c '<tr class="risk">' "$SITE/late.html")" "4:1" \
	"four rows overdue, one at risk"

# --- each entity's own ----------------------------------------------------------------
is "$(oids "$SITE/warehouse-w1.html")" "O-1<script>alert(1)</script>,O-2" "warehouse w1's page: its units"
is "$(oids "$SITE/warehouse-w2.html")" "O-4,O-7,O-3" "warehouse w2's page: its units"
is "$(oids "$SITE/courier-dhl.html")" "O-1<script>alert(1)</script>,O-2" "courier dhl's page: its parcels"
is "$(oids "$SITE/courier-ups.html")" "O-3" "courier ups's page: its parcel"
contains "$(cat "$SITE/courier-bulkc.html")" "nothing late or at risk" "a courier with nothing late says so"

# --- escaping, every page -----------------------------------------------------------------
for p in "$SITE"/*.html; do
	n=$(basename "$p")
	raw=$(grep -o -e '<script' -e '<img src=x' -e '<b>customs' "$p" | sort -u | paste -sd' ' -)
	is "$raw" "" "$n: no markup from the store as markup"
done
contains "$late" 'O-1&lt;script&gt;alert(1)&lt;/script&gt;' "late.html: the order id escaped"
contains "$late" 'Eve &lt;img src=x onerror=alert(3)&gt;' "the customer's name escaped"
contains "$late" 'evil&lt;script&gt;alert(2)&lt;/script&gt;' "the courier escaped"
contains "$late" 'Held at &lt;b&gt;customs&lt;/b&gt;' "the courier's words escaped"
contains "$(cat "$SITE/warehouse-w1.html")" 'O-1&lt;script&gt;alert(1)&lt;/script&gt;' "on w1's page too"
contains "$(cat "$SITE/courier-dhl.html")" 'Eve &lt;img src=x onerror=alert(3)&gt;' "and dhl's"
contains "$(cat "$SITE/warehouse-w2.html")" 'evil&lt;script&gt;alert(2)&lt;/script&gt;' "and w2's"
contains "$idx" 'backlog 512 &lt;script&gt;alert(4)&lt;/script&gt;' "the overview: a page's summary escaped"

# Every relative link names a file of the site; the others are tracking links.
links=$("$PY3" - "$SITE" <<'PY'
import html.parser, os, sys
site = os.path.realpath(sys.argv[1])
class L(html.parser.HTMLParser):
    def __init__(self): super().__init__(); self.l = []
    def handle_starttag(self, tag, attrs):
        self.l += [v for k, v in attrs if k in ("href", "src")]
for page in sorted(f for f in os.listdir(site) if f.endswith(".html")):
    p = L(); p.feed(open(os.path.join(site, page), encoding="utf-8").read())
    for link in p.l:
        if link.startswith("https://track.example/"): continue
        target = link.split("#")[0]
        if target and ("://" in link or not os.path.isfile(os.path.join(site, target))):
            print(page, link)
PY
)
is "$links" "" "every link names a file of the site or is a tracking link"

# --- 500 rows at most ---------------------------------------------------------------------
"$SEED" "$T_DIR/bulk.db" "$NOW" <<'EOF' || bail "sw_seed bulk failed"
{"op":"bulk","n":503,"courier":"bulkc","wh":"wb","deliver_by":-50000,"prefix":"B"}
EOF
conf "$T_DIR/bulk.conf" "$T_DIR/bulk" "$T_DIR/bulk.db"
out=$("$DASH" -c "$T_DIR/bulk.conf" -d "$SW_SRCDIR/dashboards" --once 2>&1); st=$?
is "$st" 0 "503 late parcels: exit 0"
is "$(figures "$T_DIR/bulk/index.html" | sed -n 's/^late //p')" 503 "the headline counts all 503"
is "$(grep -c '<tr class="late">' "$T_DIR/bulk/late.html")" 500 "late.html shows 500"
contains "$(cat "$T_DIR/bulk/late.html")" "3 more not shown (the 500 most overdue are)" "and says how many more"
is "$(grep -c '<tr class="late">' "$T_DIR/bulk/courier-bulkc.html")" 500 "the courier's page shows 500"
contains "$(cat "$T_DIR/bulk/courier-bulkc.html")" "3 more not shown" "and says so too"

# --- no store -------------------------------------------------------------------------------
conf "$T_DIR/none.conf" "$T_DIR/none" "$T_DIR/missing.db"
out=$("$DASH" -c "$T_DIR/none.conf" -d "$SW_SRCDIR/dashboards" --once 2>&1); st=$?
is "$st" 0 "a missing store: the site is still written (exit 0)"
contains "$out" "store $T_DIR/missing.db: cannot open" "and the log says why"
check "the store is not created" test ! -e "$T_DIR/missing.db"
for p in index.html late.html courier-dhl.html warehouse-w1.html; do
	contains "$(cat "$T_DIR/none/$p")" '<p class="nodata">store not available</p>' "$p says the store is not available"
done
out=$("$DASH" -c "$T_DIR/none.conf" -d "$SW_SRCDIR/dashboards" -t 2>&1); st=$?
is "$st" 0 "-t without a store exits 0"
contains "$out" "store not available (pages will say so): store $T_DIR/missing.db: cannot open" "and says so"
out=$("$DASH" -c "$T_DIR/c.conf" -d "$SW_SRCDIR/dashboards" -t 2>&1)
contains "$out" "store $T_DIR/store.db: open read-only (schema " "-t with a store says it opened it"
echo "not a store" >"$T_DIR/text.db"
conf "$T_DIR/text.conf" "$T_DIR/text" "$T_DIR/text.db"
out=$("$DASH" -c "$T_DIR/text.conf" -d "$SW_SRCDIR/dashboards" --once 2>&1); st=$?
is "$st" 0 "a file that is not a store: exit 0"
contains "$(cat "$T_DIR/text/index.html")" "store not available" "and the overview says the store is not available"
is "$(cat "$T_DIR/text.db")" "not a store" "the file is not touched"

done_testing
