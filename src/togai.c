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
#include "togai_zoho.h"

void
tz_togai_request(TzApiResult *r, TzConnInfo *conn, const char *method, const char *path,
				 const char *query, const char *body)
{
	TzHttpRequest req = {0};
	TzHttpResponse resp;
	const char *message;
	TzAnswerClass cls;

	memset(r, 0, sizeof(*r));
	if (conn->api_token == NULL)
	{
		r->sqlstate = ERRCODE_TZ_REMOTE_AUTH;
		r->message = psprintf("connection \"%s\" has no API token", conn->name);
		return;
	}
	req.method = method;
	req.url = psprintf("%s%s%s%s", conn->base_url, path, query ? "?" : "", query ? query : "");
	req.authorization = psprintf("Bearer %s", conn->api_token);
	if (body)
	{
		req.content_type = "application/json";
		req.body = body;
		req.body_len = strlen(body);
	}

	tz_http_perform(&req, &resp);
	if (resp.outcome != TZ_HTTP_ANSWERED)
	{
		tz_api_transport_failure(r, TZ_TOGAI_APP, &req, &resp);
		return;
	}
	r->root = tz_json_object(resp.body, resp.body_len);
	cls = tz_togai_classify(resp.status, r->root, &message);
	tz_api_from_answer(r, TZ_TOGAI_APP, &req, &resp, cls, message, -1);
}
