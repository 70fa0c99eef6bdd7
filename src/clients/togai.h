/*-------------------------------------------------------------------------
 *
 * togai.h
 *	  Togai client: Bearer-token calls to the Togai API.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_TOGAI_H
#define TZ_TOGAI_H

#include "api.h"
#include "conn.h"

#define TZ_TOGAI_APP "Togai"

/*
 * Calls the Togai API for the connection.  query is "k=v&..." already
 * escaped, or NULL; body is JSON text or NULL.
 */
extern void tz_togai_request(TzApiResult *r, TzConnInfo *conn, const char *method,
							 const char *path, const char *query, const char *body);

/*
 * The two halves of tz_togai_request, for callers that perform requests
 * themselves: prepare (false, with r filled, when the connection cannot call)
 * and read the answer.
 */
extern bool tz_togai_prepare(TzApiResult *r, TzHttpRequest *req, TzConnInfo *conn,
							 const char *method, const char *path, const char *query,
							 const char *body);
extern void tz_togai_read_answer(TzApiResult *r, const TzHttpRequest *req,
								 const TzHttpResponse *resp);

#endif							/* TZ_TOGAI_H */
