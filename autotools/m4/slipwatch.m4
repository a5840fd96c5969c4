# slipwatch.m4 - configure helpers for slipwatch.

# SW_REQUIRE_PKG(VARIABLE-PREFIX, MODULES, DEBIAN-PACKAGE)
# ---------------------------------------------------------
# PKG_CHECK_MODULES that stops configure with a message naming the Debian
# package to install when the module is missing or too old.
AC_DEFUN([SW_REQUIRE_PKG], [
  PKG_CHECK_MODULES([$1], [$2], [],
    [AC_MSG_ERROR([$2 was not found by pkg-config.
  On Debian or Ubuntu install it with:   apt-get install $3
  (or run ./autotools/deps, which installs everything slipwatch needs).
  pkg-config said: $$1_PKG_ERRORS])])
])

# SW_CHECK_C_STD
# --------------
# slipwatch is written in C11 with GNU extensions.
AC_DEFUN([SW_CHECK_C_STD], [
  AC_MSG_CHECKING([whether $CC accepts -std=gnu11])
  save_CFLAGS=$CFLAGS
  CFLAGS="$CFLAGS -std=gnu11"
  AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[_Static_assert(1, "c11");]], [])],
    [AC_MSG_RESULT([yes])],
    [AC_MSG_RESULT([no]); AC_MSG_ERROR([a C11 compiler is required (Debian: gcc)])])
  CFLAGS=$save_CFLAGS
  SW_STD_CFLAGS="-std=gnu11"
  AC_SUBST([SW_STD_CFLAGS])
])
