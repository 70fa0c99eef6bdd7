/*-------------------------------------------------------------------------
 *
 * conn.c
 *	  Loading a connection and its secrets, and storing refreshed tokens.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "conn.h"
#include "owner.h"
#include "shmem.h"

static char *
value_or_null(HeapTuple tuple, TupleDesc desc, int col)
{
	return SPI_getvalue(tuple, desc, col);	/* NULL for SQL NULL */
}

/* Loads the connection the query's $1 picks (c.name or c.id). */
static TzConnInfo *
load(const char *where, Oid type, Datum value, int app)
{
	Oid			types[1] = {type};
	Datum		values[1] = {value};
	const char *name;
	TzConnInfo *c;
	HeapTuple	t;
	TupleDesc	d;
	char	   *expires;

	if (tz_execute_as_owner(psprintf("SELECT c.id, c.name, c.app, c.base_url, c.accounts_url, "
						 "c.organization_id, c.client_id, s.api_token, s.client_secret, "
						 "s.refresh_token, s.access_token, s.access_token_expires_at, "
						 "coalesce(c.rate_limit_per_minute, "
						 "CASE c.app WHEN 'zohobooks' THEN 100 ELSE 0 END), "
						 /* the budget, today's counters, the organization's day */
						 "coalesce(c.api_per_day, 0), coalesce(c.api_concurrent, "
						 "CASE c.app WHEN 'zohobooks' THEN %d ELSE 0 END), "
						 "extract(epoch FROM d.ends_at), d.day - date '2000-01-01', "
						 "coalesce(u.delivery_calls, 0), coalesce(u.poll_calls, 0), "
						 "coalesce(u.session_calls, 0), coalesce(u.token_calls, 0), "
						 "coalesce(u.refused, 0), coalesce(extract(epoch FROM u.paused_until), 0), "
						 "coalesce(extract(epoch FROM u.first_call_at), 0) "
						 "FROM togai_zoho.connection c "
						 "LEFT JOIN togai_zoho.connection_secret s ON s.connection_id = c.id "
						 "CROSS JOIN LATERAL togai_zoho.api_day(c.time_zone) d "
						 "LEFT JOIN togai_zoho.api_usage_day u "
						 "ON u.connection_id = c.id AND u.day = d.day "
						 "%s", TZ_ZOHO_DEFAULT_CONCURRENT, where),
						 1, types, values, true) != SPI_OK_SELECT)
		elog(ERROR, "togai_zoho: could not read a connection");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 type == TEXTOID ?
				 errmsg("connection \"%s\" does not exist", TextDatumGetCString(value)) :
				 errmsg("connection %lld does not exist", (long long) DatumGetInt64(value)),
				 errhint("See togai_zoho.connections for the existing connections.")));

	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	name = SPI_getvalue(t, d, 2);
	/* The result outlives SPI_finish: SPI_palloc uses the caller's context. */
	c = SPI_palloc(sizeof(TzConnInfo));
	memset(c, 0, sizeof(*c));
	c->id = DatumGetInt64(DirectFunctionCall1(int8in, CStringGetDatum(SPI_getvalue(t, d, 1))));
	c->name = SPI_palloc(strlen(name) + 1);
	strcpy(c->name, name);
	c->app = strcmp(SPI_getvalue(t, d, 3), "togai") == 0 ? TZ_APP_TOGAI : TZ_APP_ZOHOBOOKS;

#define COPY_COL(field, col) \
	do { char *v_ = value_or_null(t, d, col); \
		 if (v_) { c->field = SPI_palloc(strlen(v_) + 1); strcpy(c->field, v_); } } while (0)
	COPY_COL(base_url, 4);
	COPY_COL(accounts_url, 5);
	COPY_COL(organization_id, 6);
	COPY_COL(client_id, 7);
	COPY_COL(api_token, 8);
	COPY_COL(client_secret, 9);
	COPY_COL(refresh_token, 10);
	COPY_COL(access_token, 11);
#undef COPY_COL
	expires = value_or_null(t, d, 12);
	c->access_token_expires_at = expires ?
		DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in, CStringGetDatum(expires),
												ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1))) : 0;

	c->rate_limit_per_minute = atoi(SPI_getvalue(t, d, 13));
	c->budget.per_day = atoi(SPI_getvalue(t, d, 14));
	c->budget.concurrent = atoi(SPI_getvalue(t, d, 15));
	c->budget.day_ends_s = strtod(SPI_getvalue(t, d, 16), NULL);
	c->budget.day = atoi(SPI_getvalue(t, d, 17));
	for (int p = 0; p < TZ_NPURPOSES; p++)
		c->budget.calls[p] = atoi(SPI_getvalue(t, d, 18 + p));
	c->budget.refused = atoi(SPI_getvalue(t, d, 22));
	c->budget.paused_until_s = strtod(SPI_getvalue(t, d, 23), NULL);
	c->budget.first_call_s = strtod(SPI_getvalue(t, d, 24), NULL);
	tz_budget_attach(c->id, &c->budget);

	if (app >= 0 && c->app != (TzApp) app)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("connection \"%s\" is a %s connection, not a %s connection", name,
						c->app == TZ_APP_TOGAI ? "togai" : "zohobooks",
						app == TZ_APP_TOGAI ? "togai" : "zohobooks")));
	return c;
}

TzConnInfo *
tz_conn_load(const char *name, int app)
{
	return load("WHERE c.name = $1", TEXTOID, CStringGetTextDatum(name), app);
}

TzConnInfo *
tz_conn_load_id(int64 id)
{
	return load("WHERE c.id = $1", INT8OID, Int64GetDatum(id), -1);
}

List *
tz_conn_names(void)
{
	List	   *names = NIL;

	if (tz_execute_as_owner("SELECT name FROM togai_zoho.connection ORDER BY id", 0, NULL, NULL,
						 true) != SPI_OK_SELECT)
		elog(ERROR, "togai_zoho: could not list the connections");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		char	   *copy = SPI_palloc(strlen(name) + 1);

		strcpy(copy, name);
		names = lappend(names, copy);
	}
	return names;
}

bool
tz_conn_lock_token(TzConnInfo *conn)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(conn->id)};
	char	   *token;
	char	   *expires;

	if (tz_execute_as_owner("SELECT access_token, access_token_expires_at "
						 "FROM togai_zoho.connection_secret WHERE connection_id = $1 FOR UPDATE",
						 1, types, values, false) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "togai_zoho: could not lock the secrets of connection \"%s\"", conn->name);
	token = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	expires = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	if (token == NULL || expires == NULL ||
		(conn->access_token && strcmp(token, conn->access_token) == 0))
		return false;
	conn->access_token = MemoryContextStrdup(GetMemoryChunkContext(conn), token);
	conn->access_token_expires_at =
		DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in, CStringGetDatum(expires),
												ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
	return true;
}

void
tz_conn_store_access_token(TzConnInfo *conn, const char *token, long expires_in)
{
	Oid			types[3] = {INT8OID, TEXTOID, INT4OID};
	Datum		values[3] = {Int64GetDatum(conn->id), CStringGetTextDatum(token),
	Int32GetDatum((int32) expires_in)};

	if (tz_execute_as_owner("UPDATE togai_zoho.connection_secret "
						 "SET access_token = $2, "
						 "access_token_expires_at = pg_catalog.now() + pg_catalog.make_interval(secs => $3), "
						 "updated_at = pg_catalog.now() "
						 "WHERE connection_id = $1",
						 3, types, values, false) != SPI_OK_UPDATE)
		elog(ERROR, "togai_zoho: could not store the access token of connection \"%s\"", conn->name);
	conn->access_token = MemoryContextStrdup(GetMemoryChunkContext(conn), token);
	conn->access_token_expires_at = GetCurrentTimestamp() + (TimestampTz) expires_in * USECS_PER_SEC;
}

