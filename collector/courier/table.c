/*
 * table.c - the adapter table, one adapter per row of SW_COURIER_LIST
 * (slipwatch/courier_info.h) in its order, and lookup by name.
 *
 * Adding a courier is adding its file (exporting one const struct
 * sw_courier sw_courier_<name>) and a row to SW_COURIER_LIST; a row
 * without its adapter does not link.
 */
#include "config.h"

#include <string.h>

#include "collector/courier/common.h"

#define ADAPTER_ROW(name, display_name, api) &sw_courier_##name,
const struct sw_courier *const sw_courier_table[] = {SW_COURIER_LIST(ADAPTER_ROW) NULL};
#undef ADAPTER_ROW

const struct sw_courier *sw_courier_find(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; sw_courier_table[i] != NULL; i++)
		if (strcmp(sw_courier_table[i]->name, name) == 0)
			return sw_courier_table[i];
	return NULL;
}
