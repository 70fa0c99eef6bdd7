/*-------------------------------------------------------------------------
 *
 * togai_zoho.c
 *	  Module entry point: defines the togai_zoho.* settings.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_jansson.h"

#include "fmgr.h"
#include "utils/guc.h"

#include <limits.h>

#include "api.h"
#include "togai_zoho.h"

PG_MODULE_MAGIC;

bool		tz_allow_http = false;
char	   *tz_ca_bundle = NULL;
int			tz_request_timeout_ms = 30000;
int			tz_connect_timeout_ms = 10000;
int			tz_max_response_bytes = 8 * 1024 * 1024;

void		_PG_init(void);

/*
 * Module load: settings are defined whether the library is preloaded or
 * loaded on first use, so SHOW and SET work either way.
 */
void
_PG_init(void)
{
	DefineCustomBoolVariable("togai_zoho.allow_http",
							 "Allows plain http:// API URLs to hosts other than loopback.",
							 "Off by default: credentials and billing data must travel over TLS. "
							 "Only a superuser may turn it on.",
							 &tz_allow_http,
							 false,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("togai_zoho.ca_bundle",
							   "PEM file of certificate authorities to trust for the APIs.",
							   "Empty means the system's trust store. Set it for a private CA or a "
							   "TLS-intercepting proxy; verification itself can never be turned off.",
							   &tz_ca_bundle,
							   "",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("togai_zoho.request_timeout_ms",
							"Longest time one API request may take, connection included.",
							NULL,
							&tz_request_timeout_ms,
							30000, 100, 600000,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("togai_zoho.connect_timeout_ms",
							"Longest time to establish a connection to an API.",
							NULL,
							&tz_connect_timeout_ms,
							10000, 100, 600000,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("togai_zoho.max_response_bytes",
							"Largest API answer accepted; a larger one fails the request.",
							NULL,
							&tz_max_response_bytes,
							8 * 1024 * 1024, 1024, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("togai_zoho");

	/* jansson objects live in memory contexts, so errors cannot leak them */
	tz_json_use_palloc();
}
