/*
 * test_url.c
 *	  Unit tests of the pure URL check (src/url.c), run without a server and
 *	  under valgrind by make test.
 */
#include <stdio.h>
#include <string.h>

#include "url.h"

static int	passed = 0;
static int	failed = 0;

static void
expect(const char *url, bool allow_http, TzUrlStatus want, const char *want_out)
{
	char		out[TZ_URL_MAX_LENGTH + 1] = "";
	const char *detail = NULL;
	TzUrlStatus got = tz_url_check(url, allow_http, out, &detail);

	if (got != want || (want == TZ_URL_OK && strcmp(out, want_out) != 0))
	{
		failed++;
		printf("FAIL %s (allow_http=%d): status %d, want %d; out \"%s\", want \"%s\"\n",
			   url ? url : "(null)", allow_http, got, want, out, want_out ? want_out : "");
	}
	else
		passed++;
}

static void
expect_loopback(const char *host, bool want)
{
	if (tz_host_is_loopback(host) != want)
	{
		failed++;
		printf("FAIL loopback(%s) != %d\n", host ? host : "(null)", want);
	}
	else
		passed++;
}

int
main(void)
{
	static char long_url[TZ_URL_MAX_LENGTH + 64];

	expect("https://api.togai.com", false, TZ_URL_OK, "https://api.togai.com");
	expect("https://api.togai.com/", false, TZ_URL_OK, "https://api.togai.com");
	expect("https://sandbox-api.togai.com//", false, TZ_URL_OK, "https://sandbox-api.togai.com");
	expect("https://www.zohoapis.eu/books", false, TZ_URL_OK, "https://www.zohoapis.eu/books");
	expect("HTTPS://api.togai.com:8443/v1/", false, TZ_URL_OK, "https://api.togai.com:8443/v1");
	expect("http://127.0.0.1:8080/", false, TZ_URL_OK, "http://127.0.0.1:8080");
	expect("http://localhost", false, TZ_URL_OK, "http://localhost");
	expect("http://[::1]:9/", false, TZ_URL_OK, "http://[::1]:9");
	expect("http://api.togai.com", false, TZ_URL_PLAIN_HTTP, NULL);
	expect("http://api.togai.com", true, TZ_URL_OK, "http://api.togai.com");
	expect("http://127.0.0.1.nip.example", false, TZ_URL_PLAIN_HTTP, NULL);
	expect(NULL, false, TZ_URL_EMPTY, NULL);
	expect("", false, TZ_URL_EMPTY, NULL);
	expect("api.togai.com", false, TZ_URL_MALFORMED, NULL);
	expect("ftp://api.togai.com", false, TZ_URL_BAD_SCHEME, NULL);
	expect("file:///etc/passwd", false, TZ_URL_BAD_SCHEME, NULL);
	expect("gopher://x", false, TZ_URL_BAD_SCHEME, NULL);
	expect("https://", false, TZ_URL_MALFORMED, NULL);
	expect("https://u:p@api.togai.com", false, TZ_URL_CREDENTIALS, NULL);
	expect("https://u@api.togai.com", false, TZ_URL_CREDENTIALS, NULL);
	expect("https://api.togai.com/?a=b", false, TZ_URL_QUERY, NULL);
	expect("https://api.togai.com/#x", false, TZ_URL_QUERY, NULL);
	expect("https://api.togai.com/a b", false, TZ_URL_MALFORMED, NULL);

	memset(long_url, 'a', sizeof(long_url) - 1);
	memcpy(long_url, "https://x/", 10);
	long_url[sizeof(long_url) - 1] = '\0';
	expect(long_url, false, TZ_URL_TOO_LONG, NULL);

	expect_loopback("127.0.0.1", true);
	expect_loopback("127.255.0.9", true);
	expect_loopback("LOCALHOST", true);
	expect_loopback("[::1]", true);
	expect_loopback("128.0.0.1", false);
	expect_loopback("127.0.0", false);
	expect_loopback("127.0.0.256", false);
	expect_loopback("127.0.0.1.evil", false);
	expect_loopback("localhost.evil", false);
	expect_loopback(NULL, false);

	printf("url: %d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
