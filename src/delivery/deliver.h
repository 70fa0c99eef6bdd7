/*-------------------------------------------------------------------------
 *
 * deliver.h
 *	  The delivery engine shared by the background worker and
 *	  process_outbox(): claims due jobs, runs their calls through one curl
 *	  multi handle, refilled up to togai_zoho.max_concurrency, paced by the
 *	  connections' token buckets, and writes each outcome.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_DELIVER_H
#define TZ_DELIVER_H

typedef struct TzEngine TzEngine;

/*
 * in_worker: the engine runs its own short transactions (claims commit
 * before any call is made).  Otherwise it runs inside the caller's
 * transaction, and searches before every create, since a claim it cannot
 * commit proves nothing after a crash.
 */
extern TzEngine *tz_engine_create(bool in_worker, const char *who);

/*
 * Delivers due jobs until none is due (and, when max_jobs >= 0, at most
 * max_jobs are claimed).  Returns how many jobs ended an attempt.
 */
extern int	tz_engine_run(TzEngine *e, int max_jobs);

extern void tz_engine_destroy(TzEngine *e);

#endif							/* TZ_DELIVER_H */
