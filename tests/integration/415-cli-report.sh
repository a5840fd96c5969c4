#!/usr/bin/env bash
# 415-cli-report: `slipwatch report`, the promise report, on a store seeded
# from tests/data/report/seed.jsonl (promises in ISO week 2024-W10, all
# passed) plus one slip written as the alert engine would: the text table
# with the target's "below" marks, one --json object whose figures are the
# seed's (7 judged, 5 on time; per courier; reasons; the first ETA missed
# by a day), --csv as RFC 4180 (CRLF, a courier id with a comma and double
# quotes quoted and read back exactly by Python's csv module), the zone
# moving a promise out of the range, and bad arguments exiting 2 naming
# the argument, a missing store 1.
. "$SW_SRCDIR/tests/integration/lib.sh"
CLI=$SW_BUILDDIR/tools/slipwatch
STORE=$T_DIR/store.db
ACME='ac,me "x"'
WEEK=(--from 2024-03-04 --to 2024-03-11)

check "the store is seeded" "$SW_BUILDDIR/tests/tools/sw_seed" "$STORE" 1710000000 \
	<"$SW_TEST_DATA/report/seed.jsonl"
# A5 never shipped: the engine's late slip names the warehouse stage.
check "the slip of A5 is recorded" sql "INSERT INTO alerts (entity, kind, stage, detected_at)
	VALUES ('order:W2:A5', 'late', 'warehouse', 1709900000)"
report() { "$CLI" --store "$STORE" report "$@"; }

# --- text -------------------------------------------------------------------
out=$(report --by courier --period week "${WEEK[@]}" --target 80 2>&1); st=$?
is "$st" 0 "report exits 0"
contains "$out" "promise report by COURIER per week" "the text says what it groups by"
row=$(printf '%s\n' "$out" | grep -F "$ACME")
contains "$row" "2024-W10" "the courier with a comma and quotes has its row, in week 10"
contains "$row" "66.7%" "2 of its 3 orders on time"
contains "$row" "below" "and it is marked below the 80% target in words"
row=$(printf '%s\n' "$out" | grep '^dhl ')
contains "$row" "100.0%" "dhl: 3 of 3"
case "$row" in *below*) not_ok "dhl is not marked" "$row" ;; *) ok "dhl is not marked" ;; esac
contains "$(printf '%s\n' "$out" | grep '^(none) ')" "0.0%" \
	"the order never shipped has no courier: its own row"
contains "$(printf '%s\n' "$out" | grep '(range)')" "71.4%" "the range: 5 of 7"
contains "$out" "below: on-time rate under the target of 80%" "the mark is explained"
out=$(report "${WEEK[@]}"); st=$?
is "$st" 0 "by none, per day"
is "$(printf '%s\n' "$out" | grep -c '^(all) *2024-03-')" 6 "six days have orders"

# --- JSON -------------------------------------------------------------------
json=$(report --by courier --period week "${WEEK[@]}" --target 80 --json); st=$?
is "$st" 0 "--json exits 0"
check "--json is one object" python3 -c 'import json,sys; assert isinstance(json.load(sys.stdin), dict)' <<<"$json"
got=$(python3 - "$json" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
t = d["total"]
cells = {c["key"]: c for c in d["cells"]}
a = cells['ac,me "x"']
print(d["by"], d["period"], d["from"], d["to"], d["zone"], d["target"])
print(t["judged"], t["on_time"], t["late"], round(t["on_time_rate"], 2), t["below_target"])
print(a["period"], a["period_start"], a["judged"], a["on_time"], a["below_target"])
print(a["eta"]["parcels"], a["eta"]["met"], a["eta"]["met_rate"], a["eta"]["mean_error_days"])
print(cells[None]["late_reasons"]["warehouse"], cells["dhl"]["below_target"],
      sorted(k for k in cells if k), len(d["period_totals"]))
PY
)
is "$got" "courier week 2024-03-04 2024-03-11 UTC 80.0
7 5 2 71.43 True
2024-W10 2024-03-04 3 2 True
1 0 0.0 1.0
1 False ['ac,me \"x\"', 'dhl'] 1" "--json: the seed's figures, the key as stored"

# --- CSV ----------------------------------------------------------------------
report --by courier --period week "${WEEK[@]}" --target 80 --csv >"$T_DIR/out.csv"; st=$?
is "$st" 0 "--csv exits 0"
is "$(head -c 40 "$T_DIR/out.csv")" "row,by,key,period,period_start,judged,on" "a header row first"
is "$(grep -c $'\r$' "$T_DIR/out.csv")" "$(wc -l <"$T_DIR/out.csv")" "every line ends with CRLF"
contains "$(cat "$T_DIR/out.csv")" 'cell,courier,"ac,me ""x""",2024-W10' \
	"the id with a comma and quotes is quoted, its quotes doubled"
got=$(python3 - "$T_DIR/out.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
a = [r for r in rows if r["key"] == 'ac,me "x"'][0]
t = [r for r in rows if r["row"] == "total"][0]
print(len(rows), a["judged"], a["on_time"], a["below_target"], a["eta_mean_error_days"])
print(t["judged"], t["on_time"], t["late_warehouse"], t["late_unknown"])
PY
)
is "$got" "5 3 2 yes 1.0000
7 5 1 1" "--csv reads back: 3 cells, a period total and the total"

# --- the zone -------------------------------------------------------------------
json=$(report "${WEEK[@]}" --zone Asia/Kolkata --json); st=$?
is "$st" 0 "--zone Asia/Kolkata"
is "$(python3 -c 'import json,sys; t=json.load(sys.stdin)["total"]; print(t["judged"], t["on_time"])' <<<"$json")" \
	"6 4" "20:00 UTC on Sunday is Monday in Kolkata: A8 leaves the range"
out=$(report --period month --from 2024-03-01 --to 2024-04-01 --by region); st=$?
is "$st" 0 "by region per month"
contains "$out" "2024-03" "the month's label"

# --- errors ---------------------------------------------------------------------
bad() { # bad DESCRIPTION NEEDLE ARGS...: exit 2 and the message names it
	local d=$1 needle=$2 out st
	shift 2
	out=$(report "$@" 2>&1); st=$?
	if [ "$st" -eq 2 ] && [[ "$out" == *"$needle"* ]]; then ok "$d"; else not_ok "$d" "exit $st: $out"; fi
}
bad "an unknown dimension" "--by: 'carrier' is not one of" --by carrier
bad "an unknown period" "--period: 'fortnight'" --period fortnight
bad "30 February" "--from: '2024-02-30' is not a date" --from 2024-02-30
bad "a time is not a date" "--to: '2024-03-11T00:00:00Z' is not a date" --to 2024-03-11T00:00:00Z
bad "the end before the start" "must be after --from" --from 2024-03-11 --to 2024-03-04
bad "too long a range" "at most 1100" --from 2020-01-01 --to 2024-01-01
bad "an unknown zone" "--zone: 'Mars/Olympus' is not a known IANA time zone" --zone Mars/Olympus
bad "a path is no zone" "--zone: '../etc/passwd'" --zone ../etc/passwd
bad "a target above 100" "--target: '101'" --target 101
bad "a target that is no number" "--target: '9O'" --target 9O
bad "JSON and CSV" "--json and --csv" --json --csv
bad "an operand" "unexpected" "${WEEK[@]}" W1
bad "an unknown option" "unknown option '--sort'" --sort
out=$("$CLI" --store "$T_DIR/none/store.db" report "${WEEK[@]}" 2>&1); st=$?
is "$st" 1 "a missing store exits 1"
contains "$out" "$T_DIR/none/store.db" "naming it"
[ -e "$T_DIR/none" ] && not_ok "nothing is created" || ok "nothing is created"

done_testing
