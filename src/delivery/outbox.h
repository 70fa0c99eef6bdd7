/*-------------------------------------------------------------------------
 *
 * outbox.h
 *	  The outbox's SQL: claiming due jobs under a lease, writing each job's
 *	  outcome in its own subtransaction, reclaiming expired leases, and
 *	  cleaning up.  Callers are connected to SPI inside a transaction.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_OUTBOX_H
#define TZ_OUTBOX_H

#include "actions/job.h"

/*
 * Claims up to n due jobs, leased for lease_s seconds, each in a new memory
 * context under parent, with its flow's remaining actions and the mappings
 * they need.  Jobs of a connection's action that could not be loaded are
 * returned finished (dead) so their outcome is written.
 */
extern List *tz_outbox_claim(int n, int lease_s, MemoryContext parent);

/*
 * Writes the jobs of the oldest staged chunks (about 1,000 jobs, at least one
 * chunk) to the outbox, repeats of an object folded (the chunks other
 * claimers hold are skipped); returns whether more may be left.
 */
extern bool tz_outbox_unstage(void);

/*
 * Attaches to a job built by hand (preview_flow) its flow's actions, the
 * mappings they need and the known currency ids; job->cxt must be current.
 */
extern void tz_outbox_prepare_job(TzJob *job, bool inbound);

/*
 * The look before a delivery's first claim (delivery_identity_check(),
 * sql/install/identity.sql): returns why this database must not deliver
 * (a copy), in cxt, or NULL; after a new timeline it has marked every
 * unfinished job as possibly made.  *look_first: claims look first too.
 */
extern char *tz_outbox_identity(bool *look_first, MemoryContext cxt);

/*
 * Why this database must not deliver (delivery_held()), or NULL; reads
 * only.  The text lives in the SPI call's memory.
 */
extern char *tz_outbox_held(void);

/*
 * Puts jobs back to pending, flagged to search before creating: those whose
 * lease expired or whose holder is gone (a crash, a stopped helper), and at
 * start those of this backend.  Returns how many.
 */
extern int	tz_outbox_reclaim(bool at_start, const char *who);

/* Extends the leases of the jobs held. */
extern void tz_outbox_renew(List *jobs, int lease_s);

/*
 * Writes a finished job: mappings, state, attempt log, and wakes the jobs
 * waiting for a mapping it made.  Runs in a subtransaction: on failure the
 * job is marked dead with the reason, or, failing that, left to its lease.
 * Returns true when some job became due at once (a rerun, a waiter woken).
 */
extern bool tz_outbox_finish(TzJob *job, const char *who);

/* Deletes up to limit done jobs finished more than ttl_s ago; returns how many. */
extern int	tz_outbox_cleanup(int ttl_s, int limit);

/*
 * Milliseconds until the next job is due, a lease expires, a delivered job
 * outlives ttl_s, or 0 while staged jobs wait; -1 for never.
 */
extern int64 tz_outbox_next_wake_ms(int ttl_s);

#endif							/* TZ_OUTBOX_H */
