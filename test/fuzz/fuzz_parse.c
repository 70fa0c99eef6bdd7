/*
 * fuzz_parse.c
 *	  libFuzzer target: every parser of remote answers, fed arbitrary bytes as
 *	  if an app (or something pretending to be one) had sent them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t	   *root = tz_json_object((const char *) data, size);
	long		code;
	const char *message;
	TzZohoToken token;
	static const long statuses[] = {200, 201, 204, 400, 401, 404, 429, 500};

	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
	{
		(void) tz_zoho_classify(statuses[i], root, &code, &message);
		if (message)
			(void) strlen(message);
		(void) tz_togai_classify(statuses[i], root, &message);
		if (message)
			(void) strlen(message);
	}
	if (tz_zoho_token(root, &token) && token.access_token)
		(void) strlen(token.access_token);
	(void) tz_json_str(root, "message");
	json_decref(root);
	return 0;
}
