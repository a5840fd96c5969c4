/*
 * fuzz_push_aftership.c - fuzz target for the AfterShip webhook
 * (collector/push_aftership.c); see fuzz_push.h.
 */
#include "config.h"

#include "fuzz_push.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fp_run(&sw_push_aftership, data, size);
	return 0;
}
