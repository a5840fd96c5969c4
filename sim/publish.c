/* sim/publish.c - to be written (issue 18) */
