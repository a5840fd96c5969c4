/* sim/api_table.c - to be written (issue 18) */
