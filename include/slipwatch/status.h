/*
 * status.h - the canonical states every component speaks: an order's
 * fulfilment stages and a parcel's shipment status (design.md "Warehouse
 * events" and "Canonical shipment statuses").
 *
 * Courier adapters map their codes onto enum sw_ship_status, the collector
 * stores both enums, the alert engine and the CLI read them back.  Their
 * names are the words stored in the database and written in logs, reports
 * and JSON, so they never change once shipped.
 *
 * The name functions are implemented by the store (lib/store.c, which
 * writes these names), so every program that links lib/libslipwatch.a has
 * them.  They are pure, take no locks and may be called from any thread.
 */
#ifndef SW_STATUS_H
#define SW_STATUS_H

#include "lib/error.h"

/* Order stages, one per warehouse event type (order.<name>). */
enum sw_stage {
	SW_STAGE_CREATED,
	SW_STAGE_PICKED,
	SW_STAGE_PACKED,
	SW_STAGE_SHIPPED,
	SW_STAGE_CANCELLED,
	SW_STAGE_BACKORDERED,
	SW_STAGE_LAST /* sentinel; as an order status: no stage known yet */
};

/* Canonical shipment statuses. */
enum sw_ship_status {
	SW_SHIP_PENDING,
	SW_SHIP_INFO_RECEIVED,
	SW_SHIP_IN_TRANSIT,
	SW_SHIP_OUT_FOR_DELIVERY,
	SW_SHIP_ATTEMPT_FAIL,
	SW_SHIP_AVAILABLE_FOR_PICKUP,
	SW_SHIP_DELIVERED,
	SW_SHIP_EXCEPTION,
	SW_SHIP_RETURNING,
	SW_SHIP_RETURNED,
	SW_SHIP_EXPIRED,
	SW_SHIP_CANCELLED,
	SW_SHIP_UNKNOWN,
	SW_SHIP_LAST /* sentinel */
};

/* Names as stored and logged ("picked", "in_transit"); "?" for values out
 * of range.  Static strings. */
const char *sw_store_stage_name(enum sw_stage s);
const char *sw_store_ship_status_name(enum sw_ship_status s);

/* Maps a canonical status name back to the enum.  SW_OK with *ret_status
 * set, or SW_EINVAL if name is NULL or not one of the canonical names
 * (*ret_status untouched). */
enum sw_err sw_store_ship_status_parse(const char *name, enum sw_ship_status *ret_status);

/* 1 for statuses after which a parcel is no longer polled (delivered,
 * returned, expired, cancelled), else 0. */
int sw_store_ship_status_terminal(enum sw_ship_status s);

#endif /* SW_STATUS_H */
