/*-------------------------------------------------------------------------
 *
 * enqueue.h
 *	  The enqueue_sync() trigger.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_ENQUEUE_H
#define TZ_ENQUEUE_H

#include "fmgr.h"

/* Installs the hook that stages a statement's row trigger jobs together (from _PG_init). */
extern void tz_enqueue_init(void);

/* The trigger's body: a job per enabled flow of the change (enqueue_sql.c calls it). */
extern Datum tz_enqueue_sync(FunctionCallInfo fcinfo);

#endif
