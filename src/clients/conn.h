/*-------------------------------------------------------------------------
 *
 * conn.h
 *	  A connection with its secrets, loaded through SPI.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_CONN_H
#define TZ_CONN_H

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

#include "app.h"
#include "pure/budget.h"

/* A connection with what a call needs: settings, secrets, budget (the enqueue trigger's lighter TzConnection is in flow_cache.h). */
typedef struct TzConnInfo
{
	int64		id;
	char	   *name;
	TzApp		app;
	char	   *base_url;		/* Togai root, or the Zoho API domain */
	char	   *accounts_url;	/* Zoho only */
	char	   *organization_id;	/* Zoho only */
	char	   *client_id;		/* Zoho only */
	/* secrets: never printed */
	char	   *api_token;		/* Togai */
	char	   *client_secret;	/* Zoho */
	char	   *refresh_token;	/* Zoho */
	char	   *access_token;	/* Zoho, may be NULL or stale */
	TimestampTz access_token_expires_at;
	int			rate_limit_per_minute;	/* calls allowed; 0: no limit */
	TzBudget	budget;			/* as stored: settings and today's counters */
} TzConnInfo;

/* Zoho Books publishes 100 calls a minute per organization; Togai publishes none. */
#define TZ_ZOHO_DEFAULT_RATE_LIMIT 100
/* Zoho Books' concurrency cap on paid plans (set_api_budget sets the free plan's 5) */
#define TZ_ZOHO_DEFAULT_CONCURRENT 10

/*
 * Loads a connection by name (an error if there is none, or if app is given
 * and differs).  Runs SPI as the extension's owner; the caller must be
 * connected to SPI.
 */
extern TzConnInfo *tz_conn_load(const char *name, int app);

/* Loads a connection by id, like tz_conn_load. */
extern TzConnInfo *tz_conn_load_id(int64 id);

/* Names of every connection, in id order (allocated in the caller's context). */
extern List *tz_conn_names(void);

/*
 * Locks the connection's secrets row until the transaction ends, so only one
 * session refreshes at a time.  Returns true, with conn updated, when another
 * session stored a different access token meanwhile.
 */
extern bool tz_conn_lock_token(TzConnInfo *conn);

/* Stores a new access token of a Zoho connection, in this transaction. */
extern void tz_conn_store_access_token(TzConnInfo *conn, const char *token, long expires_in);

#endif							/* TZ_CONN_H */
