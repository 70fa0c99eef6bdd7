/*-------------------------------------------------------------------------
 *
 * api.h
 *	  The outcome of one call to a remote API, shared by both clients, and
 *	  its translation into PostgreSQL errors.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_API_H
#define TZ_API_H

#include "utils/jsonb.h"

#include "http.h"
#include "pure/parse.h"

/* The outcome of one API call. */
typedef struct TzApiResult
{
	bool		ok;
	int			sqlstate;		/* when !ok */
	char	   *message;
	char	   *detail;
	char	   *hint;
	long		http_status;	/* 0 without an answer */
	long		retry_after_s;
	char	   *body;			/* the answer as received */
	size_t		body_len;
	json_t	   *root;			/* parsed answer (palloc'd jansson), or NULL */
} TzApiResult;

/* The HTTP layer's settings as the togai_zoho.* settings say now. */
extern const TzHttpSettings *tz_api_http_settings(void);

/* Raises the result's error; does nothing for a success. */
extern void tz_api_raise(const TzApiResult *result);

/* The answer's member (or the whole answer for NULL) as exact jsonb. */
extern Jsonb *tz_api_jsonb(const TzApiResult *result, const char *member);

/* Makes jansson allocate in the current memory context. */
extern void tz_json_use_palloc(void);

/* Fills r for a request that got no usable answer (transport failure). */
extern void tz_api_transport_failure(TzApiResult *r, const char *app,
									 const TzHttpRequest *req, const TzHttpResponse *resp);

/* Fills r from an answer of the given class, with the remote's own words. */
extern void tz_api_from_answer(TzApiResult *r, const char *app, const TzHttpRequest *req,
							   const TzHttpResponse *resp, TzAnswerClass cls,
							   const char *remote_message, long remote_code);

/* Percent-encodes a value for a URL path or query (palloc'd). */
extern char *tz_url_escape(const char *value);

#endif							/* TZ_API_H */
