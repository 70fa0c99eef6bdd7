/*-------------------------------------------------------------------------
 *
 * steps.h
 *	  The actions as small state machines: which call each phase makes, and
 *	  where a successful (or not-found) answer leads.
 *
 * Knows nothing of tables, transactions or transfers: deliver.c performs
 * the calls, outbox.c stores what happened.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_STEPS_H
#define TZ_STEPS_H

#include "job.h"

/*
 * Plans the next call of the job: sets job->call_* and returns true, or
 * returns false with the job finished (delivered, deferred or dead).
 * search_first says the object may exist already and must be looked for
 * before it is created.
 */
extern bool tz_steps_plan(TzJob *job, bool search_first);

/* Moves the job on after a successful answer to its call. */
extern void tz_steps_answered(TzJob *job, const TzApiResult *r);

/*
 * Moves the job on after a refused call when the refusal has a meaning for
 * the action (a mapped object that is gone); false when it has none.
 */
extern bool tz_steps_refused(TzJob *job, const TzApiResult *r);

/*
 * The item the job looks for (job->call_item) is known: another job of the
 * same engine found or made it.  The job goes on as if its search had found it.
 */
extern void tz_steps_item_known(TzJob *job, const char *item_id);

#endif							/* TZ_STEPS_H */
