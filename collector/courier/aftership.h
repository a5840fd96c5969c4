/*
 * aftership.h - what the AfterShip adapter (aftership.c) shares beyond its
 * descriptor: reading one tracking object, which the API answers and the
 * tracking webhook (collector/push_aftership.c, "msg") both carry.
 */
#ifndef SW_COURIER_AFTERSHIP_H
#define SW_COURIER_AFTERSHIP_H

#include <jansson.h>

#include "slipwatch/courier.h"

/*
 * Reads the AfterShip tracking object t (tag, subtag, checkpoints[],
 * estimated delivery, shipment_delivery_date, signed_by) into r, as the
 * adapter reads data.tracking: FOUND with its status and events, or ERROR
 * bad_response when t is not an object with a tag or has too many
 * checkpoints.  r must be zeroed or hold a result (its tracking_number is
 * kept; found data it held is replaced).  Pure; any thread.
 */
void sw_aftership_tracking(struct sw_courier_result *r, json_t *t);

#endif /* SW_COURIER_AFTERSHIP_H */
