/*-------------------------------------------------------------------------
 *
 * zoho.h
 *	  Zoho Books client: OAuth tokens of a self client, data centres, and
 *	  authenticated calls to the Books API v3.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_ZOHO_H
#define TZ_ZOHO_H

#include "api.h"
#include "conn.h"

#define TZ_ZOHO_APP "Zoho Books"

/* The accounts server and API domain of a data centre; false if unknown. */
extern bool tz_zoho_region(const char *region, const char **accounts_url, const char **api_url);

/* The known data centres, comma-separated, for messages. */
extern const char *tz_zoho_region_list(void);

/*
 * POSTs an OAuth form to {accounts_url}/oauth/v2/token.  On success r->root
 * holds the token answer (see tz_zoho_token()); Zoho's refusal becomes TZ401
 * (TZ429 when it says too many requests) with its own error text.
 */
extern void tz_zoho_token_request(TzApiResult *r, const char *accounts_url, const char *form,
								  const char *what);

/*
 * Calls the Books API for the connection: a fresh access token (refreshed
 * before expiry, and once more on a 401), organization_id unless path is
 * /organizations, JSON body if any.  query is "k=v&..." already escaped, or
 * NULL.
 */
extern void tz_zoho_request(TzApiResult *r, TzConnInfo *conn, const char *method,
							const char *path, const char *query, const char *body);

/*
 * The headers naming a unique custom field (its API name) and the value to
 * find; upsert: make the object when none holds it.  Fills headers[0..2].
 */
extern void tz_zoho_unique_headers(TzHttpHeader *headers, const char *key, const char *value,
								   bool upsert);

/* The same with headers of the call's own (up to TZ_HTTP_MAX_HEADERS, NULL: none). */
extern void tz_zoho_request_headers(TzApiResult *r, TzConnInfo *conn, const char *method,
									const char *path, const char *query, const char *body,
									const TzHttpHeader *headers);

/*
 * The two halves of tz_zoho_request, for callers that perform requests
 * themselves (many at once): prepare a request with a usable token (a failure
 * to get one is left in r), and read the answer into r.
 */
extern void tz_zoho_prepare(TzApiResult *r, TzHttpRequest *req, TzConnInfo *conn,
							const char *method, const char *path, const char *query,
							const char *body, bool fresh_token);
extern void tz_zoho_read_answer(TzApiResult *r, const TzHttpRequest *req,
								const TzHttpResponse *resp);

/*
 * Whether a request can be prepared without minting a token (no HTTP, no
 * table access): callers outside a transaction check this first, and call
 * tz_zoho_ensure_token inside one when it is false, or when force is needed
 * after a 401.
 */
/* The URL of a Books API call: {api_url}/books/v3{path}?organization_id=...&{query}. */
extern char *tz_zoho_books_url(const char *api_url, const char *path, const char *organization_id,
							   const char *query);

extern bool tz_zoho_token_fresh(TzConnInfo *conn);
extern void tz_zoho_ensure_token(TzApiResult *r, TzConnInfo *conn, bool force);

/* Calls the Books API with a given token, before any connection exists. */
extern void tz_zoho_request_with_token(TzApiResult *r, const char *api_url, const char *token,
									   const char *method, const char *path, const char *query,
									   const char *body);

#endif							/* TZ_ZOHO_H */
