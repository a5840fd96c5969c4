/* sim/simconf.h - to be written (issue 18) */
