/*-------------------------------------------------------------------------
 *
 * call_sql.c
 *	  zohobooks_call() and togai_call(): one client operation each, with the
 *	  stored credentials (owner-only; for tests, and for operators looking at
 *	  what an app holds).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_jansson.h"

#include "executor/spi.h"
#include "fmgr.h"

#include "conn.h"
#include "sql_util.h"
#include "togai.h"
#include "togai_zoho.h"
#include "zoho.h"

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
		i = tz_find_in_list(&r, "contacts", id, false);
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
		i = tz_find_in_list(&r, "invoices", NULL, true);
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
	else if (strcmp(op, "payments_since") == 0 || strcmp(op, "list_changed") == 0)
	{
		/* one page of a list, oldest change first, from "since" on */
		const char *list = strcmp(op, "payments_since") == 0 ? "customerpayments" :
			tz_json_str(a.json, "list");
		char	   *q;

		if (list == NULL || (strcmp(list, "customerpayments") != 0 &&
							 strcmp(list, "invoices") != 0 && strcmp(list, "contacts") != 0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("operation \"%s\" needs \"list\": customerpayments, invoices or contacts",
							op)));
		q = psprintf("%s%s%s", query_part(&a, "since", "last_modified_time"),
					 query_part(&a, "page", "page"),
					 "per_page=200&sort_column=last_modified_time&sort_order=A&");
		tz_zoho_request(&r, conn, "GET", psprintf("/%s", list), query_of(q), NULL);
		tz_api_raise(&r);
		out = tz_api_jsonb(&r, NULL);
	}
	else if (strcmp(op, "payment_create") == 0)
	{
		tz_zoho_request(&r, conn, "POST", "/customerpayments", NULL, arg_body(&a, "payment"));
		tz_api_raise(&r);
		out = tz_api_jsonb(&r, "payment");
	}
	else if (strcmp(op, "payment_get") == 0)
	{
		tz_zoho_request(&r, conn, "GET",
						psprintf("/customerpayments/%s", arg_id(&a, "payment_id")), NULL, NULL);
		tz_api_raise(&r);
		out = tz_api_jsonb(&r, "payment");
	}
	else
		unknown_operation(TZ_ZOHO_APP, op,
						  "organizations, currencies, contact_create, contact_update, contact_get, "
						  "contact_find, invoice_create, invoice_get, invoice_find, invoice_mark_sent, "
						  "invoice_void, payments_since, list_changed, payment_create, payment_get");

	result = tz_finish_jsonb(out, &isnull);
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
	else if (strcmp(op, "payments_list") == 0)
		tz_togai_request(&r, conn, "GET", "/payments", list_query, NULL);
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
						  "invoice_get, payments_list, payment_record, account_write_back");

	tz_api_raise(&r);
	result = tz_finish_jsonb(tz_api_jsonb(&r, NULL), &isnull);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}
