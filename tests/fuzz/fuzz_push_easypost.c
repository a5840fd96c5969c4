/*
 * fuzz_push_easypost.c - fuzz target for the EasyPost webhook
 * (collector/push_easypost.c); see fuzz_push.h.
 */
#include "config.h"

#include "fuzz_push.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fp_run(&sw_push_easypost, data, size);
	return 0;
}
