/*
 * courier_info.c - the rows of SW_COURIER_LIST as data, and lookups (see
 * include/slipwatch/courier_info.h).
 *
 * Only data lives here, no adapter code: the collector's adapters point at
 * these rows and the alert engine reads them, and neither links the other.
 */
#include "config.h"

#include <string.h>

#include "slipwatch/courier_info.h"

#define DEFINE_ROW(name_, display_, api_)                                                          \
	const struct sw_courier_info sw_courier_info_##name_ = {                                   \
	    .name = #name_, .display_name = display_, .api = api_};
SW_COURIER_LIST(DEFINE_ROW)
#undef DEFINE_ROW

#define TABLE_ROW(name_, display_, api_) &sw_courier_info_##name_,
const struct sw_courier_info *const sw_courier_info_table[] = {SW_COURIER_LIST(TABLE_ROW) NULL};
#undef TABLE_ROW

const struct sw_courier_info *sw_courier_info_find(const char *name)
{
	for (size_t i = 0; name != NULL && sw_courier_info_table[i] != NULL; i++)
		if (strcmp(sw_courier_info_table[i]->name, name) == 0)
			return sw_courier_info_table[i];
	return NULL;
}

const char *sw_courier_info_display_name(const char *name)
{
	const struct sw_courier_info *info = sw_courier_info_find(name);

	return info != NULL ? info->display_name : name;
}
