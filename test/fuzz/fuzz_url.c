/*
 * fuzz_url.c
 *	  libFuzzer target: the URL checks, fed arbitrary strings as base URLs and
 *	  request URLs.  A URL that passes must come out as http(s) with a host.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *url = malloc(size + 1);
	char		out[TZ_URL_MAX_LENGTH + 1];
	const char *detail;

	memcpy(url, data, size);
	url[size] = '\0';
	for (int allow_http = 0; allow_http <= 1; allow_http++)
	{
		if (tz_url_check(url, allow_http, out, &detail) == TZ_URL_OK &&
			strncmp(out, "https://", 8) != 0 && strncmp(out, "http://", 7) != 0)
			abort();
		(void) tz_url_check_request(url, allow_http);
	}
	(void) tz_host_is_loopback(url);
	free(url);
	return 0;
}
