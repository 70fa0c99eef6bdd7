/*-------------------------------------------------------------------------
 *
 * url.h
 *	  Checking API base URLs (pure: no server state, no network).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_URL_H
#define TZ_URL_H

#include <stdbool.h>
#include <stddef.h>

typedef enum TzUrlStatus
{
	TZ_URL_OK = 0,
	TZ_URL_EMPTY,
	TZ_URL_TOO_LONG,
	TZ_URL_MALFORMED,
	TZ_URL_BAD_SCHEME,
	TZ_URL_NO_HOST,
	TZ_URL_CREDENTIALS,
	TZ_URL_QUERY,
	TZ_URL_PLAIN_HTTP
} TzUrlStatus;

#define TZ_URL_MAX_LENGTH 2048

/*
 * Checks that url is an http(s) URL with a host, no credentials, no query or
 * fragment, and https unless the host is loopback or allow_http is set.  On
 * success writes the normalised URL (no trailing slash) to out, which must
 * hold TZ_URL_MAX_LENGTH + 1 bytes.  On failure *detail may point to a static
 * explanation from the URL parser.
 */
extern TzUrlStatus tz_url_check(const char *url, bool allow_http, char *out,
								const char **detail);

/*
 * The policy every request URL must pass: http(s), a host, no credentials,
 * no fragment, https unless loopback or allow_http.  A query is allowed.
 */
extern TzUrlStatus tz_url_check_request(const char *url, bool allow_http);

/* Whether host (as a URL carries it) names the loopback interface. */
extern bool tz_host_is_loopback(const char *host);

#endif							/* TZ_URL_H */
