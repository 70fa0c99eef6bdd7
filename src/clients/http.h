/*-------------------------------------------------------------------------
 *
 * http.h
 *	  The one request path to the remote APIs, on libcurl: synchronous for
 *	  SQL functions, a multi handle for the worker.
 *
 * Knows nothing of tables or of the APIs' formats.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_HTTP_H
#define TZ_HTTP_H

#define TZ_HTTP_MAX_HEADERS 4

/* A header a call adds (Zoho's upsert names its unique field in three). */
typedef struct TzHttpHeader
{
	const char *name;
	const char *value;
} TzHttpHeader;

typedef struct TzHttpRequest
{
	const char *method;			/* GET, POST, PUT, PATCH, DELETE */
	const char *url;			/* complete URL, query included */
	const char *content_type;	/* NULL when there is no body */
	const char *body;
	size_t		body_len;
	const char *authorization;	/* Authorization header value: a secret, never logged */
	TzHttpHeader headers[TZ_HTTP_MAX_HEADERS];	/* more, up to the first without a name */
} TzHttpRequest;

/* What the caller allows a request (the togai_zoho.* settings, read by api.c). */
typedef struct TzHttpSettings
{
	const char *ca_bundle;		/* PEM file of trusted CAs; NULL or empty: the system's */
	int			connect_timeout_ms;
	int			request_timeout_ms;
	int			max_response_bytes;
	bool		allow_http;		/* plain http:// to hosts other than loopback */
} TzHttpSettings;

typedef enum TzHttpOutcome
{
	TZ_HTTP_ANSWERED,			/* an HTTP answer arrived, whatever its status */
	TZ_HTTP_CONNECT_FAILED,		/* name resolution, refused, TLS verification */
	TZ_HTTP_TIMEOUT,
	TZ_HTTP_DROPPED,			/* closed before the answer was complete */
	TZ_HTTP_TOO_LARGE,			/* answer over togai_zoho.max_response_bytes */
	TZ_HTTP_URL_REFUSED,		/* the URL fails the scheme and host policy */
	TZ_HTTP_FAILED				/* anything else libcurl reports */
} TzHttpOutcome;

typedef struct TzHttpResponse
{
	TzHttpOutcome outcome;
	long		status;			/* HTTP status, 0 without an answer */
	char	   *body;			/* palloc'd, NUL-terminated, never NULL */
	size_t		body_len;
	long		retry_after_s;	/* Retry-After in seconds, -1 when absent */
	double		elapsed_ms;
	int			curl_code;
	char		error[256];		/* libcurl's explanation of a failure */
} TzHttpResponse;

/* Performs one request in this backend, honouring query cancel and termination. */
extern void tz_http_perform(const TzHttpSettings *settings, const TzHttpRequest *req,
							TzHttpResponse *resp);

/* Many requests at once, for the worker. */
typedef struct TzHttpMulti TzHttpMulti;

/* A multi handle whose requests all follow settings (copied). */
extern TzHttpMulti *tz_http_multi_create(const TzHttpSettings *settings);
extern void tz_http_multi_add(TzHttpMulti *multi, const TzHttpRequest *req, void *tag);

/* Drives transfers, waiting at most wait_ms for activity. */
extern void tz_http_multi_wait(TzHttpMulti *multi, int wait_ms);
/* Sends what was added since: libcurl writes nothing until it is driven. */
extern void tz_http_multi_send(TzHttpMulti *multi);

/* Takes one finished request, if any: its tag and response. */
extern bool tz_http_multi_next_done(TzHttpMulti *multi, void **tag, TzHttpResponse *resp);

/* Abandons every request in flight (on error or shutdown). */
extern void tz_http_multi_abort_all(TzHttpMulti *multi);
extern void tz_http_multi_destroy(TzHttpMulti *multi);

#endif							/* TZ_HTTP_H */
