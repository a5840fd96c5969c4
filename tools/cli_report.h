/*
 * cli_report.h - `slipwatch report`, the promise report on the command
 * line (tools/cli_report.c): a row of slipwatch.c's command table.
 */
#ifndef SW_TOOLS_CLI_REPORT_H
#define SW_TOOLS_CLI_REPORT_H

#include "tools/cli.h"

/* slipwatch report [--by D] [--period P] [--from DATE] [--to DATE]
 * [--zone Z] [--target PCT] [--json | --csv]; an exit status. */
int cmd_report(const struct cli *cli, int argc, char **argv);

#endif /* SW_TOOLS_CLI_REPORT_H */
