/*-------------------------------------------------------------------------
 *
 * zoho.c
 *	  Zoho Books client: self-client OAuth, data centres, authenticated calls.
 *
 * Access tokens live an hour and Zoho limits how many one refresh token may
 * mint, so a token is kept with its expiry (in connection_secret, and in this
 * backend's memory in case the transaction that stored it rolls back) and
 * refreshed only shortly before it expires or when a call answers 401.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_jansson.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "pure/upsert.h"
#include "admission.h"
#include "zoho.h"

#include "togai_zoho.h"

/* Refresh this long before the token expires. */
#define REFRESH_MARGIN_SECS 120

static const struct
{
	const char *region;
	const char *accounts_url;
	const char *api_url;
}			regions[] =
{
	{"com", "https://accounts.zoho.com", "https://www.zohoapis.com"},
	{"eu", "https://accounts.zoho.eu", "https://www.zohoapis.eu"},
	{"in", "https://accounts.zoho.in", "https://www.zohoapis.in"},
	{"com.au", "https://accounts.zoho.com.au", "https://www.zohoapis.com.au"},
	{"jp", "https://accounts.zoho.jp", "https://www.zohoapis.jp"},
	{"ca", "https://accounts.zohocloud.ca", "https://www.zohoapis.ca"},
	{"com.cn", "https://accounts.zoho.com.cn", "https://www.zohoapis.com.cn"},
	{"sa", "https://accounts.zoho.sa", "https://www.zohoapis.sa"},
};

bool
tz_zoho_region(const char *region, const char **accounts_url, const char **api_url)
{
	for (int i = 0; i < lengthof(regions); i++)
		if (strcmp(regions[i].region, region) == 0)
		{
			*accounts_url = regions[i].accounts_url;
			*api_url = regions[i].api_url;
			return true;
		}
	return false;
}

const char *
tz_zoho_region_list(void)
{
	return "com, eu, in, com.au, jp, ca, com.cn, sa";
}

/* This backend's copy of each connection's newest access token. */
typedef struct CachedToken
{
	int64		connection_id;
	char	   *token;
	TimestampTz expires_at;
} CachedToken;

#define MAX_CACHED_TOKENS 32
static CachedToken cached_tokens[MAX_CACHED_TOKENS];

static CachedToken *
cached_token(int64 connection_id, bool create)
{
	CachedToken *free_slot = NULL;

	for (int i = 0; i < MAX_CACHED_TOKENS; i++)
	{
		if (cached_tokens[i].token && cached_tokens[i].connection_id == connection_id)
			return &cached_tokens[i];
		if (!cached_tokens[i].token && !free_slot)
			free_slot = &cached_tokens[i];
	}
	if (!create)
		return NULL;
	if (!free_slot)
	{
		free_slot = &cached_tokens[random() % MAX_CACHED_TOKENS];
		pfree(free_slot->token);
		free_slot->token = NULL;
	}
	free_slot->connection_id = connection_id;
	return free_slot;
}

static void
remember_token(int64 connection_id, const char *token, TimestampTz expires_at)
{
	CachedToken *c = cached_token(connection_id, true);

	if (c->token)
		pfree(c->token);
	c->token = MemoryContextStrdup(TopMemoryContext, token);
	c->expires_at = expires_at;
}

static bool
fresh(const char *token, TimestampTz expires_at)
{
	return token != NULL && token[0] != '\0' &&
		expires_at > TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												 REFRESH_MARGIN_SECS * 1000);
}

void
tz_zoho_read_answer(TzApiResult *r, const TzHttpRequest *req, const TzHttpResponse *resp)
{
	long		code;
	const char *message;
	TzAnswerClass cls;

	memset(r, 0, sizeof(*r));
	if (resp->outcome != TZ_HTTP_ANSWERED)
	{
		tz_api_transport_failure(r, TZ_ZOHO_APP, req, resp);
		return;
	}
	r->root = tz_json_object(resp->body, resp->body_len);
	cls = tz_zoho_classify(resp->status, r->root, &code, &message);
	tz_api_from_answer(r, TZ_ZOHO_APP, req, resp, cls, message, code);
}

/* Performs a request in this backend and reads the Zoho answer. */
static void
perform(TzApiResult *r, const TzHttpRequest *req)
{
	TzHttpResponse resp;

	tz_http_perform(tz_api_http_settings(), req, &resp);
	tz_zoho_read_answer(r, req, &resp);
}

void
tz_zoho_token_request(TzApiResult *r, const char *accounts_url, const char *form, const char *what)
{
	TzHttpRequest req = {0};
	TzHttpResponse resp;
	TzZohoToken token;

	memset(r, 0, sizeof(*r));
	req.method = "POST";
	req.url = psprintf("%s/oauth/v2/token", accounts_url);
	req.content_type = "application/x-www-form-urlencoded";
	req.body = form;
	req.body_len = strlen(form);
	tz_http_perform(tz_api_http_settings(), &req, &resp);
	if (resp.outcome != TZ_HTTP_ANSWERED)
	{
		tz_api_transport_failure(r, "the Zoho accounts server", &req, &resp);
		return;
	}

	r->http_status = resp.status;
	r->retry_after_s = resp.retry_after_s;
	r->body = resp.body;
	r->body_len = resp.body_len;
	r->root = tz_json_object(resp.body, resp.body_len);
	if (!tz_zoho_token(r->root, &token))
	{
		r->sqlstate = resp.status >= 500 ? ERRCODE_TZ_REMOTE_SERVER : ERRCODE_TZ_REMOTE_MALFORMED;
		r->message = psprintf("the Zoho accounts server gave no token for %s", what);
		r->detail = psprintf("HTTP %ld, %zu bytes.", resp.status, resp.body_len);
		return;
	}
	if (token.error != NULL)
	{
		bool		too_many = token.error_description &&
			strstr(token.error_description, "too many requests") != NULL;

		r->sqlstate = too_many ? ERRCODE_TZ_REMOTE_RATE_LIMIT : ERRCODE_TZ_REMOTE_AUTH;
		r->message = psprintf("the Zoho accounts server refused %s: %s", what, token.error);
		r->detail = token.error_description ?
			psprintf("HTTP %ld: %s", resp.status, token.error_description) :
			psprintf("HTTP %ld.", resp.status);
		if (too_many)
			r->hint = pstrdup("Zoho limits how many access tokens one refresh token may mint; wait a few minutes.");
		else if (strcmp(token.error, "invalid_code") == 0)
			r->hint = pstrdup("Grant codes work once and expire after 3 to 10 minutes; generate a new one in the "
							  "Self Client's Generate Code tab, at the data centre of the account (region).");
		else if (strncmp(token.error, "invalid_client", 14) == 0)
			r->hint = pstrdup("Check the client id and secret, and that the region is the account's data centre.");
		return;
	}
	r->ok = true;
}

/* Mints a new access token from the refresh token and keeps it. */
static void
refresh_token(TzApiResult *r, TzConnInfo *conn)
{
	TzZohoToken token;
	char	   *form;

	if (conn->refresh_token == NULL || conn->client_secret == NULL)
	{
		memset(r, 0, sizeof(*r));
		r->sqlstate = ERRCODE_TZ_REMOTE_AUTH;
		r->message = psprintf("connection \"%s\" has no refresh token", conn->name);
		r->hint = pstrdup("Add the connection again with togai_zoho.add_zohobooks_connection().");
		return;
	}
	/* one session at a time: another may have refreshed while we waited */
	if (tz_conn_lock_token(conn) && fresh(conn->access_token, conn->access_token_expires_at))
	{
		memset(r, 0, sizeof(*r));
		r->ok = true;
		remember_token(conn->id, conn->access_token, conn->access_token_expires_at);
		return;
	}
	form = psprintf("grant_type=refresh_token&refresh_token=%s&client_id=%s&client_secret=%s",
					tz_url_escape(conn->refresh_token), tz_url_escape(conn->client_id),
					tz_url_escape(conn->client_secret));
	(void) tz_admit(conn, TZ_PURPOSE_TOKEN, TZ_ADMIT_TRY);
	tz_zoho_token_request(r, conn->accounts_url, form,
						  psprintf("the refresh token of connection \"%s\"", conn->name));
	explicit_bzero(form, strlen(form));
	if (!r->ok)
		return;

	tz_zoho_token(r->root, &token);
	tz_conn_store_access_token(conn, token.access_token, token.expires_in);
	remember_token(conn->id, conn->access_token, conn->access_token_expires_at);
}

/* Makes conn->access_token usable: the stored one, this backend's, or a new one. */
static void
ensure_token(TzApiResult *r, TzConnInfo *conn, bool force)
{
	CachedToken *mine = cached_token(conn->id, false);

	memset(r, 0, sizeof(*r));
	r->ok = true;
	if (!force && fresh(conn->access_token, conn->access_token_expires_at))
		return;
	if (!force && mine && fresh(mine->token, mine->expires_at))
	{
		conn->access_token = MemoryContextStrdup(GetMemoryChunkContext(conn), mine->token);
		conn->access_token_expires_at = mine->expires_at;
		return;
	}
	if (force && mine && conn->access_token && strcmp(mine->token, conn->access_token) != 0 &&
		fresh(mine->token, mine->expires_at))
	{
		/* another call of this backend refreshed already */
		conn->access_token = MemoryContextStrdup(GetMemoryChunkContext(conn), mine->token);
		conn->access_token_expires_at = mine->expires_at;
		return;
	}
	refresh_token(r, conn);
}

bool
tz_zoho_token_fresh(TzConnInfo *conn)
{
	CachedToken *mine = cached_token(conn->id, false);

	return fresh(conn->access_token, conn->access_token_expires_at) ||
		(mine && fresh(mine->token, mine->expires_at));
}

void
tz_zoho_ensure_token(TzApiResult *r, TzConnInfo *conn, bool force)
{
	ensure_token(r, conn, force);
}

char *
tz_zoho_books_url(const char *api_url, const char *path, const char *organization_id, const char *query)
{
	bool		with_org = organization_id != NULL && strcmp(path, "/organizations") != 0;

	return psprintf("%s/books/v3%s%s%s%s%s%s", api_url, path,
					(with_org || query) ? "?" : "",
					with_org ? "organization_id=" : "",
					with_org ? tz_url_escape(organization_id) : "",
					(with_org && query) ? "&" : "",
					query ? query : "");
}

void
tz_zoho_request_with_token(TzApiResult *r, const char *api_url, const char *token,
						   const char *method, const char *path, const char *query,
						   const char *body)
{
	TzHttpRequest req = {0};

	req.method = method;
	req.url = tz_zoho_books_url(api_url, path, NULL, query);
	req.authorization = psprintf("Zoho-oauthtoken %s", token);
	if (body)
	{
		req.content_type = "application/json";
		req.body = body;
		req.body_len = strlen(body);
	}
	perform(r, &req);
}

void
tz_zoho_prepare(TzApiResult *r, TzHttpRequest *req, TzConnInfo *conn, const char *method,
				const char *path, const char *query, const char *body, bool fresh_token)
{
	memset(req, 0, sizeof(*req));
	req->method = method;
	req->url = tz_zoho_books_url(conn->base_url, path, conn->organization_id, query);
	if (body)
	{
		req->content_type = "application/json";
		req->body = body;
		req->body_len = strlen(body);
	}
	ensure_token(r, conn, fresh_token);
	if (r->ok)
		req->authorization = psprintf("Zoho-oauthtoken %s", conn->access_token);
}

void
tz_zoho_unique_headers(TzHttpHeader *headers, const char *key, const char *value, bool upsert)
{
	headers[0] = (TzHttpHeader) {TZ_UPSERT_KEY_HEADER, key};
	headers[1] = (TzHttpHeader) {TZ_UPSERT_VALUE_HEADER, value};
	headers[2] = (TzHttpHeader) {upsert ? TZ_UPSERT_CREATE_HEADER : NULL, "true"};
}

void
tz_zoho_request(TzApiResult *r, TzConnInfo *conn, const char *method, const char *path,
				const char *query, const char *body)
{
	tz_zoho_request_headers(r, conn, method, path, query, body, NULL);
}

void
tz_zoho_request_headers(TzApiResult *r, TzConnInfo *conn, const char *method, const char *path,
						const char *query, const char *body, const TzHttpHeader *headers)
{
	TzHttpRequest req;
	TzHttpResponse resp;

	for (int attempt = 0; attempt < 2; attempt++)
	{
		tz_zoho_prepare(r, &req, conn, method, path, query, body, attempt > 0);
		if (!r->ok)
			return;
		for (int i = 0; headers && i < TZ_HTTP_MAX_HEADERS && headers[i].name; i++)
			req.headers[i] = headers[i];
		tz_admit_perform(conn, &req, &resp);
		tz_zoho_read_answer(r, &req, &resp);
		tz_admit_answered(conn, r);
		/* a 401 may mean the token was revoked or expired early: refresh once */
		if (r->ok || r->sqlstate != ERRCODE_TZ_REMOTE_AUTH || r->http_status != 401)
			return;
	}
}
