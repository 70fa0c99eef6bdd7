/*-------------------------------------------------------------------------
 *
 * url_sql.c
 *	  SQL face of the URL check: normalize_url(url, what).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "togai_zoho.h"
#include "settings.h"
#include "pure/url.h"

PG_FUNCTION_INFO_V1(normalize_url);

/*
 * normalize_url(url text, what text) returns text
 *
 * Returns the URL without a trailing slash, or raises an error that names the
 * argument ("what") and says how to fix it.
 */
Datum
normalize_url(PG_FUNCTION_ARGS)
{
	const char *what = PG_ARGISNULL(1) ? "url" : text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *url;
	char		out[TZ_URL_MAX_LENGTH + 1];
	const char *detail;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", what)));
	url = text_to_cstring(PG_GETARG_TEXT_PP(0));

	switch (tz_url_check(url, tz_allow_http, out, &detail))
	{
		case TZ_URL_OK:
			PG_RETURN_TEXT_P(cstring_to_text(out));
		case TZ_URL_EMPTY:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must not be empty", what)));
			break;
		case TZ_URL_TOO_LONG:
			ereport(ERROR,
					(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
					 errmsg("%s is too long", what),
					 errdetail("At most %d characters are allowed.", TZ_URL_MAX_LENGTH)));
			break;
		case TZ_URL_MALFORMED:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s is not a valid URL", what),
					 detail ? errdetail("%s.", detail) : 0,
					 errhint("Give the API root, such as https://api.togai.com or https://www.zohoapis.eu.")));
			break;
		case TZ_URL_BAD_SCHEME:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must be an https:// URL", what),
					 errhint("Give the API root, such as https://api.togai.com or https://www.zohoapis.eu.")));
			break;
		case TZ_URL_NO_HOST:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s has no host name", what)));
			break;
		case TZ_URL_CREDENTIALS:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must not contain a user name or password", what),
					 errhint("Pass credentials in their own arguments; they are stored apart from the URL.")));
			break;
		case TZ_URL_QUERY:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must not contain a query string or fragment", what)));
			break;
		case TZ_URL_PLAIN_HTTP:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must use https:// for a host that is not loopback", what),
					 errhint("Use https, or have a superuser set togai_zoho.allow_http = on for a plain-http endpoint you trust.")));
			break;
	}
	pg_unreachable();
}
