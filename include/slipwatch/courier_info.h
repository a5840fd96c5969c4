/*
 * courier_info.h - the one list of built-in courier adapters, with what
 * the rest of slipwatch needs to know about each without linking it: the
 * adapter's name (the "adapter" word of [courier NAME], logs, metrics),
 * the name customers know the courier by, and one line naming the API it
 * speaks (help texts, the manual).
 *
 * Every other list of couriers is derived from SW_COURIER_LIST:
 * - the adapter table sw_courier_table (collector/courier/table.c) and the
 *   adapters' declarations (collector/courier/common.h);
 * - each adapter descriptor's name and info (SW_COURIER_ROW, courier.h);
 * - the words, help and error texts of the "adapter" option
 *   (collector/poll.c);
 * - the display names of customer messages (alerts/notice.c asks
 *   sw_courier_info_display_name()).  The rows are plain data compiled
 *   into lib/ (lib/courier_info.c), so the alert engine has them without
 *   the adapters' code.
 * The manual (slipwatch.conf(5), "Adapters") and doc/couriers.md are
 * written by hand; tests/unit/test_courier fails when either leaves out a
 * row or says something else than the row.
 *
 * Adding a courier: collector/courier/NAME.c exporting
 * "const struct sw_courier sw_courier_NAME = { SW_COURIER_ROW(NAME), ...}",
 * one row below, the file in collector/local.am, and its documentation.
 *
 * Everything here is constant data: safe from any thread.
 */
#ifndef SW_COURIER_INFO_H
#define SW_COURIER_INFO_H

/*
 * X(name, display_name, api): name is a C identifier (it also names the
 * adapter's descriptor, sw_courier_<name>); display_name is shown to
 * customers; api is one line without roff or Markdown markup.
 */
#define SW_COURIER_LIST(X)                                                                         \
	X(dhl, "DHL", "DHL Shipment Tracking, Unified API")                                        \
	X(fedex, "FedEx", "FedEx Track API v1")                                                    \
	X(ups, "UPS", "UPS Track API v1")                                                          \
	X(shiprocket, "Shiprocket", "Shiprocket external API v1, tracking by AWB")                 \
	X(aftership, "AfterShip", "AfterShip Tracking API, version 2024-04")

/* What slipwatch knows about one built-in courier. */
struct sw_courier_info {
	const char *name;	  /* "fedex": adapter word, logs, metrics */
	const char *display_name; /* "FedEx": how customers know it */
	const char *api;	  /* "FedEx Track API v1": for humans */
};

/* One object per row, sw_courier_info_<name>. */
#define SW_COURIER_INFO_DECLARE_(name, display_name, api)                                          \
	extern const struct sw_courier_info sw_courier_info_##name;
SW_COURIER_LIST(SW_COURIER_INFO_DECLARE_)
#undef SW_COURIER_INFO_DECLARE_

/* How many rows the list has. */
#define SW_COURIER_INFO_ONE_(name, display_name, api) +1
enum { SW_COURIER_INFO_COUNT = 0 SW_COURIER_LIST(SW_COURIER_INFO_ONE_) };

/* The names, each followed by one space ("dhl fedex ... "), as a string
 * literal for help and error texts. */
#define SW_COURIER_INFO_NAME_SP_(name, display_name, api) #name " "

#define SW_COURIER_INFO_NAMES SW_COURIER_LIST(SW_COURIER_INFO_NAME_SP_)

/* Every row in list order, NULL-terminated. */
extern const struct sw_courier_info *const sw_courier_info_table[];

/* The row named name, or NULL (also for NULL). */
const struct sw_courier_info *sw_courier_info_find(const char *name);

/* The display name of the courier named name, or name itself when it is
 * no built-in courier (a generic adapter's section, say); NULL for NULL.
 * Points into the table or at name. */
const char *sw_courier_info_display_name(const char *name);

#endif /* SW_COURIER_INFO_H */
