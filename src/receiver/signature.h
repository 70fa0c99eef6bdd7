/*-------------------------------------------------------------------------
 *
 * signature.h
 *	  How the webhook receiver tells a caller that may hand in events from
 *	  one that may not: Zoho Books' HMAC-SHA256 signature of the raw body,
 *	  and the shared secret of ours that Togai sends in a header.  Pure
 *	  functions: unit-tested alone.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_SIGNATURE_H
#define TZ_SIGNATURE_H

#include <stdbool.h>
#include <stddef.h>

/* Equal bytes, in a time that depends only on the lengths. */
extern bool tz_sig_equal(const void *a, size_t alen, const void *b, size_t blen);

/*
 * Whether header (X-Zoho-Webhook-Signature) is the HMAC-SHA256 of the raw
 * body under secret, as hex (either case) or base64.  Zoho documents the
 * scheme for its billing product and not for Books; the raw body is what
 * this checks.
 */
extern bool tz_sig_zoho_valid(const char *secret, const unsigned char *body, size_t len,
							  const char *header);

/* Whether header (X-Togai-Zoho-Secret) is the connection's secret. */
extern bool tz_sig_secret_valid(const char *secret, const char *header);

#endif							/* TZ_SIGNATURE_H */
