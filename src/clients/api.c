/*-------------------------------------------------------------------------
 *
 * api.c
 *	  The outcome of one call to a remote API and its translation into
 *	  PostgreSQL errors: SQLSTATEs of class TZ for the remote's answers, 08xxx
 *	  for the network, with the remote's own words in the message.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_jansson.h"

#include <curl/curl.h>

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "api.h"
#include "settings.h"
#include "togai_zoho.h"

/* The URL without its query string, for messages. */
static char *
url_for_message(const char *url)
{
	const char *q = strchr(url, '?');

	return q ? pnstrdup(url, q - url) : pstrdup(url);
}

void
tz_api_transport_failure(TzApiResult *r, const char *app, const TzHttpRequest *req,
						 const TzHttpResponse *resp)
{
	char	   *where = url_for_message(req->url);

	memset(r, 0, sizeof(*r));
	r->ok = false;
	r->retry_after_s = -1;
	r->detail = resp->error[0] ? pstrdup(resp->error) : NULL;
	switch (resp->outcome)
	{
		case TZ_HTTP_CONNECT_FAILED:
			r->sqlstate = ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION;
			r->message = psprintf("could not connect to %s at %s", app, where);
			if (resp->curl_code == CURLE_PEER_FAILED_VERIFICATION ||
				resp->curl_code == CURLE_SSL_CACERT_BADFILE)
				r->hint = pstrdup("For a private certificate authority, a superuser can set togai_zoho.ca_bundle to its PEM file.");
			break;
		case TZ_HTTP_TIMEOUT:
			r->sqlstate = ERRCODE_CONNECTION_FAILURE;
			r->message = psprintf("%s request %s %s timed out", app, req->method, where);
			r->hint = psprintf("togai_zoho.request_timeout_ms is %d ms; togai_zoho.connect_timeout_ms is %d ms.",
							   tz_request_timeout_ms, tz_connect_timeout_ms);
			break;
		case TZ_HTTP_DROPPED:
			r->sqlstate = ERRCODE_CONNECTION_FAILURE;
			r->message = psprintf("%s closed the connection before answering %s %s",
								  app, req->method, where);
			break;
		case TZ_HTTP_TOO_LARGE:
			r->sqlstate = ERRCODE_PROGRAM_LIMIT_EXCEEDED;
			r->message = psprintf("%s answer to %s %s is larger than togai_zoho.max_response_bytes (%d bytes)",
								  app, req->method, where, tz_max_response_bytes);
			r->detail = NULL;
			break;
		case TZ_HTTP_URL_REFUSED:
			r->sqlstate = ERRCODE_INVALID_PARAMETER_VALUE;
			r->message = psprintf("refusing to send a request to %s", where);
			r->detail = pstrdup("Only https:// is allowed, and plain http:// to loopback hosts.");
			r->hint = pstrdup("A superuser can set togai_zoho.allow_http = on for a plain-http endpoint you trust.");
			break;
		case TZ_HTTP_FAILED:
		case TZ_HTTP_ANSWERED:
			r->sqlstate = ERRCODE_CONNECTION_FAILURE;
			r->message = psprintf("%s request %s %s failed", app, req->method, where);
			break;
	}
}

void
tz_api_from_answer(TzApiResult *r, const char *app, const TzHttpRequest *req,
				   const TzHttpResponse *resp, TzAnswerClass cls,
				   const char *remote_message, long remote_code)
{
	char	   *where = url_for_message(req->url);
	char	   *said;

	r->http_status = resp->status;
	r->retry_after_s = resp->retry_after_s;
	r->body = resp->body;
	r->body_len = resp->body_len;
	r->ok = (cls == TZ_ANSWER_OK);
	if (r->ok)
		return;

	said = remote_message ? pstrdup(remote_message) : psprintf("HTTP %ld", resp->status);
	r->detail = remote_code >= 0 ?
		psprintf("HTTP %ld, %s code %ld.", resp->status, app, remote_code) :
		psprintf("HTTP %ld.", resp->status);
	switch (cls)
	{
		case TZ_ANSWER_OK:
			break;
		case TZ_ANSWER_REJECTED:
			r->sqlstate = ERRCODE_TZ_REMOTE_REJECTED;
			r->message = psprintf("%s refused %s %s: %s", app, req->method, where, said);
			break;
		case TZ_ANSWER_AUTH:
			r->sqlstate = ERRCODE_TZ_REMOTE_AUTH;
			r->message = psprintf("%s did not accept the credentials for %s %s: %s",
								  app, req->method, where, said);
			r->hint = pstrdup("Check the connection's token or grant; see togai_zoho.check_connection().");
			break;
		case TZ_ANSWER_FORBIDDEN:
			r->sqlstate = ERRCODE_TZ_REMOTE_FORBIDDEN;
			r->message = psprintf("%s does not allow %s %s: %s", app, req->method, where, said);
			r->hint = pstrdup("The token's scopes or the user's role do not cover this operation.");
			break;
		case TZ_ANSWER_NOT_FOUND:
			r->sqlstate = ERRCODE_TZ_REMOTE_NOT_FOUND;
			r->message = psprintf("%s has no such object: %s %s: %s", app, req->method, where, said);
			break;
		case TZ_ANSWER_RATE_LIMITED:
			r->sqlstate = ERRCODE_TZ_REMOTE_RATE_LIMIT;
			r->message = psprintf("%s rate limit reached on %s %s: %s", app, req->method, where, said);
			r->hint = resp->retry_after_s >= 0 ?
				psprintf("%s asks to wait %ld seconds before the next call.", app, resp->retry_after_s) :
				pstrdup("Wait a minute before the next call.");
			break;
		case TZ_ANSWER_SERVER_ERROR:
			r->sqlstate = ERRCODE_TZ_REMOTE_SERVER;
			r->message = psprintf("%s failed to answer %s %s: %s", app, req->method, where, said);
			break;
		case TZ_ANSWER_MALFORMED:
			r->sqlstate = ERRCODE_TZ_REMOTE_MALFORMED;
			r->message = psprintf("%s sent an answer to %s %s that is not what its API documents",
								  app, req->method, where);
			r->detail = psprintf("HTTP %ld, %zu bytes.", resp->status, resp->body_len);
			break;
	}
}

char *
tz_url_escape(const char *value)
{
	char	   *e = curl_easy_escape(NULL, value, 0);
	char	   *result;

	if (e == NULL)
		elog(ERROR, "togai_zoho: out of memory escaping a URL part");
	result = pstrdup(e);
	curl_free(e);
	return result;
}

void
tz_api_raise(const TzApiResult *r)
{
	if (r->ok)
		return;
	ereport(ERROR,
			(errcode(r->sqlstate),
			 errmsg_internal("%s", r->message),
			 r->detail ? errdetail_internal("%s", r->detail) : 0,
			 r->hint ? errhint("%s", r->hint) : 0));
}

Jsonb *
tz_api_jsonb(const TzApiResult *r, const char *member)
{
	Datum		whole;
	Datum		part;

	if (r->body == NULL || r->body_len == 0)
		return NULL;
	if (member != NULL)
	{
		json_t	   *m = r->root ? json_object_get(r->root, member) : NULL;

		if (m == NULL || json_is_null(m))
			return NULL;
	}
	whole = DirectFunctionCall1(jsonb_in, CStringGetDatum(r->body));
	if (member == NULL)
		return DatumGetJsonbP(whole);
	part = DirectFunctionCall2(jsonb_object_field, whole, CStringGetTextDatum(member));
	return DatumGetJsonbP(part);
}

static void *
json_palloc(size_t size)
{
	return palloc(Max(size, 1));
}

static void
json_pfree(void *ptr)
{
	if (ptr)
		pfree(ptr);
}

void
tz_json_use_palloc(void)
{
	json_set_alloc_funcs(json_palloc, json_pfree);
}

const TzHttpSettings *
tz_api_http_settings(void)
{
	static TzHttpSettings s;

	s.ca_bundle = tz_ca_bundle;
	s.connect_timeout_ms = tz_connect_timeout_ms;
	s.request_timeout_ms = tz_request_timeout_ms;
	s.max_response_bytes = tz_max_response_bytes;
	s.allow_http = tz_allow_http;
	return &s;
}
