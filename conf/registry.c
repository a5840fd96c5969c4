/*
 * registry.c - the list of every program's configuration part (see
 * registry.h).  The collector's part comes first: it reads the sections
 * the warehouses and couriers depend on, and the order only decides which
 * of several errors in one file is named first.
 */
#include "config.h"

#include <stddef.h>

#include "alerts/conf.h"
#include "collector/conf.h"
#include "conf/registry.h"
#include "dashboards/dash_conf.h"
#include "probes/conf.h"

const struct sw_daemon_part *const sw_registry[] = {
    &sw_collector_part,
    &sw_alerts_part,
    &sw_dash_part,
    &sw_probes_part,
    NULL,
};
