/*-------------------------------------------------------------------------
 *
 * togai.c
 *	  Togai client: Bearer-token calls, errors as {"message": "..."}.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_jansson.h"

#include "togai.h"
#include "admission.h"
#include "togai_zoho.h"

bool
tz_togai_prepare(TzApiResult *r, TzHttpRequest *req, TzConnInfo *conn, const char *method,
				 const char *path, const char *query, const char *body)
{
	memset(r, 0, sizeof(*r));
	memset(req, 0, sizeof(*req));
	if (conn->api_token == NULL)
	{
		r->sqlstate = ERRCODE_TZ_REMOTE_AUTH;
		r->message = psprintf("connection \"%s\" has no API token", conn->name);
		return false;
	}
	r->ok = true;
	req->method = method;
	req->url = psprintf("%s%s%s%s", conn->base_url, path, query ? "?" : "", query ? query : "");
	req->authorization = psprintf("Bearer %s", conn->api_token);
	if (body)
	{
		req->content_type = "application/json";
		req->body = body;
		req->body_len = strlen(body);
	}
	return true;
}

void
tz_togai_read_answer(TzApiResult *r, const TzHttpRequest *req, const TzHttpResponse *resp)
{
	const char *message;
	TzAnswerClass cls;

	memset(r, 0, sizeof(*r));
	if (resp->outcome != TZ_HTTP_ANSWERED)
	{
		tz_api_transport_failure(r, TZ_TOGAI_APP, req, resp);
		return;
	}
	r->root = tz_json_object(resp->body, resp->body_len);
	cls = tz_togai_classify(resp->status, r->root, &message);
	tz_api_from_answer(r, TZ_TOGAI_APP, req, resp, cls, message, -1);
}

void
tz_togai_request(TzApiResult *r, TzConnInfo *conn, const char *method, const char *path,
				 const char *query, const char *body)
{
	TzHttpRequest req;
	TzHttpResponse resp;

	if (!tz_togai_prepare(r, &req, conn, method, path, query, body))
		return;
	tz_admit_perform(conn, &req, &resp);
	tz_togai_read_answer(r, &req, &resp);
	tz_admit_answered(conn, r);
}
