/*-------------------------------------------------------------------------
 *
 * preview_sql.c
 *	  preview_flow(): the requests a flow's actions would send for a source
 *	  row, made by the same planner the worker runs, sending nothing.
 *
 * The planner is walked with stand-in answers: a created object gets an id
 * such as "(new contact id)", an account not synced yet gets "(contact id of
 * account X, once synced)".  No secret is read: the connections' URLs come
 * from the connection table, and authorization headers are shown masked.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_jansson.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "delivery/outbox.h"
#include "actions/steps.h"
#include "clients/zoho.h"

#define MAX_CALLS 32

typedef struct PreviewFlow
{
	int64		id;
	int64		connection_id;
	char	   *name;
	char	   *entity;
	bool		inbound;
} PreviewFlow;

static char *
text_arg(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/* One row of a query with text results, or NULL when there is none. */
static char **
query_row(const char *sql, int nargs, Oid *types, Datum *values, int ncols)
{
	char	  **out;

	if (SPI_execute_with_args(sql, nargs, types, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "togai_zoho: preview query failed: %s", sql);
	if (SPI_processed == 0)
		return NULL;
	out = palloc(sizeof(char *) * ncols);
	for (int i = 0; i < ncols; i++)
		out[i] = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1);
	return out;
}

static PreviewFlow
load_flow(const char *name)
{
	PreviewFlow f;
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(name)};
	char	  **row;

	/* find_flow raises the usual errors for a missing or malformed name */
	row = query_row("SELECT f.id, f.trigger_connection_id, f.name, t.entity, t.direction = 'inbound'"
					"  FROM togai_zoho.find_flow($1) f"
					"  JOIN togai_zoho.trigger_def t ON t.name = f.trigger",
					1, types, values, 5);
	f.id = pg_strtoint64(row[0]);
	f.connection_id = pg_strtoint64(row[1]);
	f.name = row[2];
	f.entity = row[3];
	f.inbound = strcmp(row[4], "t") == 0;
	return f;
}

/* The mirror table of an outbound flow's entity, or the column of its id. */
static const char *
outbound_source(const char *entity, bool id_column)
{
	if (strcmp(entity, "account") == 0)
		return id_column ? "account_id" : "customers";
	if (strcmp(entity, "payment") == 0)
		return id_column ? "payment_id" : "payments";
	return id_column ? "invoice_id" : "invoices";
}

/*
 * The source row: the sample, shaped like the trigger's table (columns it
 * lacks are null, wrong types are refused), or the latest row there is.
 */
static char *
load_source(const PreviewFlow *f, const char *sample)
{
	Oid			types[3] = {INT8OID, TEXTOID, TEXTOID};
	Datum		values[3] = {Int64GetDatum(f->connection_id), CStringGetTextDatum(f->entity),
	(Datum) 0};
	char	  **row;
	const char *table = f->inbound ? "inbox" : outbound_source(f->entity, false);

	if (sample != NULL)
	{
		values[2] = CStringGetTextDatum(sample);
		if (f->inbound)
			row = query_row("SELECT pg_catalog.to_jsonb(r)::text FROM pg_catalog.jsonb_populate_record("
							" NULL::togai_zoho.inbox, CASE WHEN $3::jsonb ? 'payload' THEN $3::jsonb"
							" ELSE pg_catalog.jsonb_build_object('payload', $3::jsonb, 'remote_id',"
							"   $3::jsonb ->> ($2 || '_id'), 'status', $3::jsonb ->> 'status') END"
							" || pg_catalog.jsonb_build_object('connection_id', $1, 'entity', $2)) r",
							3, types, values, 1);
		else
			row = query_row(psprintf("SELECT pg_catalog.to_jsonb(r)::text FROM"
									 " pg_catalog.jsonb_populate_record(NULL::togai_zoho.%s,"
									 " $3::jsonb || pg_catalog.jsonb_build_object('connection_id', $1)) r",
									 table),
							3, types, values, 1);
		return row[0];
	}
	row = query_row(psprintf("SELECT pg_catalog.to_jsonb(x)::text FROM togai_zoho.%s x"
							 " WHERE x.connection_id = $1 %s ORDER BY %s DESC LIMIT 1",
							 table,
							 f->inbound ? "AND x.entity = $2" :
							 (strcmp(f->entity, "invoice") == 0 ? "AND togai_zoho.invoice_is_generated(x.status)" : ""),
							 f->inbound ? "received_at" : "mirrored_at"),
					2, types, values, 1);
	if (row == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("flow \"%s\" has no source row to preview", f->name),
				 errhint("Pass a sample: preview_flow('%s', '{...}'), shaped like a row of togai_zoho.%s.",
						 f->name, table)));
	return row[0];
}

/* Where the call goes, from the connection's settings (never its secrets). */
static void
append_request(StringInfo out, TzJob *job, int64 connection_id)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(connection_id)};
	char	  **c = query_row("SELECT name, app, base_url, organization_id FROM togai_zoho.connection"
							  " WHERE id = $1", 1, types, values, 4);
	TzJobAction *a = &job->actions[job->current];
	bool		zoho = strcmp(c[1], "zohobooks") == 0;
	char	   *url = zoho ?
		tz_zoho_books_url(c[2], job->call_path, c[3], job->call_query) :
		psprintf("%s%s%s%s", c[2], job->call_path, job->call_query ? "?" : "",
				 job->call_query ? job->call_query : "");

	if (out->len > 1)
		appendStringInfoString(out, ", ");
	appendStringInfo(out, "{\"position\": %d, \"action\": ", a->position);
	escape_json(out, a->name);
	appendStringInfoString(out, ", \"connection\": ");
	escape_json(out, c[0]);
	appendStringInfoString(out, ", \"method\": ");
	escape_json(out, job->call_method);
	appendStringInfoString(out, ", \"url\": ");
	escape_json(out, url);
	appendStringInfo(out, ", \"headers\": {\"Authorization\": \"%s ****\"%s}",
					 zoho ? "Zoho-oauthtoken" : "Bearer",
					 job->call_body ? ", \"Content-Type\": \"application/json\"" : "");
	if (job->call_body)
		appendStringInfo(out, ", \"body\": %s", job->call_body);
	appendStringInfoChar(out, '}');
}

/* Actions waiting for the account's contact are shown as if it were there. */
static void
assume_contact(TzJob *job)
{
	const char *account = tz_json_str(job->payload, "account_id");
	char	   *stand_in = psprintf("(contact id of account %s, once synced)",
									account ? account : "?");

	for (int k = job->current; k < job->nactions; k++)
		if (job->actions[k].account_zoho_id == NULL)
			job->actions[k].account_zoho_id = stand_in;
	job->outcome = TZ_OUTCOME_NONE;
	job->waiting_for = NULL;
	job->error = NULL;
}

PG_FUNCTION_INFO_V1(preview_flow);

/* preview_flow(flow text, sample jsonb) returns jsonb */
Datum
preview_flow(PG_FUNCTION_ARGS)
{
	char	   *name = text_arg(fcinfo, 0);
	char	   *sample = PG_ARGISNULL(1) ? NULL :
		JsonbToCString(NULL, &PG_GETARG_JSONB_P(1)->root, 0);
	MemoryContext cxt = CurrentMemoryContext;
	PreviewFlow f;
	TzJob	   *job;
	char	   *payload;
	char	  **context;
	StringInfoData requests;
	StringInfoData out;
	Oid			types[3] = {TEXTOID, INT8OID, TEXTOID};
	Datum		values[3];
	int			calls = 0;

	if (name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("flow must not be null")));
	if (sample != NULL && !JB_ROOT_IS_OBJECT(PG_GETARG_JSONB_P(1)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sample must be a JSON object")));

	SPI_connect();
	f = load_flow(name);
	payload = load_source(&f, sample);
	values[0] = CStringGetTextDatum(f.entity);
	values[1] = Int64GetDatum(f.connection_id);
	values[2] = CStringGetTextDatum(payload);
	context = query_row("SELECT togai_zoho.job_context($1, $2, $3::jsonb)::text", 3, types, values, 1);

	MemoryContextSwitchTo(cxt);
	job = palloc0(sizeof(TzJob));
	job->cxt = cxt;
	job->flow_id = f.id;
	job->source_connection_id = f.connection_id;
	job->entity = f.entity;
	job->payload = tz_json_object(payload, strlen(payload));
	job->context = context[0] ? tz_json_object(context[0], strlen(context[0])) : NULL;
	job->source_id = pstrdup(tz_json_str(job->payload, f.inbound ? "remote_id" :
										 outbound_source(f.entity, true)) ?: "");
	initStringInfo(&job->result);
	appendStringInfoChar(&job->result, '[');
	tz_outbox_prepare_job(job, f.inbound);
	MemoryContextSwitchTo(cxt);

	initStringInfo(&requests);
	appendStringInfoChar(&requests, '[');
	while (job->outcome == TZ_OUTCOME_NONE && calls < MAX_CALLS)
	{
		TzApiResult answer;

		/* a call an answer led to is already planned */
		if (job->call_method == NULL && !tz_steps_plan(job, false))
		{
			if (job->outcome == TZ_OUTCOME_DEFERRED)
				assume_contact(job);
			continue;
		}
		append_request(&requests, job, job->call_connection_id);
		MemoryContextSwitchTo(cxt);
		memset(&answer, 0, sizeof(answer));
		answer.ok = true;
		answer.http_status = 200;
		answer.root = tz_steps_stand_in(job);
		job->call_method = NULL;
		tz_steps_answered(job, &answer);
		calls++;
	}
	appendStringInfoChar(&requests, ']');
	appendStringInfoChar(&job->result, ']');

	initStringInfo(&out);
	appendStringInfoString(&out, "{\"flow\": ");
	escape_json(&out, f.name);
	appendStringInfoString(&out, ", \"source\": {\"entity\": ");
	escape_json(&out, f.entity);
	appendStringInfoString(&out, ", \"id\": ");
	escape_json(&out, job->source_id);
	appendStringInfo(&out, "}, \"requests\": %s, \"steps\": %s", requests.data, job->result.data);
	if (job->outcome == TZ_OUTCOME_DEAD)
	{
		appendStringInfoString(&out, ", \"error\": ");
		escape_json(&out, job->error);
	}
	appendStringInfoChar(&out, '}');
	SPI_finish();
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data)));
}
