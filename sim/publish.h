/* sim/publish.h - to be written (issue 18) */
