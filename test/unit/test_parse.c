/*
 * test_parse.c
 *	  Unit tests of the answer parsers (src/parse.c), run without a server and
 *	  under valgrind by make test.
 */
#include <stdio.h>
#include <string.h>

#include "parse.h"

static int	passed = 0;
static int	failed = 0;

#define CHECK(cond) \
	do { if (cond) passed++; else { failed++; printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } } while (0)

static json_t *
obj(const char *text)
{
	return tz_json_object(text, text ? strlen(text) : 0);
}

static void
test_json_object(void)
{
	json_t	   *j;

	CHECK(obj(NULL) == NULL);
	CHECK(obj("") == NULL);
	CHECK(obj("[1,2]") == NULL);
	CHECK(obj("\"s\"") == NULL);
	CHECK(obj("{\"a\": ") == NULL);
	CHECK(obj("<html>502 Bad Gateway</html>") == NULL);
	j = obj("{\"a\": \"b\", \"n\": 1}");
	CHECK(j != NULL);
	CHECK(tz_json_str(j, "a") && strcmp(tz_json_str(j, "a"), "b") == 0);
	CHECK(tz_json_str(j, "n") == NULL);
	CHECK(tz_json_str(j, "missing") == NULL);
	CHECK(tz_json_str(NULL, "a") == NULL);
	json_decref(j);
}

static void
zoho(long status, const char *body, TzAnswerClass want, long want_code, const char *want_message)
{
	json_t	   *root = obj(body);
	long		code;
	const char *message;
	TzAnswerClass got = tz_zoho_classify(status, root, &code, &message);

	CHECK(got == want);
	CHECK(code == want_code);
	CHECK((want_message == NULL && message == NULL) ||
		  (want_message && message && strcmp(message, want_message) == 0));
	if (got != want)
		printf("  zoho %ld %s -> %d, want %d\n", status, body ? body : "(null)", got, want);
	json_decref(root);
}

static void
test_zoho_classify(void)
{
	zoho(201, "{\"code\":0,\"message\":\"The contact has been added.\",\"contact\":{}}",
		 TZ_ANSWER_OK, 0, "The contact has been added.");
	zoho(200, "{\"message\":\"no code\"}", TZ_ANSWER_MALFORMED, -1, "no code");
	zoho(200, "not json", TZ_ANSWER_MALFORMED, -1, NULL);
	zoho(200, "{\"code\":2,\"message\":\"Invalid value\"}", TZ_ANSWER_REJECTED, 2, "Invalid value");
	zoho(400, "{\"code\":3062,\"message\":\"The customer \\\"X\\\" already exists.\"}",
		 TZ_ANSWER_REJECTED, 3062, "The customer \"X\" already exists.");
	zoho(401, "{\"code\":14,\"message\":\"Invalid OAuth access token.\"}", TZ_ANSWER_AUTH, 14,
		 "Invalid OAuth access token.");
	zoho(401, "{\"code\":57,\"message\":\"You are not authorized to perform this operation\"}",
		 TZ_ANSWER_FORBIDDEN, 57, "You are not authorized to perform this operation");
	zoho(404, "{\"code\":1002,\"message\":\"Contact does not exist.\"}", TZ_ANSWER_NOT_FOUND, 1002,
		 "Contact does not exist.");
	zoho(400, "{\"code\":1002,\"message\":\"Invoice does not exist.\"}", TZ_ANSWER_NOT_FOUND, 1002,
		 "Invoice does not exist.");
	zoho(429, "{\"code\":44,\"message\":\"You have exceeded the maximum number of requests\"}",
		 TZ_ANSWER_RATE_LIMITED, 44, "You have exceeded the maximum number of requests");
	zoho(429, "", TZ_ANSWER_RATE_LIMITED, -1, NULL);
	zoho(500, "<html></html>", TZ_ANSWER_SERVER_ERROR, -1, NULL);
	zoho(503, NULL, TZ_ANSWER_SERVER_ERROR, -1, NULL);
	zoho(302, "", TZ_ANSWER_MALFORMED, -1, NULL);
	zoho(200, "{\"code\":\"0\"}", TZ_ANSWER_MALFORMED, -1, NULL);
}

static void
togai(long status, const char *body, TzAnswerClass want, const char *want_message)
{
	json_t	   *root = obj(body);
	const char *message;
	TzAnswerClass got = tz_togai_classify(status, root, &message);

	CHECK(got == want);
	CHECK((want_message == NULL && message == NULL) ||
		  (want_message && message && strcmp(message, want_message) == 0));
	json_decref(root);
}

static void
test_togai_classify(void)
{
	togai(200, "{\"data\":[],\"nextToken\":null}", TZ_ANSWER_OK, NULL);
	togai(204, "", TZ_ANSWER_OK, NULL);
	togai(200, "", TZ_ANSWER_MALFORMED, NULL);
	togai(400, "{\"message\":\"Invalid account id\"}", TZ_ANSWER_REJECTED, "Invalid account id");
	togai(401, "{\"message\":\"Unauthorized\"}", TZ_ANSWER_AUTH, "Unauthorized");
	togai(403, "{\"message\":\"Forbidden\"}", TZ_ANSWER_FORBIDDEN, "Forbidden");
	togai(404, "{\"message\":\"Account not found\"}", TZ_ANSWER_NOT_FOUND, "Account not found");
	togai(422, "{\"message\":\"bad\"}", TZ_ANSWER_REJECTED, "bad");
	togai(429, "{\"message\":\"Too many requests\"}", TZ_ANSWER_RATE_LIMITED, "Too many requests");
	togai(502, "Bad gateway", TZ_ANSWER_SERVER_ERROR, NULL);
}

static void
test_zoho_token(void)
{
	TzZohoToken t;
	json_t	   *root;

	root = obj("{\"access_token\":\"1000.a\",\"refresh_token\":\"1000.r\",\"api_domain\":\"https://www.zohoapis.eu\","
			   "\"token_type\":\"Bearer\",\"expires_in\":3600}");
	CHECK(tz_zoho_token(root, &t));
	CHECK(t.error == NULL);
	CHECK(strcmp(t.access_token, "1000.a") == 0);
	CHECK(strcmp(t.refresh_token, "1000.r") == 0);
	CHECK(strcmp(t.api_domain, "https://www.zohoapis.eu") == 0);
	CHECK(t.expires_in == 3600);
	json_decref(root);

	/* refresh answers carry no refresh token; expires_in may be absent */
	root = obj("{\"access_token\":\"1000.b\"}");
	CHECK(tz_zoho_token(root, &t));
	CHECK(t.refresh_token == NULL);
	CHECK(t.expires_in == 3600);
	json_decref(root);

	root = obj("{\"error\":\"invalid_code\"}");
	CHECK(tz_zoho_token(root, &t));
	CHECK(t.error && strcmp(t.error, "invalid_code") == 0);
	CHECK(t.access_token == NULL);
	json_decref(root);

	root = obj("{\"error\":\"Access Denied\",\"error_description\":\"You have made too many requests continuously.\"}");
	CHECK(tz_zoho_token(root, &t));
	CHECK(strstr(t.error_description, "too many requests") != NULL);
	json_decref(root);

	root = obj("{\"access_token\":\"\"}");
	CHECK(!tz_zoho_token(root, &t));
	json_decref(root);
	root = obj("{\"access_token\":5}");
	CHECK(!tz_zoho_token(root, &t));
	json_decref(root);
	root = obj("{\"access_token\":\"x\",\"expires_in\":2122222e19}");
	CHECK(tz_zoho_token(root, &t) && t.expires_in == 3600);	/* found by the fuzzer */
	json_decref(root);
	root = obj("{\"access_token\":\"x\",\"expires_in\":1799.5}");
	CHECK(tz_zoho_token(root, &t) && t.expires_in == 1799);
	json_decref(root);
	root = obj("{\"access_token\":\"x\",\"expires_in\":-5}");
	CHECK(tz_zoho_token(root, &t) && t.expires_in == 3600);
	json_decref(root);
	CHECK(!tz_zoho_token(NULL, &t));
}

int
main(void)
{
	test_json_object();
	test_zoho_classify();
	test_togai_classify();
	test_zoho_token();
	printf("parse: %d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
