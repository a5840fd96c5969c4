/* sim/world.c - to be written (issue 18) */
