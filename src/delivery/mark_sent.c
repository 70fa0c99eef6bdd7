/*-------------------------------------------------------------------------
 *
 * mark_sent.c
 *	  Zoho Books invoices marked sent in bulk (see mark_sent.h).
 *
 * A refused bulk call (one invoice of the batch cannot be marked) falls back
 * to single calls for that batch, so one bad invoice holds up no other; an
 * invoice refused TZ_MARK_SENT_MAX_ATTEMPTS times stays in the queue with
 * its error for a person to look at.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_jansson.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "mark_sent.h"
#include "clients/admission.h"
#include "clients/remote_ops.h"
#include "kept_plan.h"
#include "clients/zoho.h"

static const char *const queued_sql =
"SELECT connection_id, invoice_id FROM togai_zoho.zohobooks_unsent"
" WHERE attempts < $1 ORDER BY connection_id, queued_at LIMIT $2 FOR UPDATE SKIP LOCKED";

static const char *const done_sql =
"DELETE FROM togai_zoho.zohobooks_unsent WHERE connection_id = $1 AND invoice_id = ANY ($2)";

static const char *const refused_sql =
"UPDATE togai_zoho.zohobooks_unsent SET attempts = attempts + 1, last_error = $3"
" WHERE connection_id = $1 AND invoice_id = ANY ($2)";

/* Whether the connection may call today: no pause, its day's budget not spent. */
static bool
may_call(const TzConnInfo *conn)
{
	TzAdmitVerdict v = tz_admit(conn, TZ_PURPOSE_DELIVERY, TZ_ADMIT_LOOK).verdict;

	return v == TZ_ADMIT_GO || tz_admission_short(v);
}

static void
settle(const char *sql, int64 connection_id, List *ids, const char *error)
{
	static SPIPlanPtr plans[2];
	SPIPlanPtr *plan = &plans[error ? 1 : 0];
	Oid			types[3] = {INT8OID, TEXTARRAYOID, TEXTOID};
	Datum		values[3];
	Datum	   *elems = palloc(sizeof(Datum) * list_length(ids));
	int			n = 0;
	ListCell   *lc;

	foreach(lc, ids)
		elems[n++] = CStringGetTextDatum(lfirst(lc));
	values[0] = Int64GetDatum(connection_id);
	values[1] = PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
	values[2] = error ? CStringGetTextDatum(error) : (Datum) 0;
	if (SPI_execute_plan(tz_kept_plan(plan, sql, error ? 3 : 2, types), values, NULL, false, 0) < 0)
		elog(ERROR, "togai_zoho: could not settle invoices marked sent");
}

/* One call for the ids: true when marked (or for good refused), false to try later. */
static bool
mark(TzConnInfo *conn, List *ids, int *marked)
{
	const TzRemoteOp *op;
	TzApiResult r;
	StringInfoData list;
	ListCell   *lc;

	initStringInfo(&list);
	foreach(lc, ids)
		appendStringInfo(&list, "%s%s", list.len ? "," : "", (char *) lfirst(lc));
	if (list_length(ids) == 1)
	{
		op = tz_remote_op(TZ_APP_ZOHOBOOKS, "invoice_mark_sent");
		tz_zoho_request(&r, conn, op->method, tz_remote_path(op, list.data), NULL, NULL);
	}
	else
	{
		op = tz_remote_op(TZ_APP_ZOHOBOOKS, "invoices_mark_sent");
		tz_zoho_request(&r, conn, op->method, op->path,
						tz_remote_query(op, "invoice_ids", list.data, NULL), NULL);
	}
	if (r.ok)
	{
		settle(done_sql, conn->id, ids, NULL);
		*marked += list_length(ids);
		return true;
	}
	/* a refusal names a bad request; rate, server and network faults pass */
	if (r.http_status < 400 || r.http_status >= 500 || r.http_status == 429 ||
		r.http_status == 401)
		return false;
	if (list_length(ids) > 1)
	{
		foreach(lc, ids)
			(void) mark(conn, list_make1(lfirst(lc)), marked);
		return true;
	}
	settle(refused_sql, conn->id, ids, r.message);
	ereport(WARNING,
			(errmsg("togai_zoho: Zoho Books invoice %s of connection \"%s\" could not be marked sent: %s",
					(char *) linitial(ids), conn->name, r.message),
			 errhint("It stays in togai_zoho.zohobooks_unsent, tried again up to %d times.",
					 TZ_MARK_SENT_MAX_ATTEMPTS)));
	return true;
}

int
tz_mark_sent_flush(void)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[2] = {INT4OID, INT4OID};
	Datum		values[2] = {Int32GetDatum(TZ_MARK_SENT_MAX_ATTEMPTS),
	Int32GetDatum(TZ_MARK_SENT_BATCH * 8)};
	SPITupleTable *queued;
	uint64		nqueued;
	int			marked = 0;
	int			nest;
	uint64		i = 0;

	if (SPI_execute_plan(tz_kept_plan(&plan, queued_sql, 2, types), values, NULL, false, 0)
		!= SPI_OK_SELECT)
		elog(ERROR, "togai_zoho: could not read the invoices to mark sent");
	if (SPI_processed == 0)
		return 0;
	queued = SPI_tuptable;
	nqueued = SPI_processed;
	SPI_tuptable = NULL;		/* kept until the end: the calls below run statements */

	/* these calls are deliveries, whoever makes them */
	nest = NewGUCNestLevel();
	(void) set_config_option("togai_zoho.call_purpose", "delivery", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	while (i < nqueued)
	{
		bool		isnull;
		int64		connection_id = DatumGetInt64(SPI_getbinval(queued->vals[i], queued->tupdesc,
																1, &isnull));
		List	   *ids = NIL;
		TzConnInfo *conn;

		while (i < nqueued && list_length(ids) < TZ_MARK_SENT_BATCH &&
			   DatumGetInt64(SPI_getbinval(queued->vals[i], queued->tupdesc, 1, &isnull)) == connection_id)
			ids = lappend(ids, SPI_getvalue(queued->vals[i++], queued->tupdesc, 2));
		conn = tz_conn_load_id(connection_id);
		if (may_call(conn))
			(void) mark(conn, ids, &marked);
	}
	AtEOXact_GUC(true, nest);
	SPI_freetuptable(queued);
	return marked;
}
