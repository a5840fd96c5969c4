#!/usr/bin/env bash
# 210-rrd-tool: slipwatch-rrd check finds a file whose layout differs from
# the catalogue and names the difference; migrate keeps the old file aside
# and creates one that matches; usage errors exit 2; --help and --version
# exit 0 as the daemons' do.
. "$SW_SRCDIR/tests/integration/lib.sh"
TOOL=$SW_BUILDDIR/tools/slipwatch-rrd

printf '[rrd]\ndir = %s/rrd\nstep = 60s\n[store]\npath = %s/s.db\n' "$T_DIR" "$T_DIR" >"$T_DIR/c.conf"
mkdir -p "$T_DIR/rrd/warehouse"
rrdtool create "$T_DIR/rrd/warehouse/old.rrd" --step 300 DS:created:ABSOLUTE:600:U:U RRA:AVERAGE:0.5:1:10

out=$("$TOOL" -c "$T_DIR/c.conf" check 2>&1); st=$?
is "$st" 1 "check exits 1 on a mismatched file"
contains "$out" "MISMATCH   warehouse/old.rrd: step is 300 s, the catalogue says 60 s" "check names the file and the difference"
out=$("$TOOL" -c "$T_DIR/c.conf" check warehouse/new 2>&1); st=$?
is "$st" 0 "a file not there yet is fine"
contains "$out" "missing    warehouse/new.rrd" "and reported as missing"
out=$("$TOOL" -c "$T_DIR/c.conf" migrate warehouse/old 2>&1); st=$?
is "$st" 0 "migrate exits 0"
contains "$out" "migrated   warehouse/old.rrd" "migrate says what it did"
check "the old file is kept aside" sh -c "ls '$T_DIR'/rrd/warehouse/old.rrd.old-* >/dev/null"
out=$("$TOOL" -c "$T_DIR/c.conf" check 2>&1); st=$?
is "$st" 0 "after migrate, check exits 0"
contains "$out" "ok         warehouse/old.rrd" "the new file matches the catalogue"
contains "$(rrdtool info "$T_DIR/rrd/warehouse/old.rrd")" "step = 60" "the new file has the catalogue's step"
out=$("$TOOL" -c "$T_DIR/c.conf" migrate 2>&1); st=$?
is "$st" 2 "migrate without a name is a usage error"
out=$("$TOOL" -c "$T_DIR/c.conf" frobnicate 2>&1); st=$?
is "$st" 2 "an unknown command is a usage error"
out=$("$TOOL" --help 2>/dev/null); st=$?
is "$st" 0 "--help exits 0"
contains "$out" "usage: slipwatch-rrd" "and prints the usage on stdout"
out=$("$TOOL" -h 2>/dev/null); st=$?
is "$st" 0 "-h exits 0"
out=$("$TOOL" --version 2>/dev/null); st=$?
is "$st" 0 "--version exits 0"
contains "$out" "slipwatch-rrd " "and prints the version"
out=$("$TOOL" --bogus check 2>&1); st=$?
is "$st" 2 "an unknown option is a usage error"
contains "$out" "'--bogus'" "naming it"
out=$("$TOOL" -c "$T_DIR/missing.conf" check 2>&1); st=$?
is "$st" 1 "a missing config exits 1"
contains "$out" "missing.conf" "and names it"
out=$("$TOOL" -c "$T_DIR/c.conf" migrate ../../etc/passwd 2>&1); st=$?
is "$st" 1 "a name outside the catalogue is refused"
done_testing
