/*-------------------------------------------------------------------------
 *
 * url.c
 *	  Checking API base URLs with libcurl's URL parser.
 *
 * Pure code: no PostgreSQL headers, so unit tests and fuzz targets can link
 * it alone.  Connections are only ever made to URLs that passed this check.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "url.h"

/* Whether s is a dotted-quad IPv4 address in 127.0.0.0/8. */
static bool
is_ipv4_loopback(const char *s)
{
	int			parts = 0;
	int			digits = 0;
	int			value = 0;

	if (strncmp(s, "127.", 4) != 0)
		return false;
	for (; *s; s++)
	{
		if (*s >= '0' && *s <= '9')
		{
			value = value * 10 + (*s - '0');
			if (++digits > 3 || value > 255)
				return false;
		}
		else if (*s == '.' && digits > 0)
		{
			parts++;
			digits = value = 0;
		}
		else
			return false;
	}
	return parts == 3 && digits > 0;
}

bool
tz_host_is_loopback(const char *host)
{
	if (host == NULL)
		return false;
	return strcasecmp(host, "localhost") == 0 ||
		strcmp(host, "[::1]") == 0 ||
		strcmp(host, "::1") == 0 ||
		is_ipv4_loopback(host);
}

/* Returns the part of the URL handle, or NULL when absent. */
static char *
url_part(CURLU *h, CURLUPart what)
{
	char	   *part = NULL;

	if (curl_url_get(h, what, &part, 0) != CURLUE_OK)
		return NULL;
	return part;
}

/*
 * The check behind both entry points.  A base URL may carry no query or
 * fragment; a request URL may carry a query.  out may be NULL.
 */
static TzUrlStatus
check_url(const char *url, bool allow_http, bool allow_query, char *out, const char **detail)
{
	CURLU	   *h;
	CURLUcode	rc;
	char	   *scheme = NULL;
	char	   *host = NULL;
	char	   *part = NULL;
	char	   *full = NULL;
	TzUrlStatus status = TZ_URL_OK;
	size_t		len;

	*detail = NULL;
	if (url == NULL || url[0] == '\0')
		return TZ_URL_EMPTY;
	if (strlen(url) > TZ_URL_MAX_LENGTH)
		return TZ_URL_TOO_LONG;

	h = curl_url();
	if (h == NULL)
		return TZ_URL_MALFORMED;

	rc = curl_url_set(h, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
	if (rc != CURLUE_OK)
	{
		*detail = curl_url_strerror(rc);
		status = TZ_URL_MALFORMED;
		goto done;
	}

	scheme = url_part(h, CURLUPART_SCHEME);
	if (scheme == NULL || (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0))
	{
		status = TZ_URL_BAD_SCHEME;
		goto done;
	}
	host = url_part(h, CURLUPART_HOST);
	if (host == NULL || host[0] == '\0')
	{
		status = TZ_URL_NO_HOST;
		goto done;
	}
	if ((part = url_part(h, CURLUPART_USER)) != NULL ||
		(part = url_part(h, CURLUPART_PASSWORD)) != NULL)
	{
		status = TZ_URL_CREDENTIALS;
		goto done;
	}
	if ((part = url_part(h, CURLUPART_FRAGMENT)) != NULL ||
		(!allow_query && (part = url_part(h, CURLUPART_QUERY)) != NULL))
	{
		status = TZ_URL_QUERY;
		goto done;
	}
	if (strcmp(scheme, "http") == 0 && !allow_http && !tz_host_is_loopback(host))
	{
		status = TZ_URL_PLAIN_HTTP;
		goto done;
	}

	if (out == NULL)
		goto done;
	full = url_part(h, CURLUPART_URL);
	if (full == NULL || strlen(full) > TZ_URL_MAX_LENGTH)
	{
		status = full == NULL ? TZ_URL_MALFORMED : TZ_URL_TOO_LONG;
		goto done;
	}
	len = strlen(full);
	while (len > 0 && full[len - 1] == '/')
		len--;
	memcpy(out, full, len);
	out[len] = '\0';

done:
	curl_free(scheme);
	curl_free(host);
	curl_free(part);
	curl_free(full);
	curl_url_cleanup(h);
	return status;
}

TzUrlStatus
tz_url_check(const char *url, bool allow_http, char *out, const char **detail)
{
	return check_url(url, allow_http, false, out, detail);
}

TzUrlStatus
tz_url_check_request(const char *url, bool allow_http)
{
	const char *detail;

	return check_url(url, allow_http, true, NULL, &detail);
}
