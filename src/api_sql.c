/*-------------------------------------------------------------------------
 *
 * api_sql.c
 *	  SQL functions that talk to the apps: check_connection(), the Zoho
 *	  authorization behind add_zohobooks_connection(), and the owner-only
 *	  zohobooks_call() / togai_call(), which run one client operation each
 *	  (for tests, and for operators looking at what a remote holds).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_jansson.h"

#include <ctype.h>

#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/jsonb.h"
#include "utils/json.h"
#include "funcapi.h"
#include "miscadmin.h"

#include "api.h"
#include "conn.h"
#include "togai.h"
#include "togai_zoho.h"
#include "zoho.h"

/* From url_sql.c: the URL check as a SQL function. */
extern Datum normalize_url(PG_FUNCTION_ARGS);

/* args as parsed jansson (for ids and flags) and as jsonb (for exact bodies). */
typedef struct Args
{
	json_t	   *json;
	Datum		jsonb;
	const char *operation;
} Args;

static Args
read_args(FunctionCallInfo fcinfo, int argno, const char *operation)
{
	Args		a;
	char	   *text;

	a.operation = operation;
	a.jsonb = PG_ARGISNULL(argno) ?
		DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")) : PG_GETARG_DATUM(argno);
	text = JsonbToCString(NULL, &DatumGetJsonbP(a.jsonb)->root, 0);
	a.json = tz_json_object(text, strlen(text));
	if (a.json == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("args of operation \"%s\" must be a JSON object", operation)));
	return a;
}

/* A required string argument, escaped for a URL. */
static char *
arg_id(const Args *a, const char *key)
{
	const char *v = tz_json_str(a->json, key);

	if (v == NULL || v[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("operation \"%s\" needs the string argument \"%s\"", a->operation, key)));
	return tz_url_escape(v);
}

/* An optional string argument as "key=value&" for a query, or "". */
static char *
query_part(const Args *a, const char *arg, const char *param)
{
	json_t	   *v = json_object_get(a->json, arg);

	if (json_is_string(v) && json_string_value(v)[0] != '\0')
		return psprintf("%s=%s&", param, tz_url_escape(json_string_value(v)));
	if (json_is_integer(v))
		return psprintf("%s=%lld&", param, (long long) json_integer_value(v));
	return "";
}

/* Joins query parts, dropping the trailing '&'; NULL when empty. */
static char *
query_of(const char *parts)
{
	size_t		len = strlen(parts);

	return len == 0 ? NULL : pnstrdup(parts, len - 1);
}

/* A required object argument as exact JSON text. */
static char *
arg_body(const Args *a, const char *key)
{
	json_t	   *v = json_object_get(a->json, key);

	if (!json_is_object(v))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("operation \"%s\" needs the object argument \"%s\"", a->operation, key)));
	return JsonbToCString(NULL,
						  &DatumGetJsonbP(DirectFunctionCall2(jsonb_object_field, a->jsonb,
															  CStringGetTextDatum(key)))->root, 0);
}

/* Whether c may be part of an id (letters, digits, '.', '_', '-'). */
static bool
id_char(char c)
{
	return c != '\0' && (isalnum((unsigned char) c) || strchr("._-", c) != NULL);
}

/* Whether needle stands in haystack as a whole word (ids never abut id characters). */
static bool
contains_word(const char *haystack, const char *needle)
{
	size_t		n = strlen(needle);

	if (n == 0)
		return false;
	for (const char *p = strstr(haystack, needle); p; p = strstr(p + 1, needle))
	{
		char		before = p == haystack ? ' ' : p[-1];
		char		after = p[n];

		if (!id_char(before) && !id_char(after))
			return true;
	}
	return false;
}

/* Whether some string inside v is s (or, unless exact, holds s as a word). */
static bool
json_mentions(json_t *v, const char *s, bool exact, int depth)
{
	const char *key;
	json_t	   *item;
	size_t		i;

	if (depth > 8)
		return false;
	if (json_is_string(v))
		return strcmp(json_string_value(v), s) == 0 ||
			(!exact && contains_word(json_string_value(v), s));
	if (json_is_object(v))
		json_object_foreach(v, key, item)
			if (json_mentions(item, s, exact, depth + 1))
			return true;
	if (json_is_array(v))
		json_array_foreach(v, i, item)
			if (json_mentions(item, s, exact, depth + 1))
			return true;
	return false;
}

/* The index of the first element of list[member] mentioning s (any, for NULL), or -1. */
static int
find_in_list(const TzApiResult *r, const char *member, const char *s, bool exact)
{
	json_t	   *list = r->root ? json_object_get(r->root, member) : NULL;
	json_t	   *item;
	size_t		i;

	if (!json_is_array(list))
		return -1;
	json_array_foreach(list, i, item)
		if (s == NULL || json_mentions(item, s, exact, 0))
		return (int) i;
	return -1;
}

static Datum
list_element(const TzApiResult *r, const char *member, int index)
{
	Jsonb	   *list = tz_api_jsonb(r, member);

	return DirectFunctionCall2(jsonb_array_element, JsonbPGetDatum(list), Int32GetDatum(index));
}

/*
 * The start of both *_call functions: arguments checked, the connection
 * loaded (SPI stays connected until finish_jsonb).
 */
static TzConnInfo *
begin_call(FunctionCallInfo fcinfo, TzApp app, char **op, Args *a)
{
	char	   *name;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("connection and operation must not be null")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	*op = text_to_cstring(PG_GETARG_TEXT_PP(1));
	*a = read_args(fcinfo, 2, *op);
	SPI_connect();
	return tz_conn_load(name, app);
}

/* Copies a jsonb out of SPI's memory and disconnects. */
static Datum
finish_jsonb(Jsonb *value, bool *isnull)
{
	Datum		d = (Datum) 0;

	*isnull = (value == NULL);
	if (value)
		d = SPI_datumTransfer(JsonbPGetDatum(value), false, -1);
	SPI_finish();
	return d;
}

static void
unknown_operation(const char *app, const char *operation, const char *known)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("%s has no operation \"%s\"", app, operation),
			 errhint("Operations: %s.", known)));
}

PG_FUNCTION_INFO_V1(zohobooks_call);

/* zohobooks_call(connection text, operation text, args jsonb) returns jsonb */
Datum
zohobooks_call(PG_FUNCTION_ARGS)
{
	char	   *op;
	Args		a;
	TzConnInfo *conn = begin_call(fcinfo, TZ_APP_ZOHOBOOKS, &op, &a);
	TzApiResult r;
	Jsonb	   *out = NULL;
	bool		isnull;
	Datum		result;

	if (strcmp(op, "organizations") == 0)
	{
		tz_zoho_request(&r, conn, "GET", "/organizations", NULL, NULL);
		tz_api_raise(&r);
		out = tz_api_jsonb(&r, "organizations");
	}
	else if (strcmp(op, "currencies") == 0)
	{
		tz_zoho_request(&r, conn, "GET", "/settings/currencies", NULL, NULL);
		tz_api_raise(&r);
		out = tz_api_jsonb(&r, "currencies");
	}
	else if (strcmp(op, "contact_create") == 0)
	{
		tz_zoho_request(&r, conn, "POST", "/contacts", NULL, arg_body(&a, "contact"));
		tz_api_raise(&r);
		out = tz_api_jsonb(&r, "contact");
	}
	else if (strcmp(op, "contact_update") == 0)
	{
		tz_zoho_request(&r, conn, "PUT", psprintf("/contacts/%s", arg_id(&a, "contact_id")),
						NULL, arg_body(&a, "contact"));
		tz_api_raise(&r);
		out = tz_api_jsonb(&r, "contact");
	}
	else if (strcmp(op, "contact_get") == 0)
	{
		tz_zoho_request(&r, conn, "GET", psprintf("/contacts/%s", arg_id(&a, "contact_id")),
						NULL, NULL);
		tz_api_raise(&r);
		out = tz_api_jsonb(&r, "contact");
	}
	else if (strcmp(op, "contact_find") == 0)
	{
		const char *id = tz_json_str(a.json, "togai_account_id");
		int			i;

		tz_zoho_request(&r, conn, "GET", "/contacts",
						psprintf("search_text=%s", arg_id(&a, "togai_account_id")), NULL);
		tz_api_raise(&r);
		i = find_in_list(&r, "contacts", id, false);
		out = i < 0 ? NULL : DatumGetJsonbP(list_element(&r, "contacts", i));
	}
	else if (strcmp(op, "invoice_create") == 0)
	{
		json_t	   *ign = json_object_get(a.json, "ignore_auto_number_generation");

		tz_zoho_request(&r, conn, "POST", "/invoices",
						json_is_true(ign) ? "ignore_auto_number_generation=true" : NULL,
						arg_body(&a, "invoice"));
		tz_api_raise(&r);
		out = tz_api_jsonb(&r, "invoice");
	}
	else if (strcmp(op, "invoice_get") == 0)
	{
		tz_zoho_request(&r, conn, "GET", psprintf("/invoices/%s", arg_id(&a, "invoice_id")),
						NULL, NULL);
		tz_api_raise(&r);
		out = tz_api_jsonb(&r, "invoice");
	}
	else if (strcmp(op, "invoice_find") == 0)
	{
		int			i;

		tz_zoho_request(&r, conn, "GET", "/invoices",
						psprintf("reference_number=%s", arg_id(&a, "reference_number")), NULL);
		tz_api_raise(&r);
		i = find_in_list(&r, "invoices", NULL, true);
		out = i < 0 ? NULL : DatumGetJsonbP(list_element(&r, "invoices", i));
	}
	else if (strcmp(op, "invoice_mark_sent") == 0 || strcmp(op, "invoice_void") == 0)
	{
		tz_zoho_request(&r, conn, "POST",
						psprintf("/invoices/%s/status/%s", arg_id(&a, "invoice_id"),
								 strcmp(op, "invoice_void") == 0 ? "void" : "sent"),
						NULL, NULL);
		tz_api_raise(&r);
		out = tz_api_jsonb(&r, NULL);
	}
	else if (strcmp(op, "payments_since") == 0)
	{
		char	   *q = psprintf("%s%s%s", query_part(&a, "since", "last_modified_time"),
								 query_part(&a, "page", "page"), "per_page=200&");

		tz_zoho_request(&r, conn, "GET", "/customerpayments", query_of(q), NULL);
		tz_api_raise(&r);
		out = tz_api_jsonb(&r, NULL);
	}
	else
		unknown_operation(TZ_ZOHO_APP, op,
						  "organizations, currencies, contact_create, contact_update, contact_get, "
						  "contact_find, invoice_create, invoice_get, invoice_find, invoice_mark_sent, "
						  "invoice_void, payments_since");

	result = finish_jsonb(out, &isnull);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}

/* The account's metadata with key set to value, as a PATCH body (exact, via jsonb). */
static char *
write_back_body(const TzApiResult *account, const char *key, const char *value)
{
	Oid			types[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3] = {CStringGetTextDatum(account->body), CStringGetTextDatum(key),
	CStringGetTextDatum(value)};

	if (SPI_execute_with_args("SELECT pg_catalog.jsonb_build_object('metadata', "
							  "coalesce(CASE WHEN pg_catalog.jsonb_typeof($1::jsonb -> 'metadata') = 'object' "
							  "THEN $1::jsonb -> 'metadata' END, '{}') || "
							  "pg_catalog.jsonb_build_object($2, $3))::text",
							  3, types, values, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "togai_zoho: could not build the account metadata");
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

PG_FUNCTION_INFO_V1(togai_call);

/* togai_call(connection text, operation text, args jsonb) returns jsonb */
Datum
togai_call(PG_FUNCTION_ARGS)
{
	char	   *op;
	Args		a;
	TzConnInfo *conn = begin_call(fcinfo, TZ_APP_TOGAI, &op, &a);
	TzApiResult r;
	char	   *list_query = query_of(psprintf("%s%s", query_part(&a, "next_token", "nextToken"),
											   query_part(&a, "page_size", "pageSize")));
	bool		isnull;
	Datum		result;

	if (strcmp(op, "accounts_list") == 0)
		tz_togai_request(&r, conn, "GET", "/accounts", list_query, NULL);
	else if (strcmp(op, "account_get") == 0)
		tz_togai_request(&r, conn, "GET", psprintf("/accounts/%s", arg_id(&a, "account_id")),
						 NULL, NULL);
	else if (strcmp(op, "customers_list") == 0)
		tz_togai_request(&r, conn, "GET", "/customers", list_query, NULL);
	else if (strcmp(op, "customer_get") == 0)
		tz_togai_request(&r, conn, "GET", psprintf("/customers/%s", arg_id(&a, "customer_id")),
						 NULL, NULL);
	else if (strcmp(op, "invoices_list") == 0)
		tz_togai_request(&r, conn, "GET", "/invoices",
						 query_of(psprintf("%s%s%s%s%s%s%s",
										   query_part(&a, "next_token", "nextToken"),
										   query_part(&a, "page_size", "pageSize"),
										   query_part(&a, "status", "status"),
										   query_part(&a, "owner_id", "owner_id"),
										   query_part(&a, "customer_id", "customer_id"),
										   query_part(&a, "start_time", "start_time"),
										   query_part(&a, "end_time", "end_time"))),
						 NULL);
	else if (strcmp(op, "invoice_get") == 0)
		tz_togai_request(&r, conn, "GET", psprintf("/invoices/%s", arg_id(&a, "invoice_id")),
						 NULL, NULL);
	else if (strcmp(op, "payment_record") == 0)
		tz_togai_request(&r, conn, "POST", "/payments", NULL, arg_body(&a, "payment"));
	else if (strcmp(op, "account_write_back") == 0)
	{
		char	   *path = psprintf("/accounts/%s", arg_id(&a, "account_id"));
		const char *key = tz_json_str(a.json, "metadata_key");
		const char *contact = tz_json_str(a.json, "zohobooks_contact_id");

		if (contact == NULL || contact[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("operation \"%s\" needs the string argument \"%s\"", op,
							"zohobooks_contact_id")));
		/* metadata replaces the whole map: read, merge, write */
		tz_togai_request(&r, conn, "GET", path, NULL, NULL);
		tz_api_raise(&r);
		tz_togai_request(&r, conn, "PATCH", path, NULL,
						 write_back_body(&r, key ? key : "zohobooks_contact_id", contact));
	}
	else
		unknown_operation(TZ_TOGAI_APP, op,
						  "accounts_list, account_get, customers_list, customer_get, invoices_list, "
						  "invoice_get, payment_record, account_write_back");

	tz_api_raise(&r);
	result = finish_jsonb(tz_api_jsonb(&r, NULL), &isnull);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}

/* Appends "key": value-as-JSON-string (or null). */
static void
put_text(StringInfo out, const char *key, const char *value, bool last)
{
	escape_json(out, key);
	appendStringInfoString(out, ": ");
	if (value)
		escape_json(out, value);
	else
		appendStringInfoString(out, "null");
	if (!last)
		appendStringInfoString(out, ", ");
}

/* The cheap call that checks a connection: what it asks, of which app. */
static const char *
check_call(TzConnInfo *conn, const char **path, const char **query)
{
	if (conn->app == TZ_APP_ZOHOBOOKS)
	{
		*path = "/organizations";
		*query = NULL;
		return "GET /books/v3/organizations";
	}
	*path = "/accounts";
	*query = "pageSize=1";
	return "GET /accounts?pageSize=1";
}

/* The outcome of a check as jsonb: what was asked, ok or what is wrong. */
static Jsonb *
check_result(TzConnInfo *conn, const char *checked, TzApiResult *r)
{
	StringInfoData out;

	if (r->ok && conn->app == TZ_APP_ZOHOBOOKS &&
		find_in_list(r, "organizations", conn->organization_id, true) < 0)
	{
		r->ok = false;
		r->sqlstate = ERRCODE_TZ_REMOTE_FORBIDDEN;
		r->message = psprintf("organization %s is not among those the token reaches",
							  conn->organization_id ? conn->organization_id : "(none)");
	}

	initStringInfo(&out);
	appendStringInfoChar(&out, '{');
	put_text(&out, "connection", conn->name, false);
	put_text(&out, "app", conn->app == TZ_APP_TOGAI ? "togai" : "zohobooks", false);
	put_text(&out, "checked", checked, false);
	appendStringInfo(&out, "\"ok\": %s, ", r->ok ? "true" : "false");
	if (r->http_status > 0)
		appendStringInfo(&out, "\"http_status\": %ld, ", r->http_status);
	else
		appendStringInfoString(&out, "\"http_status\": null, ");
	if (!r->ok)
	{
		char		code[6];

		memcpy(code, unpack_sql_state(r->sqlstate), 6);
		put_text(&out, "sqlstate", code, false);
		put_text(&out, "detail", r->detail, false);
		put_text(&out, "hint", r->hint, false);
	}
	put_text(&out, "error", r->ok ? NULL : r->message, true);
	appendStringInfoChar(&out, '}');
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data)));
}

PG_FUNCTION_INFO_V1(check_connection);

/*
 * check_connection(name text) returns jsonb
 *
 * One cheap live call; remote failures are reported, not raised.
 */
Datum
check_connection(PG_FUNCTION_ARGS)
{
	TzConnInfo *conn;
	TzApiResult r;
	const char *path;
	const char *query;
	const char *checked;
	bool		isnull;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("connection name must not be null")));
	SPI_connect();
	conn = tz_conn_load(text_to_cstring(PG_GETARG_TEXT_PP(0)), -1);
	checked = check_call(conn, &path, &query);
	if (conn->app == TZ_APP_ZOHOBOOKS)
		tz_zoho_request(&r, conn, "GET", path, query, NULL);
	else
		tz_togai_request(&r, conn, "GET", path, query, NULL);
	PG_RETURN_DATUM(finish_jsonb(check_result(conn, checked, &r), &isnull));
}

/* One connection being checked by check_connections(). */
typedef struct Check
{
	TzConnInfo *conn;
	const char *checked;
	TzHttpRequest req;
	TzApiResult result;
	bool		started;
} Check;

/* Runs the checks' requests at once through one multi handle. */
static void
run_checks(Check *checks, int n)
{
	TzHttpMulti *multi = tz_http_multi_create();
	int			pending = 0;

	PG_TRY();
	{
		for (int i = 0; i < n; i++)
			if (checks[i].started)
			{
				tz_http_multi_add(multi, &checks[i].req, &checks[i]);
				pending++;
			}
		while (pending > 0)
		{
			Check	   *c;
			TzHttpResponse resp;

			while (tz_http_multi_next_done(multi, (void **) &c, &resp))
			{
				if (c->conn->app == TZ_APP_ZOHOBOOKS)
					tz_zoho_read_answer(&c->result, &c->req, &resp);
				else
					tz_togai_read_answer(&c->result, &c->req, &resp);
				pending--;
			}
			if (pending > 0)
			{
				tz_http_multi_wait(multi, 100);
				CHECK_FOR_INTERRUPTS();
			}
		}
	}
	PG_CATCH();
	{
		tz_http_multi_destroy(multi);
		PG_RE_THROW();
	}
	PG_END_TRY();
	tz_http_multi_destroy(multi);
}

PG_FUNCTION_INFO_V1(check_connections);

/*
 * check_connections() returns setof jsonb
 *
 * check_connection() for every connection, the calls made at once.
 */
Datum
check_connections(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	List	   *names;
	Check	   *checks;
	int			n;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC | MAT_SRF_BLESS);
	SPI_connect();
	names = tz_conn_names();
	n = list_length(names);
	checks = palloc0(sizeof(Check) * Max(n, 1));
	foreach(lc, names)
	{
		Check	   *c = &checks[foreach_current_index(lc)];
		const char *path;
		const char *query;

		c->conn = tz_conn_load(lfirst(lc), -1);
		c->checked = check_call(c->conn, &path, &query);
		/* tokens first, one at a time: a refresh may need a lock and a write */
		if (c->conn->app == TZ_APP_ZOHOBOOKS)
		{
			tz_zoho_prepare(&c->result, &c->req, c->conn, "GET", path, query, NULL, false);
			c->started = c->result.ok;
		}
		else
			c->started = tz_togai_prepare(&c->result, &c->req, c->conn, "GET", path, query, NULL);
	}
	run_checks(checks, n);

	for (int i = 0; i < n; i++)
	{
		Datum		value = JsonbPGetDatum(check_result(checks[i].conn, checks[i].checked,
													  &checks[i].result));
		bool		isnull = false;

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
	}
	SPI_finish();
	return (Datum) 0;
}

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
	put_text(&out, "accounts_url", accounts, false);
	put_text(&out, "api_url", api, true);
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
	put_text(&out, "access_token", token.access_token, false);
	put_text(&out, "refresh_token", token.refresh_token ? token.refresh_token : refresh, false);
	appendStringInfo(&out, "\"expires_in\": %ld, ", token.expires_in);
	put_text(&out, "api_url", api_url, false);
	appendStringInfoString(&out, "\"organizations\": ");
	appendStringInfoString(&out, list ? JsonbToCString(NULL, &list->root, 0) : "[]");
	appendStringInfoChar(&out, '}');
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data)));
}
