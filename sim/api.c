/* sim/api.c - to be written (issue 18) */
