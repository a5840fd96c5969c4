/*
 * table.c - the one list of courier adapters, and lookup by name.
 *
 * Adding a courier is adding its file (exporting one const struct
 * sw_courier) and a row here.
 */
#include "config.h"

#include <string.h>

#include "collector/courier/common.h"

const struct sw_courier *const sw_courier_table[] = {
    &sw_courier_dhl,	    &sw_courier_fedex,	   &sw_courier_ups,
    &sw_courier_shiprocket, &sw_courier_aftership, NULL,
};

const struct sw_courier *sw_courier_find(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; sw_courier_table[i] != NULL; i++)
		if (strcmp(sw_courier_table[i]->name, name) == 0)
			return sw_courier_table[i];
	return NULL;
}
