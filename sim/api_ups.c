/* sim/api_ups.c - to be written (issue 18) */
