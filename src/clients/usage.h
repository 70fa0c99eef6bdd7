/*-------------------------------------------------------------------------
 *
 * usage.h
 *	  A connection's API usage as the database sees it: the gate a
 *	  session's call passes, the worker's storing of the day's counters, and
 *	  the words for a spent budget.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_USAGE_H
#define TZ_USAGE_H

#include "pure/budget.h"
#include "conn.h"
#include "http.h"

/*
 * Performs a call of this session for the connection (purpose from
 * togai_zoho.call_purpose): waits for a free slot under the concurrency
 * cap, raises TZ429 when the day's budget is spent or the remote paused the
 * connection for the day, and frees the slot however the call ends.
 */
extern void tz_usage_perform(const TzConnInfo *conn, const TzHttpRequest *req,
							 TzHttpResponse *resp);

/* Counts a token mint of the connection (never refused). */
extern void tz_usage_token(const TzConnInfo *conn);

/*
 * A 429 answer from the connection's remote; true when it paused the
 * connection: Zoho Books for the day when it says so; Togai, which has no
 * daily cap, always, for retry_after_s (TZ_REST_DEFAULT_S when not given).
 * Either pause holds this connection's calls only.
 */
#define TZ_REST_DEFAULT_S 60
extern bool tz_usage_refused(const TzConnInfo *conn, const char *message, long retry_after_s);

/* Why a call waits: "the daily API budget of connection ... is spent ...". */
extern char *tz_usage_wait_reason(const TzConnInfo *conn, TzBudgetVerdict v, double until_s);

/*
 * Stores the day's counters of this database's connections that changed
 * (the worker, every few seconds, in a transaction with SPI connected).
 */
extern void tz_usage_store(void);

#endif							/* TZ_USAGE_H */
