/*-------------------------------------------------------------------------
 *
 * check_sql.c
 *	  check_connection() and check_connections(): one cheap live call per
 *	  connection, the second through one multi handle, all at once.  Remote
 *	  failures are reported in the result, not raised.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_jansson.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"

#include "clients/conn.h"
#include "sql_util.h"
#include "clients/togai.h"
#include "togai_zoho.h"
#include "clients/zoho.h"

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
		tz_find_in_list(r, "organizations", conn->organization_id, true) < 0)
	{
		r->ok = false;
		r->sqlstate = ERRCODE_TZ_REMOTE_FORBIDDEN;
		r->message = psprintf("organization %s is not among those the token reaches",
							  conn->organization_id ? conn->organization_id : "(none)");
	}

	initStringInfo(&out);
	appendStringInfoChar(&out, '{');
	tz_put_json_text(&out, "connection", conn->name, false);
	tz_put_json_text(&out, "app", conn->app == TZ_APP_TOGAI ? "togai" : "zohobooks", false);
	tz_put_json_text(&out, "checked", checked, false);
	appendStringInfo(&out, "\"ok\": %s, ", r->ok ? "true" : "false");
	if (r->http_status > 0)
		appendStringInfo(&out, "\"http_status\": %ld, ", r->http_status);
	else
		appendStringInfoString(&out, "\"http_status\": null, ");
	if (!r->ok)
	{
		char		code[6];

		memcpy(code, unpack_sql_state(r->sqlstate), 6);
		tz_put_json_text(&out, "sqlstate", code, false);
		tz_put_json_text(&out, "detail", r->detail, false);
		tz_put_json_text(&out, "hint", r->hint, false);
	}
	tz_put_json_text(&out, "error", r->ok ? NULL : r->message, true);
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
	PG_RETURN_DATUM(tz_finish_jsonb(check_result(conn, checked, &r), &isnull));
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
	TzHttpMulti *multi = tz_http_multi_create(tz_api_http_settings());
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
