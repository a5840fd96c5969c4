#!/usr/bin/env bash
# 002-configure-missing-dep: with no pkg-config modules visible, configure
# stops and names the Debian package to install.
. "$SW_SRCDIR/tests/integration/lib.sh"

mkdir -p "$T_DIR/build"
cd "$T_DIR/build"
out=$(PKG_CONFIG_LIBDIR=/nonexistent PKG_CONFIG_PATH= "$SW_SRCDIR/configure" 2>&1)
status=$?
check "configure fails without pkg-config modules" test "$status" -ne 0
contains "$out" "apt-get install libcurl4-openssl-dev" "the message names the Debian package"
contains "$out" "./autotools/deps" "the message points at ./autotools/deps"

# Only jansson hidden: configure names jansson's package specifically.
mkdir -p "$T_DIR/pc"
for pc in libcurl libmosquitto librrd sqlite3 inih; do
	f=$(pkg-config --variable=pcfiledir "$pc")/$pc.pc
	cp "$f" "$T_DIR/pc/"
done
# pkg-config follows Requires: of these; make their dependencies visible too.
for dir in $(pkg-config --variable pc_path pkg-config | tr ':' ' '); do
	for f in "$dir"/*.pc; do
		[ -f "$f" ] || continue
		case "$(basename "$f")" in jansson.pc) ;; *) [ -e "$T_DIR/pc/$(basename "$f")" ] || cp "$f" "$T_DIR/pc/";; esac
	done
done
out=$(PKG_CONFIG_LIBDIR="$T_DIR/pc" PKG_CONFIG_PATH= "$SW_SRCDIR/configure" 2>&1)
status=$?
check "configure fails when only jansson is missing" test "$status" -ne 0
contains "$out" "apt-get install libjansson-dev" "the message names libjansson-dev"
done_testing
