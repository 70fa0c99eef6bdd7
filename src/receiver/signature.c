/*-------------------------------------------------------------------------
 *
 * signature.c
 *	  Webhook signatures and secrets (see signature.h).
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "signature.h"

bool
tz_sig_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	const unsigned char *x = a;
	const unsigned char *y = b;
	unsigned char diff = alen != blen;
	size_t		n = alen < blen ? alen : blen;

	for (size_t i = 0; i < n; i++)
		diff |= x[i] ^ y[i];
	return diff == 0;
}

static void
to_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++)
	{
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

bool
tz_sig_zoho_valid(const char *secret, const unsigned char *body, size_t len, const char *header)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	char		hex[2 * EVP_MAX_MD_SIZE + 1];
	char		lower[2 * EVP_MAX_MD_SIZE + 1];
	unsigned char b64[4 * EVP_MAX_MD_SIZE / 3 + 4];
	size_t		hlen;
	bool		ok;

	if (secret == NULL || secret[0] == '\0' || header == NULL)
		return false;
	hlen = strlen(header);
	if (hlen == 0 || hlen > 2 * EVP_MAX_MD_SIZE)
		return false;
	if (HMAC(EVP_sha256(), secret, (int) strlen(secret), body, len, mac, &maclen) == NULL)
		return false;
	to_hex(mac, maclen, hex);
	for (size_t i = 0; i <= hlen; i++)
		lower[i] = (char) tolower((unsigned char) header[i]);
	ok = tz_sig_equal(lower, hlen, hex, strlen(hex));
	EVP_EncodeBlock(b64, mac, (int) maclen);
	ok |= tz_sig_equal(header, hlen, b64, strlen((char *) b64));
	return ok;
}

bool
tz_sig_secret_valid(const char *secret, const char *header)
{
	if (secret == NULL || secret[0] == '\0' || header == NULL)
		return false;
	return tz_sig_equal(secret, strlen(secret), header, strlen(header));
}
