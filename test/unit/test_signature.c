/*
 * test_signature.c
 *	  Unit tests of the webhook receiver's checks (src/receiver/signature.c):
 *	  Zoho Books' HMAC-SHA256 of the raw body in hex or base64, a wrong or
 *	  missing signature refused, Togai's shared secret compared whole.
 */
#include <stdio.h>
#include <string.h>

#include "signature.h"

static int	passed = 0;
static int	failed = 0;

#define CHECK(cond) \
	do { if (cond) passed++; else { failed++; printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } } while (0)

int
main(void)
{
	/* RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?" */
	const char *body = "what do ya want for nothing?";
	const char *hex = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
	const char *upper = "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843";
	const char *b64 = "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=";

	CHECK(tz_sig_zoho_valid("Jefe", (const unsigned char *) body, strlen(body), hex));
	CHECK(tz_sig_zoho_valid("Jefe", (const unsigned char *) body, strlen(body), upper));
	CHECK(tz_sig_zoho_valid("Jefe", (const unsigned char *) body, strlen(body), b64));
	CHECK(!tz_sig_zoho_valid("Jeff", (const unsigned char *) body, strlen(body), hex));
	CHECK(!tz_sig_zoho_valid("Jefe", (const unsigned char *) body, strlen(body) - 1, hex));
	CHECK(!tz_sig_zoho_valid("Jefe", (const unsigned char *) body, strlen(body), NULL));
	CHECK(!tz_sig_zoho_valid("Jefe", (const unsigned char *) body, strlen(body), ""));
	CHECK(!tz_sig_zoho_valid("", (const unsigned char *) body, strlen(body), hex));
	CHECK(!tz_sig_zoho_valid(NULL, (const unsigned char *) body, strlen(body), hex));
	/* a prefix of the right signature is not the signature */
	CHECK(!tz_sig_zoho_valid("Jefe", (const unsigned char *) body, strlen(body), "5bdcc146"));

	CHECK(tz_sig_secret_valid("s3cret-of-ours", "s3cret-of-ours"));
	CHECK(!tz_sig_secret_valid("s3cret-of-ours", "s3cret-of-our"));
	CHECK(!tz_sig_secret_valid("s3cret-of-ours", "s3cret-of-ours!"));
	CHECK(!tz_sig_secret_valid("s3cret-of-ours", NULL));
	CHECK(!tz_sig_secret_valid("", ""));

	CHECK(tz_sig_equal("abc", 3, "abc", 3));
	CHECK(!tz_sig_equal("abc", 3, "abd", 3));
	CHECK(!tz_sig_equal("abc", 3, "ab", 2));

	printf("signature: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
