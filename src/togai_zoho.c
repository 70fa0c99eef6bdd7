/*-------------------------------------------------------------------------
 *
 * togai_zoho.c
 *	  Module entry point: defines the togai_zoho.* settings.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "togai_zoho.h"

PG_MODULE_MAGIC;

bool		tz_allow_http = false;

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

	MarkGUCPrefixReserved("togai_zoho");
}
