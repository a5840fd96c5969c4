/* sim/api_fedex.c - to be written (issue 18) */
