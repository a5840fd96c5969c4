/* sim/truth.h - to be written (issue 18) */
