#!/usr/bin/env bash
# 050-install: `make install DESTDIR=...` from the build tree puts the
# programs, man pages, templates, the example configuration (never over a
# slipwatch.conf already there), the documentation with the broker
# snippet, and, unless configured without, the hardened systemd units with
# their tmpfiles.d and sysusers.d snippets where configure said; the units
# pass `systemd-analyze verify` when that tool exists; `make uninstall`
# takes back everything but the user's own configuration.
. "$SW_SRCDIR/tests/integration/lib.sh"

ROOT=$T_DIR/root
# A make of its own, not a job of the `make check` running this script.
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$SW_BUILDDIR" "$@"; }

# The installation directories as the build's Makefile expands them.
dirs=$(printf 'sw-dirs:\n\t@echo "$(bindir)|$(sbindir)|$(sysconfdir)|$(mandir)|$(docdir)|$(pkgdatadir)|$(systemdsystemunitdir)|$(tmpfilesdir)|$(sysusersdir)|$(localstatedir)"\n' |
	mk -f Makefile -f - sw-dirs) || bail "cannot read the installation directories from $SW_BUILDDIR/Makefile"
IFS='|' read -r bindir sbindir sysconfdir mandir docdir pkgdatadir unitdir tmpfilesdir sysusersdir localstatedir <<<"$dirs"
statedir=$localstatedir/lib/slipwatch

mk install DESTDIR="$ROOT" >"$T_DIR/install.log" 2>&1; st=$?
is "$st" 0 "make install DESTDIR=... exits 0"
[ "$st" = 0 ] || sed 's/^/# /' "$T_DIR/install.log" | tail -n 20

# --- programs, man pages, templates --------------------------------------------
for p in "$sbindir/slipwatch-collector" "$sbindir/slipwatch-alerts" "$sbindir/slipwatch-probes" "$sbindir/slipwatch-rrd" "$bindir/slipwatch" "$bindir/slipwatch-dash"; do
	check "$p is installed and executable" test -x "$ROOT$p"
done
contains "$("$ROOT$sbindir/slipwatch-rrd" --version 2>&1)" "slipwatch-rrd " "the installed slipwatch-rrd runs"
for m in man1/slipwatch.1 man5/slipwatch.conf.5 man8/slipwatch-collector.8 man8/slipwatch-alerts.8 man8/slipwatch-probes.8 man8/slipwatch-rrd.8 man1/slipwatch-dash.1; do
	check "man page $m" test -s "$ROOT$mandir/$m"
done
check "customer templates" test -s "$ROOT$pkgdatadir/templates/default/late.tmpl"
check "dashboard definitions" test -s "$ROOT$pkgdatadir/dashboards/overview.dash"
check "the cohort template" test -s "$ROOT$pkgdatadir/templates/default/cohort.tmpl"

# --- configuration -----------------------------------------------------------------
check "the example configuration in $sysconfdir/slipwatch" test -s "$ROOT$sysconfdir/slipwatch/slipwatch.conf.example"
check "is the shipped one" cmp -s "$SW_SRCDIR/slipwatch.conf.example" "$ROOT$sysconfdir/slipwatch/slipwatch.conf.example"
check "no slipwatch.conf is made up" test ! -e "$ROOT$sysconfdir/slipwatch/slipwatch.conf"
echo "; the operator's own" >"$ROOT$sysconfdir/slipwatch/slipwatch.conf"
mk install DESTDIR="$ROOT" >"$T_DIR/install2.log" 2>&1; st=$?
is "$st" 0 "a second make install exits 0"
is "$(cat "$ROOT$sysconfdir/slipwatch/slipwatch.conf")" "; the operator's own" "and leaves the operator's slipwatch.conf alone"

# --- documentation -------------------------------------------------------------------
for d in README.md slipwatch.conf.example mosquitto-slipwatch.conf; do
	check "$d in $docdir" test -s "$ROOT$docdir/$d"
done
# every doc/*.md of the source tree (doc/local.am lists them one by one)
missing=
for d in "$SW_SRCDIR"/doc/*.md; do
	[ -s "$ROOT$docdir/doc/${d##*/}" ] || missing="$missing doc/${d##*/}"
done
is "$missing" "" "every doc/*.md is installed in $docdir/doc"
# every relative link of the installed README leads to an installed file
# (bench/README.md, tests/README.md and ../shared/ are for readers of the
# source tree)
missing=
for l in $(grep -oE '\]\([^)#:]+\)' "$ROOT$docdir/README.md" | sed -e 's/^](//' -e 's/)$//' | sort -u); do
	case "$l" in bench/* | tests/* | ../*) continue ;; esac
	[ -e "$ROOT$docdir/$l" ] || missing="$missing $l"
done
is "$missing" "" "the installed README's links resolve"
check "the broker snippet is the shipped one" cmp -s "$SW_SRCDIR/etc/mosquitto-slipwatch.conf" "$ROOT$docdir/mosquitto-slipwatch.conf"

# --- systemd ---------------------------------------------------------------------------
if [ -z "$unitdir" ]; then
	T_N=$((T_N + 1)); echo "ok $T_N # SKIP no systemd units: configured --with-systemdsystemunitdir=no"
else
	for d in collector alerts probes; do
		u=$ROOT$unitdir/slipwatch-$d.service
		if [ ! -s "$u" ]; then
			not_ok "slipwatch-$d.service in $unitdir"
			continue
		fi
		ok "slipwatch-$d.service in $unitdir"
		unit=$(cat "$u")
		contains "$unit" "ExecStart=$sbindir/slipwatch-$d -f -c $sysconfdir/slipwatch/slipwatch.conf" "$d: runs in the foreground on the installed configuration"
		contains "$unit" "ExecStartPre=$sbindir/slipwatch-$d -t -c $sysconfdir/slipwatch/slipwatch.conf" "$d: a bad configuration fails the start"
		contains "$unit" 'ExecReload=/bin/kill -HUP $MAINPID' "$d: reload is SIGHUP"
		missing=
		for k in Type=exec User=slipwatch Group=slipwatch StateDirectory=slipwatch ReadWritePaths=-$statedir \
			ProtectSystem=strict ProtectHome=yes PrivateTmp=yes NoNewPrivileges=yes \
			'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' Restart=on-failure WantedBy=multi-user.target; do
			grep -qxF "$k" "$u" || missing="$missing [$k]"
		done
		is "$missing" "" "$d: hardened, own user, state directory, restarted on failure"
		case "$unit" in *@*@*) not_ok "$d: every @path@ is substituted" "$(grep -n '@' "$u")" ;; *) ok "$d: every @path@ is substituted" ;; esac
	done
	is "$(grep -v '^#' "$ROOT$tmpfilesdir/slipwatch.conf" 2>&1)" "d $statedir 0750 slipwatch slipwatch -" \
		"tmpfiles.d makes the state directory for the slipwatch user"
	contains "$(grep -v '^#' "$ROOT$sysusersdir/slipwatch.conf" 2>&1)" "u slipwatch - " "sysusers.d declares the slipwatch user"

	# systemd-analyze verify reads the units as systemd would.  The units
	# name the installed programs, which live under DESTDIR here: verify a
	# copy whose paths point into it (nothing else changes).
	if ! command -v systemd-analyze >/dev/null 2>&1; then
		T_N=$((T_N + 1)); echo "ok $T_N # SKIP systemd-analyze verify: systemd-analyze is not installed"
	else
		mkdir -p "$T_DIR/units"
		for d in collector alerts probes; do
			sed -e "s|=$sbindir/|=$ROOT$sbindir/|g" "$ROOT$unitdir/slipwatch-$d.service" >"$T_DIR/units/slipwatch-$d.service"
			out=$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no --generators=no \
				"$T_DIR/units/slipwatch-$d.service" 2>&1); st=$?
			# verify warns (exit 0) about unknown keys and bad values: any
			# line is a failure, but for a host without the slipwatch user.
			out=$(printf '%s\n' "$out" | grep -v -e "^$" -e "Failed to resolve user" -e "slipwatch: No such" || true)
			if [ "$st" = 0 ] && [ -z "$out" ]; then
				ok "systemd-analyze verify slipwatch-$d.service"
			else
				not_ok "systemd-analyze verify slipwatch-$d.service" "exit $st: $out"
			fi
		done
	fi
fi

# --- uninstall ---------------------------------------------------------------------------
mk uninstall DESTDIR="$ROOT" >"$T_DIR/uninstall.log" 2>&1; st=$?
is "$st" 0 "make uninstall exits 0"
is "$(cd "$ROOT" && find . -type f | sort)" "./${sysconfdir#/}/slipwatch/slipwatch.conf" \
	"make uninstall leaves only the operator's slipwatch.conf"
done_testing
