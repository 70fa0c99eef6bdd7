/*-------------------------------------------------------------------------
 *
 * shmem.h
 *	  State shared by the worker and every session: the worker's latch, and
 *	  the per-connection token buckets.
 *
 * Only plain data lives in shared memory: no pointers into one process.
 * Without shared_preload_libraries there is no shared segment; the buckets
 * are then this session's own.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_SHMEM_H
#define TZ_SHMEM_H

#include "datatype/timestamp.h"
#include "storage/latch.h"

#include "pure/admission.h"

/* Asks for the shared segment; called from _PG_init while preloading. */
extern void tz_shmem_init(void);

/* The worker says where its latch is (NULL when it stops). */
extern void tz_shmem_set_worker(bool running);

/* Wakes the worker now, if there is one and it serves this database. */
extern void tz_wake_worker(void);

/* Wakes the worker when the current transaction commits (not on abort). */
extern void tz_wake_worker_at_commit(void);

/* Stops calls to the connection for pause_ms (the remote said wait). */
extern void tz_rate_pause(int64 connection_id, int per_minute, int64 pause_ms);

/* Now, in seconds since 1970 (the budget's clock). */
extern double tz_unix_now(void);

/* The budget's clock as a timestamp. */
extern TimestampTz tz_timestamp_of_unix(double s);

/*
 * Gives the connection's slot its settings from the table (stored), and,
 * the first time after a start or on a new day, its counters: conn.c calls
 * it on every load, so a change of the budget takes effect at once.
 */
extern void tz_budget_attach(int64 connection_id, const TzBudget *stored);

/*
 * The admission of a call of the connection for the purpose (see
 * tz_admission_decide), under the lock every process takes: with take, a GO
 * of a budgeted call holds a slot until tz_budget_call_ended.  Slots this
 * process holds are freed at exit and by tz_budget_release_all (after an
 * error).  Callers pass clients/admission.c, the gate, not this.
 */
extern TzAdmission tz_shared_admit(int64 connection_id, int per_minute, TzPurpose purpose,
								   bool take);
extern void tz_budget_call_ended(int64 connection_id);
extern void tz_budget_release_all(void);

/* The remote answered 429 (see tz_budget_refused): true when paused for the day. */
extern bool tz_budget_refusal(int64 connection_id, TzRefusal kind);

/* Lifts a pause for the day (a new budget was set). */
extern void tz_budget_clear_pause(int64 connection_id);
/* Pauses a connection's calls for seconds from now (tz_budget_rest). */
extern void tz_budget_rest_for(int64 connection_id, double seconds);

/* A copy of the connection's budget as every process sees it; false if none yet. */
extern bool tz_budget_read(int64 connection_id, TzBudget *out);

/*
 * Copies the budgets of this database's connections that changed since the
 * last call (at most max), for the worker to store.
 */
extern int	tz_budget_take_dirty(int64 *ids, TzBudget *out, int max);

#endif							/* TZ_SHMEM_H */
