/* sim/truth.c - to be written (issue 18) */
