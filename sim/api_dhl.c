/* sim/api_dhl.c - to be written (issue 18) */
