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

#include <signal.h>

/*
 * The engine runs its own short transactions, so it is run only where no
 * caller's transaction is open: by the worker, and by the helpers of
 * process_outbox() (session_helper.c).  Each claim commits, marking its
 * jobs as possibly made, before any of their calls is sent.  in_worker: the
 * cluster's worker (paused by togai_zoho.worker = off, stores the day's
 * calls, woken by commits).
 */
extern TzEngine *tz_engine_create(bool in_worker, const char *who);

/*
 * Set (by a signal handler) to stop the engine: no more claims or calls,
 * the calls in flight answered for a few seconds, the rest given back.
 */
extern volatile sig_atomic_t tz_delivery_stop;

/*
 * Delivers due jobs until none is due (and, when max_jobs >= 0, at most
 * max_jobs are claimed).  Returns how many jobs ended an attempt.
 */
extern int	tz_engine_run(TzEngine *e, int max_jobs);

/* Whether the engine found this database a copy, which must not deliver. */
extern bool tz_engine_held(TzEngine *e);

extern void tz_engine_destroy(TzEngine *e);

#endif							/* TZ_DELIVER_H */
