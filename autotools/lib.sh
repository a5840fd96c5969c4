# autotools/lib.sh - shared by the quick-start scripts (sourced, not run).
#
# Sets SW_TOP (the source tree), helpers for messages, and the list of
# Debian packages slipwatch needs to build, test and run.

SW_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Build: compiler, autotools, -dev libraries.
SW_PKGS_BUILD="gcc make pkg-config autoconf automake
	libcurl4-openssl-dev libmosquitto-dev librrd-dev libjansson-dev
	libsqlite3-dev libinih-dev libicu-dev libssl-dev libmicrohttpd-dev
	libpq-dev"
# Test and run: the real daemons the integration tests and demo start.
SW_PKGS_RUN="mosquitto mosquitto-clients rrdtool rrdcached python3
	python3-aiosmtpd sqlite3 tzdata ca-certificates procps curl
	postgresql"
# Test only: the real browser the dashboard tests load the generated site
# in (tests/tools/browser_check.py: headless Chromium driven by Selenium
# through Debian's own chromedriver, so the versions always match; a font so
# that screenshots show text).  Large (~300 MB with its libraries), so a
# list of its own; autotools/deps installs it after the others and only
# warns when it cannot (the browser tests then skip).
SW_PKGS_BROWSER="chromium chromium-driver python3-selenium fonts-dejavu-core"

sw_say() { printf '==> %s\n' "$*"; }
sw_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# sw_build DIR [configure args...]: configure (once) and build out of tree.
sw_build() {
	local dir=$1; shift
	mkdir -p "$dir"
	if [ ! -f "$dir/Makefile" ] || [ "$SW_TOP/configure" -nt "$dir/Makefile" ]; then
		(cd "$dir" && "$SW_TOP/configure" "$@") > "$dir/configure.out" 2>&1 ||
			{ cat "$dir/configure.out"; sw_die "configure failed in $dir"; }
		tail -n 16 "$dir/configure.out"
	fi
	make -C "$dir" -j"$(nproc)" >"$dir/make.out" 2>&1 ||
		{ tail -n 60 "$dir/make.out"; sw_die "build failed in $dir (log: $dir/make.out)"; }
}
