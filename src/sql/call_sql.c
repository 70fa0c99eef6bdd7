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

#include "actions/finder.h"
#include "pure/action.h"
#include "clients/conn.h"
#include "clients/remote_ops.h"
#include "sql_util.h"
#include "clients/togai.h"
#include "clients/zoho.h"

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

/* A required string argument (tz_remote_path escapes it). */
static char *
arg_id(const Args *a, const char *key)
{
	const char *v = tz_json_str(a->json, key);

	if (v == NULL || v[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("operation \"%s\" needs the string argument \"%s\"", a->operation, key)));
	return pstrdup(v);
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

/* An argument as query text: a string as it is, an integer written out, else NULL. */
static const char *
arg_text(const Args *a, const char *key)
{
	json_t	   *v = key ? json_object_get(a->json, key) : NULL;

	if (json_is_string(v) && json_string_value(v)[0] != '\0')
		return json_string_value(v);
	if (json_is_integer(v))
		return psprintf("%lld", (long long) json_integer_value(v));
	if (json_is_true(v))
		return "true";
	return NULL;
}

/* The query of an operation from the call's arguments, the documented parameters only. */
static char *
args_query(const TzRemoteOp *op, const Args *a)
{
	const char *values[TZ_OP_MAX_QUERY] = {0};

	for (int i = 0; i < TZ_OP_MAX_QUERY && op->query[i].param; i++)
		values[i] = arg_text(a, op->query[i].arg);
	return tz_remote_query_values(op, values);
}

/* Runs one operation of the table with the call's arguments. */
static void
run_op(TzApiResult *r, TzConnInfo *conn, const TzRemoteOp *op, const Args *a, const char *id)
{
	char	   *path = tz_remote_path(op, op->id_arg ? (id ? id : arg_id(a, op->id_arg)) : NULL);
	char	   *query = args_query(op, a);
	char	   *body = op->body_arg ? arg_body(a, op->body_arg) : NULL;
	TzHttpHeader headers[TZ_HTTP_MAX_HEADERS] = {{0}};

	/* an upsert names its field and value; "upsert": true makes a missing object */
	if (op->unique)
	{
		char	   *key = arg_id(a, "unique_key");

		tz_zoho_unique_headers(headers, key, arg_id(a, "unique_value"),
							   json_is_true(json_object_get(a->json, "upsert")));
	}
	if (op->app == TZ_APP_ZOHOBOOKS)
		tz_zoho_request_headers(r, conn, op->method, path, query, body, headers);
	else
		tz_togai_request(r, conn, op->method, path, query, body);
	tz_api_raise(r);
}

static const TzRemoteOp *
op_of(TzApp app, const char *name)
{
	const TzRemoteOp *op = tz_remote_op(app, name);

	if (op == NULL)
		elog(ERROR, "togai_zoho: no remote operation %s", name);
	return op;
}

/*
 * Runs a finder's calls one by one (actions/finder.c, the worker's way);
 * true when found, *last then holding the answer that said so.
 */
static bool
run_finder(TzConnInfo *conn, TzFinder *f, TzApiResult *last)
{
	TzFound		found = TZ_FOUND_NEXT;

	while (found == TZ_FOUND_NEXT)
	{
		const TzRemoteOp *op = op_of(TZ_APP_ZOHOBOOKS, f->operation);

		tz_zoho_request(last, conn, op->method, tz_remote_path(op, f->id), f->query, NULL);
		tz_api_raise(last);
		found = tz_finder_answered(f, last->root);
	}
	return found == TZ_FOUND;
}

/* The account's contact, read whole: never by name. */
static Jsonb *
find_contact(TzConnInfo *conn, const Args *a)
{
	TzApiResult r;

	if (!run_finder(conn, tz_finder_start(TZ_FIND_CONTACT, arg_id(a, "togai_account_id"), NULL,
										  json_object_get(a->json, "options")), &r))
		return NULL;
	return tz_api_jsonb(&r, "contact");
}

/* The invoice of a reference number and customer, read whole. */
static Jsonb *
find_invoice(TzConnInfo *conn, const Args *a)
{
	TzApiResult r;
	TzFinder   *f = tz_finder_start(TZ_FIND_INVOICE, arg_id(a, "reference_number"),
									arg_id(a, "customer_id"), NULL);

	if (!run_finder(conn, f, &r))
		return NULL;
	run_op(&r, conn, op_of(TZ_APP_ZOHOBOOKS, "invoice_get"), a, f->found_id);
	return tz_api_jsonb(&r, "invoice");
}

/* One page of a list in the order its changes can be followed (see poll_zohobooks). */
static Jsonb *
list_changed(TzConnInfo *conn, const Args *a)
{
	const char *list = tz_json_str(a->json, "list");
	TzApiResult r;

	if (list != NULL && strcmp(list, "invoices") == 0)
		run_op(&r, conn, op_of(TZ_APP_ZOHOBOOKS, "invoices_changed"), a, NULL);
	else if (list != NULL && strcmp(list, "contacts") == 0)
		run_op(&r, conn, op_of(TZ_APP_ZOHOBOOKS, "contacts_by_change"), a, NULL);
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("operation \"list_changed\" needs \"list\": invoices or contacts"),
				 errdetail("Zoho Books documents no changed-since filter or change order for "
						   "customer payments."),
				 errhint("Payments are found through the invoices they pay: operation "
						 "\"invoice_payments\" with {\"invoice_id\"}.")));
	return tz_api_jsonb(&r, NULL);
}

/*
 * The start of both *_call functions: arguments checked, the connection
 * loaded (SPI stays connected until finish_jsonb).
 */
static TzConnInfo *
begin_call(FunctionCallInfo fcinfo, TzApp app, char **op, Args *a)
{
	char	   *conn_name;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("connection and operation must not be null")));
	conn_name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	*op = text_to_cstring(PG_GETARG_TEXT_PP(1));
	*a = read_args(fcinfo, 2, *op);
	SPI_connect();
	return tz_conn_load(conn_name, app);
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
	char	   *name;
	Args		a;
	TzConnInfo *conn = begin_call(fcinfo, TZ_APP_ZOHOBOOKS, &name, &a);
	const TzRemoteOp *op = tz_remote_op(TZ_APP_ZOHOBOOKS, name);
	Jsonb	   *out;
	bool		isnull;
	Datum		result;

	if (strcmp(name, "contact_find") == 0)
		out = find_contact(conn, &a);
	else if (strcmp(name, "invoice_find") == 0)
		out = find_invoice(conn, &a);
	else if (strcmp(name, "list_changed") == 0)
		out = list_changed(conn, &a);
	else if (op != NULL)
	{
		TzApiResult r;

		run_op(&r, conn, op, &a, NULL);
		out = tz_api_jsonb(&r, op->member);
	}
	else
	{
		unknown_operation(TZ_ZOHO_APP, name,
						  psprintf("%s, contact_find, invoice_find, list_changed",
								   tz_remote_op_names(TZ_APP_ZOHOBOOKS)));
		out = NULL;
	}
	result = tz_finish_jsonb(out, &isnull);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}

PG_FUNCTION_INFO_V1(togai_call);

/* togai_call(connection text, operation text, args jsonb) returns jsonb */
Datum
togai_call(PG_FUNCTION_ARGS)
{
	char	   *name;
	Args		a;
	TzConnInfo *conn = begin_call(fcinfo, TZ_APP_TOGAI, &name, &a);
	const TzRemoteOp *op = tz_remote_op(TZ_APP_TOGAI, name);
	TzApiResult r;
	bool		isnull;
	Datum		result;

	if (strcmp(name, "account_write_back") == 0)
	{
		const char *key = tz_json_str(a.json, "metadata_key");
		const char *contact = tz_json_str(a.json, "zohobooks_contact_id");
		json_t	   *body;

		if (contact == NULL || contact[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("operation \"%s\" needs the string argument \"%s\"", name,
							"zohobooks_contact_id")));
		/* metadata replaces the whole map: read, merge, write (as the action does) */
		run_op(&r, conn, op_of(TZ_APP_TOGAI, "account_get"), &a, NULL);
		body = tz_write_back_body(r.root, key ? key : "zohobooks_contact_id", contact);
		if (body != NULL)
		{
			tz_togai_request(&r, conn, "PATCH",
							 tz_remote_path(op_of(TZ_APP_TOGAI, "account_update"),
											tz_json_str(a.json, "account_id")),
							 NULL, json_dumps(body, JSON_COMPACT));
			tz_api_raise(&r);
		}
	}
	else if (op != NULL)
		run_op(&r, conn, op, &a, NULL);
	else
		unknown_operation(TZ_TOGAI_APP, name,
						  psprintf("%s, account_write_back", tz_remote_op_names(TZ_APP_TOGAI)));

	result = tz_finish_jsonb(tz_api_jsonb(&r, op ? op->member : NULL), &isnull);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}
