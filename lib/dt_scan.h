/* lib/dt_scan.h - lib-internal: how every DT scan records a node it used or skipped.
 * Never part of the public API: callers see only struct dt_scan_stats. */
#ifndef PCSC_LIB_DT_SCAN_H
#define PCSC_LIB_DT_SCAN_H

#include <pcsc/dt_platform.h>

/* Count node as used (err == 0) or skipped, keeping the first error. */
static inline void dt_scan_note(struct dt_scan_stats *st, int node, int err)
{
	if (err) {
		st->skipped++;
		if (!st->first_err) {
			st->first_err = err;
			st->first_err_node = node;
		}
	} else {
		st->used++;
	}
}

#endif
