/*-------------------------------------------------------------------------
 *
 * auth_sql.c
 *	  The Zoho side of add_zohobooks_connection(): data centre hosts, and the
 *	  grant-code exchange with the organizations the tokens reach.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_jansson.h"

#include "fmgr.h"

#include "sql_util.h"
#include "clients/zoho.h"

/* From url_sql.c: the URL check as a SQL function. */
extern Datum normalize_url(PG_FUNCTION_ARGS);

PG_FUNCTION_INFO_V1(zoho_region_urls);

/* zoho_region_urls(region text) returns jsonb: the data centre's hosts. */
Datum
zoho_region_urls(PG_FUNCTION_ARGS)
{
	char	   *region;
	const char *accounts;
	const char *api;
	StringInfoData out;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("region must not be null")));
	region = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (!tz_zoho_region(region, &accounts, &api))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown Zoho data centre \"%s\"", region),
				 errhint("Regions: %s; or pass accounts_url and api_url.", tz_zoho_region_list())));
	initStringInfo(&out);
	appendStringInfoChar(&out, '{');
	tz_put_json_text(&out, "accounts_url", accounts, false);
	tz_put_json_text(&out, "api_url", api, true);
	appendStringInfoChar(&out, '}');
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data)));
}

PG_FUNCTION_INFO_V1(zoho_authorize);

/*
 * zoho_authorize(accounts_url, api_url, default_api_url, client_id,
 *				  client_secret, code, refresh_token) returns jsonb
 *
 * Exchanges a grant code (or takes a refresh token) for tokens, then lists
 * the organizations they reach.  Returns the tokens: owner-only, called by
 * add_zohobooks_connection().
 */
Datum
zoho_authorize(PG_FUNCTION_ARGS)
{
	char	   *accounts_url = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *api_url = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *default_api = text_to_cstring(PG_GETARG_TEXT_PP(2));
	char	   *client_id = text_to_cstring(PG_GETARG_TEXT_PP(3));
	char	   *client_secret = text_to_cstring(PG_GETARG_TEXT_PP(4));
	char	   *code = PG_ARGISNULL(5) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(5));
	char	   *refresh = PG_ARGISNULL(6) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(6));
	char	   *form;
	TzApiResult r;
	TzApiResult orgs;
	TzZohoToken token;
	StringInfoData out;
	Jsonb	   *list;

	if (code)
		form = psprintf("grant_type=authorization_code&client_id=%s&client_secret=%s&code=%s",
						tz_url_escape(client_id), tz_url_escape(client_secret), tz_url_escape(code));
	else
		form = psprintf("grant_type=refresh_token&client_id=%s&client_secret=%s&refresh_token=%s",
						tz_url_escape(client_id), tz_url_escape(client_secret),
						tz_url_escape(refresh ? refresh : ""));
	tz_zoho_token_request(&r, accounts_url, form, code ? "the grant code" : "the refresh token");
	explicit_bzero(form, strlen(form));
	tz_api_raise(&r);
	tz_zoho_token(r.root, &token);

	/* An explicit api_url wins, then the domain Zoho names, then the region's. */
	if (api_url == NULL)
		api_url = token.api_domain ?
			TextDatumGetCString(DirectFunctionCall2(normalize_url,
													CStringGetTextDatum(token.api_domain),
													CStringGetTextDatum("api_domain"))) :
			default_api;

	tz_zoho_request_with_token(&orgs, api_url, token.access_token, "GET", "/organizations",
							   NULL, NULL);
	tz_api_raise(&orgs);
	list = tz_api_jsonb(&orgs, "organizations");

	initStringInfo(&out);
	appendStringInfoChar(&out, '{');
	tz_put_json_text(&out, "access_token", token.access_token, false);
	tz_put_json_text(&out, "refresh_token", token.refresh_token ? token.refresh_token : refresh, false);
	appendStringInfo(&out, "\"expires_in\": %ld, ", token.expires_in);
	tz_put_json_text(&out, "api_url", api_url, false);
	appendStringInfoString(&out, "\"organizations\": ");
	appendStringInfoString(&out, list ? JsonbToCString(NULL, &list->root, 0) : "[]");
	appendStringInfoChar(&out, '}');
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data)));
}
