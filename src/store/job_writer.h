/*-------------------------------------------------------------------------
 *
 * job_writer.h
 *	  The one writer of outbox jobs: the enqueue trigger, the worker's unstage
 *	  and backfill() all write and fold jobs through it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_JOB_WRITER_H
#define TZ_JOB_WRITER_H

#include "postgres.h"

#include "executor/spi.h"

/*
 * Where the jobs of one write come from.  Parameters of ONE and ARRAYS:
 * $1 flow id, $2 connection id, $3 entity, $4 source id, $5 payload (jsonb),
 * $6 repeats folded into it already, $7 may_exist (boolean, not an array);
 * ARRAYS takes arrays of the first six.
 */
typedef enum TzJobSource
{
	TZ_JOBS_ONE,
	TZ_JOBS_ARRAYS,
	TZ_JOBS_STAGED				/* the oldest staged chunks; no parameters */
} TzJobSource;

#define TZ_JOB_PARAMS 7

/*
 * The kept plan that writes jobs from the source.  A job of a flow that is
 * disabled is written never due (it waits until the flow is enabled again);
 * a job of a flow that no longer exists is not written; a job for an object
 * that has one pending or running folds into it, the later change's payload
 * winning.  The plan returns what it wrote: rows for ONE and ARRAYS, and
 * for STAGED one row with the number of staged jobs taken.  schema_current
 * is tz_jobs_schema_current(), which callers have at hand (the flow cache
 * keeps it), so that the trigger's hot path does no catalogue look-up.
 */
extern SPIPlanPtr tz_jobs_plan(TzJobSource source, bool schema_current);

/* Parameter types of ONE and ARRAYS, for callers building their values. */
extern const Oid *tz_jobs_param_types(TzJobSource source);

/*
 * Whether the installed schema is the one this library was built for (0.2.0
 * on: staged jobs, payload versions).  The library is replaced before
 * ALTER EXTENSION ... UPDATE runs; meanwhile jobs are written the 0.1.0 way
 * and nothing is staged.  The only place that knows the older schema.
 */
extern bool tz_jobs_schema_current(void);

/* The staged chunks' jobs a STAGED write takes at most (at least one chunk). */
#define TZ_UNSTAGE_JOBS 1000

#endif
