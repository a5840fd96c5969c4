/*
 * api_table.c - the couriers slipwatch-sim's API server speaks for, one row
 * per courier module (sim/api_<name>.c exports sim_api_<name>).  Adding a
 * courier is adding its file and its row here (sim_api_couriers lists
 * the rows' names).
 */
#include "config.h"

#include <stddef.h>

#include "sim/api_int.h"

const struct sim_api_courier *const sim_api_table[] = {
    &sim_api_dhl,
    &sim_api_fedex,
    &sim_api_ups,
    NULL,
};
