/*-------------------------------------------------------------------------
 *
 * parse.c
 *	  Reading the remote APIs' answers: envelopes, error texts, tokens.
 *
 * Pure code: jansson only.  Every function copes with any input, since an
 * answer may be cut short, empty, or not JSON at all.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "parse.h"

json_t *
tz_json_object(const char *body, size_t len)
{
	json_error_t error;
	json_t	   *root;

	if (body == NULL || len == 0)
		return NULL;
	root = json_loadb(body, len, 0, &error);
	if (root != NULL && !json_is_object(root))
	{
		json_decref(root);
		return NULL;
	}
	return root;
}

const char *
tz_json_str(const json_t *obj, const char *key)
{
	json_t	   *v;

	if (obj == NULL || !json_is_object(obj))
		return NULL;
	v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The class an HTTP status gives, before looking at the body. */
static TzAnswerClass
classify_status(long status)
{
	if (status >= 200 && status < 300)
		return TZ_ANSWER_OK;
	if (status == 401)
		return TZ_ANSWER_AUTH;
	if (status == 403)
		return TZ_ANSWER_FORBIDDEN;
	if (status == 404)
		return TZ_ANSWER_NOT_FOUND;
	if (status == 429)
		return TZ_ANSWER_RATE_LIMITED;
	if (status >= 500)
		return TZ_ANSWER_SERVER_ERROR;
	if (status >= 400)
		return TZ_ANSWER_REJECTED;
	return TZ_ANSWER_MALFORMED; /* 1xx, 3xx: redirects are not followed */
}

TzAnswerClass
tz_zoho_classify(long http_status, const json_t *root, long *code, const char **message)
{
	TzAnswerClass cls = classify_status(http_status);
	json_t	   *c = root ? json_object_get(root, "code") : NULL;

	*code = json_is_integer(c) ? (long) json_integer_value(c) : -1;
	*message = tz_json_str(root, "message");

	if (cls == TZ_ANSWER_OK)
	{
		if (root == NULL || *code == -1)
			return TZ_ANSWER_MALFORMED;
		if (*code != 0)
			return TZ_ANSWER_REJECTED;	/* an error code under a 2xx status */
		return TZ_ANSWER_OK;
	}
	/* 57: not authorized for the operation, though the token is good */
	if (cls == TZ_ANSWER_AUTH && *code == 57)
		return TZ_ANSWER_FORBIDDEN;
	/* 1002: the record does not exist, whatever the status */
	if (*code == 1002)
		return TZ_ANSWER_NOT_FOUND;
	return cls;
}

TzAnswerClass
tz_togai_classify(long http_status, const json_t *root, const char **message)
{
	TzAnswerClass cls = classify_status(http_status);

	*message = tz_json_str(root, "message");
	if (cls == TZ_ANSWER_OK && root == NULL && http_status != 204)
		return TZ_ANSWER_MALFORMED;
	return cls;
}

bool
tz_zoho_token(const json_t *root, TzZohoToken *token)
{
	json_t	   *exp;

	memset(token, 0, sizeof(*token));
	if (root == NULL)
		return false;
	token->error = tz_json_str(root, "error");
	token->error_description = tz_json_str(root, "error_description");
	if (token->error != NULL)
		return true;

	token->access_token = tz_json_str(root, "access_token");
	token->refresh_token = tz_json_str(root, "refresh_token");
	token->api_domain = tz_json_str(root, "api_domain");
	/* any lifetime that is not a sane number of seconds counts as Zoho's usual hour */
	exp = json_object_get(root, "expires_in");
	token->expires_in = 3600;
	if (json_is_number(exp))
	{
		double		secs = json_number_value(exp);

		if (secs >= 1 && secs <= 86400.0 * 365)
			token->expires_in = (long) secs;
	}
	return token->access_token != NULL && token->access_token[0] != '\0';
}
