/* sim/api_int.h - to be written (issue 18) */
