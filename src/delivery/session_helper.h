/*-------------------------------------------------------------------------
 *
 * session_helper.h
 *	  process_outbox()'s delivery, run by a helper process of its own.
 *
 * A session's transaction may still roll back, be cancelled or die with
 * its connection: no claim or outcome written in it may be the only record
 * that a request was sent.  So a session never calls the remote itself.
 * It starts a background worker that runs the worker's own engine (each
 * claim committed, its jobs marked as possibly made, before their calls),
 * with the session's delivery settings, and waits for it.  A cancel, a
 * timeout, an error or the end of the session asks the helper to stop: it
 * starts no more calls, records the answers of those in flight, and gives
 * the rest back.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_SESSION_HELPER_H
#define TZ_SESSION_HELPER_H

/*
 * Delivers up to max_jobs due jobs through a helper and waits for it;
 * returns how many jobs ended an attempt.
 */
extern int	tz_deliver_in_helper(int max_jobs);

#endif							/* TZ_SESSION_HELPER_H */
