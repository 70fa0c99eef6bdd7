/*-------------------------------------------------------------------------
 *
 * upsert_sql.c
 *	  zohobooks_unique_field_probe(): whether Zoho Books finds objects of a
 *	  module by a custom field, which set_zohobooks_unique_field() asks
 *	  before creates use it (sql/install/unique_fields.sql).
 *
 * Zoho documents no call that lists custom fields or says which are
 * unique, so the probe asks the upsert itself: the field's key and a value
 * nobody holds, without X-Upsert, so nothing can be made or changed.  A
 * unique field answers that no object holds the value; any other field is
 * refused.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_jansson.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "clients/conn.h"
#include "clients/remote_ops.h"
#include "sql_util.h"
#include "pure/upsert.h"
#include "clients/zoho.h"

PG_FUNCTION_INFO_V1(zohobooks_unique_field_probe);

/*
 * zohobooks_unique_field_probe(connection text, entity text, api_name text)
 * returns jsonb: {"usable", "http_status", "code", "message", "probe_value"}
 *
 * Raises what keeps the question from being asked (no answer, credentials,
 * limits, a server error); reports what Zoho answered to it.
 */
Datum
zohobooks_unique_field_probe(PG_FUNCTION_ARGS)
{
	TzConnInfo *conn;
	const TzRemoteOp *op;
	TzHttpHeader headers[TZ_HTTP_MAX_HEADERS] = {{0}};
	TzApiResult r;
	uint8		random[8];
	char		value[64];
	json_t	   *code;
	StringInfoData out;
	bool		usable;
	bool		isnull;

	for (int i = 0; i < 3; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("zohobooks_unique_field_probe() takes no null argument")));
	op = tz_remote_op(TZ_APP_ZOHOBOOKS, psprintf("%s_upsert", text_to_cstring(PG_GETARG_TEXT_PP(1))));
	if (op == NULL || !op->unique)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("Zoho Books has no upsert for \"%s\"", text_to_cstring(PG_GETARG_TEXT_PP(1))),
				 errhint("The entities are contact, invoice, payment and credit_note.")));
	if (!pg_strong_random(random, sizeof(random)))
		elog(ERROR, "togai_zoho: could not generate a random probe value");
	snprintf(value, sizeof(value), "togai_zoho probe %02x%02x%02x%02x%02x%02x%02x%02x",
			 random[0], random[1], random[2], random[3], random[4], random[5], random[6], random[7]);

	SPI_connect();
	conn = tz_conn_load(text_to_cstring(PG_GETARG_TEXT_PP(0)), TZ_APP_ZOHOBOOKS);
	tz_zoho_unique_headers(headers, text_to_cstring(PG_GETARG_TEXT_PP(2)), value, false);
	tz_zoho_request_headers(&r, conn, op->method, op->path, NULL, "{}", headers);
	/* no answer to the question itself: the caller learns why */
	if (!r.ok && (r.http_status == 0 || r.http_status == 401 || r.http_status == 403 ||
				  r.http_status == 429 || r.http_status >= 500))
		tz_api_raise(&r);

	usable = !r.ok && tz_upsert_probe_usable(r.http_status, r.root);
	code = json_is_object(r.root) ? json_object_get(r.root, "code") : NULL;
	initStringInfo(&out);
	appendStringInfo(&out, "{\"usable\": %s, \"http_status\": %ld, ", usable ? "true" : "false",
					 r.http_status);
	if (json_is_integer(code))
		appendStringInfo(&out, "\"code\": %lld, ", (long long) json_integer_value(code));
	tz_put_json_text(&out, "message", json_string_value(json_object_get(r.root, "message")), false);
	tz_put_json_text(&out, "probe_value", value, true);
	appendStringInfoChar(&out, '}');
	PG_RETURN_DATUM(tz_finish_jsonb(DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
																	   CStringGetDatum(out.data))),
									&isnull));
}
