/* sim/main.c - to be written (issue 18) */
int main(void) { return 2; } /* placeholder until sim/main.c is written */
