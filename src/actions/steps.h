/*-------------------------------------------------------------------------
 *
 * steps.h
 *	  The phase driver: a job's actions, one after the other, each a small
 *	  state machine (its module, module.h) that plans a call and moves on
 *	  with its answer.
 *
 * Knows nothing of tables, transactions or transfers: the delivery engine
 * (delivery/deliver.c) performs the calls, the outbox (delivery/outbox.c)
 * stores what happened, preview_flow() shows them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_ACTIONS_STEPS_H
#define TZ_ACTIONS_STEPS_H

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

/* preview_flow(): a stand-in for the remote's answer to the call the job planned. */
extern json_t *tz_steps_stand_in(TzJob *job);

#endif							/* TZ_ACTIONS_STEPS_H */
