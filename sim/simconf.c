/* sim/simconf.c - to be written (issue 18) */
