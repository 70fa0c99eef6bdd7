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

#include "storage/latch.h"

/* Asks for the shared segment; called from _PG_init while preloading. */
extern void tz_shmem_init(void);

/* The worker says where its latch is (NULL when it stops). */
extern void tz_shmem_set_worker(bool running);

/* Wakes the worker now, if there is one and it serves this database. */
extern void tz_wake_worker(void);

/* Wakes the worker when the current transaction commits (not on abort). */
extern void tz_wake_worker_at_commit(void);

/*
 * Takes a call token of the connection, limited to per_minute calls (<= 0:
 * no limit).  Returns 0 when taken, else milliseconds to wait.
 */
extern int64 tz_rate_take(int64 connection_id, int per_minute);

/* Stops calls to the connection for pause_ms (the remote said wait). */
/*
 * Waits (interruptibly) until the connection's bucket gives a token: the
 * pacing of calls made in a session (polls, webhooks, checks), which share
 * the limit with the worker.
 */
extern void tz_rate_wait(int64 connection_id, int per_minute);

extern void tz_rate_pause(int64 connection_id, int per_minute, int64 pause_ms);

#endif							/* TZ_SHMEM_H */
