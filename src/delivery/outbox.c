/*-------------------------------------------------------------------------
 *
 * outbox.c
 *	  Claiming, finishing, reclaiming and cleaning up outbox jobs.
 *
 * Every statement uses clock_timestamp(), so that times are those of the
 * statement, not of its transaction's start.  Where the time bounds an index
 * scan (the due jobs, the jobs to delete), it is passed as a value instead:
 * a volatile function's result is only a filter, and the claim walked every
 * job not yet due.  Claims lock the rows FOR UPDATE SKIP LOCKED, so two
 * claimers (the worker, process_outbox()'s helpers) never take the same job;
 * each claim commits, marking its jobs as possibly made, before any of their
 * calls is sent.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_jansson.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "store/job_writer.h"
#include "outbox.h"
#include "kept_plan.h"
#include "settings.h"
#include "togai_zoho.h"

static const char *const claim_sql =
"WITH c AS ("
"  SELECT id, may_exist FROM togai_zoho.outbox"
"   WHERE state = 'pending' AND due_at <= $3"
"   ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED) "
"UPDATE togai_zoho.outbox o SET state = 'running',"
"  locked_until = pg_catalog.clock_timestamp() + pg_catalog.make_interval(secs => $2),"
"  locked_by = pg_catalog.pg_backend_pid(), attempts = o.attempts + 1, may_exist = true,"
"  updated_at = pg_catalog.clock_timestamp() "
"FROM c WHERE o.id = c.id "
"RETURNING o.id, o.flow_id, o.connection_id, o.entity, o.source_id, o.payload::text,"
"  o.step, o.attempts, c.may_exist,"
"  togai_zoho.job_context(o.entity, o.connection_id, o.payload)::text,"
"  (SELECT s.app = 'zohobooks' FROM togai_zoho.connection s WHERE s.id = o.connection_id)";

static const char *const actions_sql =
"SELECT a.flow_id, a.position, a.connection_id, a.action, a.options::text, d.app = 'togai'"
"  FROM togai_zoho.flow_action a JOIN togai_zoho.action_def d ON d.name = a.action"
" WHERE a.flow_id = ANY($1) ORDER BY a.flow_id, a.position";

/* A job going back to pending waits (never due) while its flow is disabled, as the job writer writes it. */
static const char *const finish_sql =
"UPDATE togai_zoho.outbox o SET"
"  state = CASE WHEN o.rerun OR $2 NOT IN ('delivered', 'dead') THEN 'pending'"
"               WHEN $2 = 'delivered' THEN 'done' ELSE 'dead' END,"
"  finished_at = CASE WHEN NOT o.rerun AND $2 IN ('delivered', 'dead')"
"                     THEN pg_catalog.clock_timestamp() END,"
"  step = CASE WHEN o.rerun AND $2 IN ('delivered', 'dead') THEN 1 ELSE $3 END,"
"  attempts = CASE WHEN o.rerun AND $2 IN ('delivered', 'dead') THEN 0"
"                  WHEN $2 IN ('deferred', 'throttled') THEN o.attempts - 1"
"                  ELSE o.attempts END,"
"  due_at = CASE WHEN NOT (o.rerun OR $2 NOT IN ('delivered', 'dead')) THEN o.due_at"
"                WHEN NOT (SELECT f.enabled FROM togai_zoho.flow f WHERE f.id = o.flow_id)"
"                  THEN 'infinity'::timestamptz"
"                WHEN o.rerun AND $2 IN ('delivered', 'dead') THEN pg_catalog.clock_timestamp()"
"                ELSE pg_catalog.clock_timestamp() + pg_catalog.make_interval(secs => $4 / 1000.0) END,"
"  rerun = false, locked_until = NULL, locked_by = NULL, may_exist = $8, waiting_for = $9,"
"  last_http_status = $5, last_error = $6, result = coalesce($7, o.result),"
"  updated_at = pg_catalog.clock_timestamp() "
"WHERE o.id = $1 AND o.state = 'running' AND o.locked_by = pg_catalog.pg_backend_pid() "
"RETURNING o.state = 'pending' AND o.due_at <= pg_catalog.clock_timestamp(), o.state = 'dead'";

static const char *const attempt_sql =
"INSERT INTO togai_zoho.outbox_attempt"
"  (job_id, attempt, step, started_at, outcome, http_status, requests, error, worker)"
"  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

static const char *const mapping_sql =
"INSERT INTO togai_zoho.id_mapping AS m (entity, togai_connection_id, zohobooks_connection_id,"
"  togai_id, togai_customer_id, zohobooks_id) VALUES ($1, $2, $3, $4, $5, $6) "
"ON CONFLICT (entity, togai_id, zohobooks_connection_id) DO UPDATE SET"
"  zohobooks_id = EXCLUDED.zohobooks_id, togai_connection_id = EXCLUDED.togai_connection_id,"
"  togai_customer_id = coalesce(EXCLUDED.togai_customer_id, m.togai_customer_id),"
"  updated_at = pg_catalog.clock_timestamp()"
"  WHERE (m.zohobooks_id, m.togai_connection_id, m.togai_customer_id)"
"    IS DISTINCT FROM (EXCLUDED.zohobooks_id, EXCLUDED.togai_connection_id,"
"                      coalesce(EXCLUDED.togai_customer_id, m.togai_customer_id))";

static const char *const unsent_sql =
"INSERT INTO togai_zoho.zohobooks_unsent (connection_id, invoice_id) VALUES ($1, $2)"
"  ON CONFLICT DO NOTHING";

static const char *const item_sql =
"INSERT INTO togai_zoho.zohobooks_item AS z (connection_id, name, item_id)"
" VALUES ($1, $2, $3) ON CONFLICT (connection_id, name) DO UPDATE"
" SET item_id = EXCLUDED.item_id WHERE z.item_id <> EXCLUDED.item_id";

static const char *const currency_sql =
"INSERT INTO togai_zoho.zohobooks_currency AS z (connection_id, currency_code, currency_id)"
" VALUES ($1, $2, $3) ON CONFLICT (connection_id, currency_code) DO UPDATE"
" SET currency_id = EXCLUDED.currency_id WHERE z.currency_id <> EXCLUDED.currency_id";

static const char *const rate_sql =
"INSERT INTO togai_zoho.zohobooks_exchange_rate AS z"
"  (connection_id, currency_code, day, rate, effective_date)"
" VALUES ($1, $2, $3::date, $4::numeric, $5)"
" ON CONFLICT (connection_id, currency_code, day) DO UPDATE"
" SET rate = EXCLUDED.rate, effective_date = EXCLUDED.effective_date, learnt_at = now()";

static const char *const wake_waiters_sql =
"UPDATE togai_zoho.outbox SET due_at = pg_catalog.clock_timestamp(), waiting_for = NULL,"
"  updated_at = pg_catalog.clock_timestamp()"
" WHERE state = 'pending' AND waiting_for = $1";

/*
 * Jobs waiting for an account whose job died would wait for ever: they die
 * too, saying why, and keep waiting_for so that retrying the account's job
 * brings them back.
 */
static const char *const dependents_dead_sql =
"UPDATE togai_zoho.outbox SET state = 'dead', finished_at = pg_catalog.clock_timestamp(),"
"  last_error = pg_catalog.format('account %s could not be synced (job %s): %s', $1, $2, $3),"
"  updated_at = pg_catalog.clock_timestamp()"
" WHERE state = 'pending' AND waiting_for = $1";

/*
 * And a job that starts waiting for an account whose job is dead already
 * gives up at once, the same way.
 */
static const char *const waiter_gives_up_sql =
"UPDATE togai_zoho.outbox o SET state = 'dead', finished_at = pg_catalog.clock_timestamp(),"
"  last_error = pg_catalog.format('account %s could not be synced (job %s): %s', $2, d.id,"
"    d.last_error), updated_at = pg_catalog.clock_timestamp()"
" FROM (SELECT a.id, a.last_error FROM togai_zoho.outbox a"
"        WHERE a.state = 'dead' AND a.source_id = $2 AND a.entity = 'account'"
"        ORDER BY a.id DESC LIMIT 1) d"
" WHERE o.id = $1 AND o.state = 'pending'"
"   AND NOT EXISTS (SELECT 1 FROM togai_zoho.flow f, togai_zoho.outbox x"
"                    WHERE x.flow_id = f.id AND x.entity = 'account' AND x.source_id = $2"
"                      AND x.state IN ('pending', 'running'))";

/* ... and one whose account got its contact meanwhile runs again now. */
static const char *const waiter_goes_on_sql =
"UPDATE togai_zoho.outbox o SET due_at = pg_catalog.clock_timestamp(), waiting_for = NULL,"
"  updated_at = pg_catalog.clock_timestamp()"
" WHERE o.id = $1 AND o.state = 'pending'"
"   AND EXISTS (SELECT 1 FROM togai_zoho.id_mapping m WHERE m.entity = 'account' AND m.togai_id = $2"
"                AND m.togai_connection_id = $3 AND ($4 IS NULL OR m.zohobooks_connection_id = $4))";

static const char *const dead_fallback_sql =
"UPDATE togai_zoho.outbox SET state = 'dead', finished_at = pg_catalog.clock_timestamp(),"
"  locked_until = NULL, locked_by = NULL, rerun = false, may_exist = true, last_error = $2,"
"  updated_at = pg_catalog.clock_timestamp()"
" WHERE id = $1 AND state = 'running' AND locked_by = pg_catalog.pg_backend_pid()";

/* The account's job died: so do the jobs waiting for its contact. */
static void
give_up_waiters(TzJob *job)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[3] = {TEXTOID, INT8OID, TEXTOID};
	Datum		values[3] = {CStringGetTextDatum(job->source_id), Int64GetDatum(job->id),
	CStringGetTextDatum(job->error ? job->error : "dead")};

	if (SPI_execute_plan(tz_kept_plan(&plan, dependents_dead_sql, 3, types), values, NULL, false, 0)
		!= SPI_OK_UPDATE)
		elog(ERROR, "togai_zoho: could not give up the jobs waiting for account %s",
			 job->source_id);
}

/*
 * The job starts waiting for an account: not for one whose job is dead, nor
 * for one whose job finished while this one ran (its wake-up came too early).
 * True when the job is due again now.
 */
static bool
settle_waiting(TzJob *job)
{
	static SPIPlanPtr dead_plan = NULL;
	static SPIPlanPtr mapped_plan = NULL;
	const TzJobAction *a = &job->actions[Min(job->current, job->nactions - 1)];
	Oid			types[4] = {INT8OID, TEXTOID, INT8OID, INT8OID};
	Datum		values[4] = {Int64GetDatum(job->id), CStringGetTextDatum(job->waiting_for),
	Int64GetDatum(job->source_connection_id), Int64GetDatum(a->connection_id)};
	/* the mapping the waiting action looks for: of its Zoho Books connection, if it has one */
	char		nulls[4] = {' ', ' ', ' ', a->togai ? 'n' : ' '};

	if (SPI_execute_plan(tz_kept_plan(&dead_plan, waiter_gives_up_sql, 2, types), values, NULL, false, 0)
		!= SPI_OK_UPDATE ||
		SPI_execute_plan(tz_kept_plan(&mapped_plan, waiter_goes_on_sql, 4, types), values, nulls, false, 0)
		!= SPI_OK_UPDATE)
		elog(ERROR, "togai_zoho: could not look at the job of account %s", job->waiting_for);
	return SPI_processed > 0;
}

static char *
copy_value(HeapTuple t, TupleDesc d, int col)
{
	char	   *v = SPI_getvalue(t, d, col);

	return v ? pstrdup(v) : NULL;
}

static int64
int8_value(HeapTuple t, TupleDesc d, int col)
{
	bool		isnull;
	Datum		v = SPI_getbinval(t, d, col, &isnull);

	return isnull ? 0 : DatumGetInt64(v);
}

/* Kills a job that cannot even start, so the outcome is written. */
static void
job_fail(TzJob *job, const char *error)
{
	job->outcome = TZ_OUTCOME_DEAD;
	job->error = pstrdup(error);
}

/* Attaches the flow's actions from the job's step onwards. */
static void
attach_actions(TzJob *job, int step, SPITupleTable *tt, uint64 n)
{
	int			count = 0;

	for (uint64 i = 0; i < n; i++)
		if (int8_value(tt->vals[i], tt->tupdesc, 1) == job->flow_id &&
			int8_value(tt->vals[i], tt->tupdesc, 2) >= step)
			count++;
	job->actions = palloc0(sizeof(TzJobAction) * Max(count, 1));
	for (uint64 i = 0; i < n; i++)
	{
		HeapTuple	t = tt->vals[i];
		TzJobAction *a;
		char	   *options;

		if (int8_value(t, tt->tupdesc, 1) != job->flow_id ||
			int8_value(t, tt->tupdesc, 2) < step)
			continue;
		a = &job->actions[job->nactions++];
		a->position = (int) int8_value(t, tt->tupdesc, 2);
		a->connection_id = int8_value(t, tt->tupdesc, 3);
		a->name = copy_value(t, tt->tupdesc, 4);
		a->kind = tz_action_kind(a->name);
		options = SPI_getvalue(t, tt->tupdesc, 5);
		a->options = tz_json_object(options, strlen(options));
		a->togai = DatumGetBool(SPI_getbinval(t, tt->tupdesc, 6, &(bool) {false}));
	}
	if (job->nactions == 0)
		job_fail(job, step == 1 ? "its flow has no actions, or was dropped as the job was enqueued" :
				 "the flow has no action left to run");
}

/* A Zoho id learnt by a job (a currency's, an item's), kept for the jobs after it. */
static void
keep_id(SPIPlanPtr *plan, const char *sql, int64 connection_id, const char *key, const char *id)
{
	Oid			types[3] = {INT8OID, TEXTOID, TEXTOID};
	Datum		values[3] = {Int64GetDatum(connection_id), CStringGetTextDatum(key),
	CStringGetTextDatum(id)};

	if (SPI_execute_plan(tz_kept_plan(plan, sql, 3, types), values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "togai_zoho: could not keep the Zoho id of %s", key);
}

/* The Zoho ids the database knows for the job: its account's currency, its lines' items. */
static void
attach_known_ids(TzJob *job)
{
	json_t	   *ids = json_object_get(job->context, "currency_ids");

	for (int k = 0; k < job->nactions; k++)
	{
		char		key[32];
		const char *id;
		json_t	   *items;

		snprintf(key, sizeof(key), INT64_FORMAT, job->actions[k].connection_id);
		id = json_string_value(json_object_get(ids, key));
		if (id != NULL)
			job->actions[k].currency_id = pstrdup(id);
		/* and the Zoho items of the invoice's lines, by name */
		items = json_object_get(json_object_get(job->context, "item_ids"), key);
		if (json_is_object(items))
			job->actions[k].items = json_deep_copy(items);
	}
}

/*
 * Gives the job's actions the Zoho Books ids their objects map to, from the
 * "mappings" job_context() put in the context (by entity, then by Zoho Books
 * connection): the one place a job's mappings come from.
 */
static void
attach_mappings(TzJob *job)
{
	json_t	   *mappings = job->context ? json_object_get(job->context, "mappings") : NULL;
	static const char *const entities[] = {"account", "invoice"};

	for (int e = 0; e < lengthof(entities); e++)
	{
		json_t	   *ids = json_object_get(mappings, entities[e]);
		const char *zconn;
		json_t	   *zid;

		json_object_foreach(ids, zconn, zid)
		{
			int64		zconn_id = strtoi64(zconn, NULL, 10);

			if (!json_is_string(zid))
				continue;
			for (int k = 0; k < job->nactions; k++)
			{
				TzJobAction *a = &job->actions[k];
				char	   *id;

				/* a Togai action (write-back) takes the account's contact in any organization */
				if (a->connection_id != zconn_id &&
					!(a->togai && e == 0 && a->account_zoho_id == NULL))
					continue;
				id = MemoryContextStrdup(job->cxt, json_string_value(zid));
				if (e == 0)
					a->account_zoho_id = id;
				else
					a->invoice_zoho_id = id;
			}
		}
	}
}

void
tz_outbox_prepare_job(TzJob *job, bool inbound)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[1] = {INT8ARRAYOID};
	Datum		id = Int64GetDatum(job->flow_id);
	Datum		values[1];
	MemoryContext cxt = CurrentMemoryContext;

	values[0] = PointerGetDatum(construct_array(&id, 1, INT8OID, 8, FLOAT8PASSBYVAL,
												TYPALIGN_DOUBLE));
	if (SPI_execute_plan(tz_kept_plan(&plan, actions_sql, 1, types), values, NULL, true, 0)
		!= SPI_OK_SELECT)
		elog(ERROR, "togai_zoho: could not read the flow's actions");
	MemoryContextSwitchTo(cxt);
	attach_actions(job, 1, SPI_tuptable, SPI_processed);
	if (job->outcome == TZ_OUTCOME_NONE && !inbound)
		attach_mappings(job);
	MemoryContextSwitchTo(cxt);
	attach_known_ids(job);
}

List *
tz_outbox_claim(int n, int lease_s, MemoryContext parent)
{
	static SPIPlanPtr claim_plan = NULL;
	static SPIPlanPtr actions_plan = NULL;
	Oid			claim_types[3] = {INT4OID, INT4OID, TIMESTAMPTZOID};
	/* "now" as a value: clock_timestamp() would not bound the index scan */
	Datum		claim_values[3] = {Int32GetDatum(n), Int32GetDatum(lease_s),
	TimestampTzGetDatum(GetCurrentTimestamp())};
	Oid			action_types[1] = {INT8ARRAYOID};
	Datum		action_values[1];
	SPITupleTable *claimed;
	uint64		nclaimed;
	SPITupleTable *actions;
	uint64		nactions;
	Datum	   *flow_ids;
	List	   *jobs = NIL;

	if (SPI_execute_plan(tz_kept_plan(&claim_plan, claim_sql, 3, claim_types), claim_values, NULL,
						 false, 0) != SPI_OK_UPDATE_RETURNING)
		elog(ERROR, "togai_zoho: could not claim outbox jobs");
	claimed = SPI_tuptable;
	nclaimed = SPI_processed;
	if (nclaimed == 0)
		return NIL;

	flow_ids = palloc(sizeof(Datum) * nclaimed);
	for (uint64 i = 0; i < nclaimed; i++)
		flow_ids[i] = SPI_getbinval(claimed->vals[i], claimed->tupdesc, 2, &(bool) {false});
	action_values[0] = PointerGetDatum(construct_array(flow_ids, (int) nclaimed, INT8OID, 8,
													   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	if (SPI_execute_plan(tz_kept_plan(&actions_plan, actions_sql, 1, action_types), action_values,
						 NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "togai_zoho: could not read the flows' actions");

	actions = SPI_tuptable;
	nactions = SPI_processed;
	for (uint64 i = 0; i < nclaimed; i++)
	{
		HeapTuple	t = claimed->vals[i];
		TupleDesc	d = claimed->tupdesc;
		MemoryContext cxt = AllocSetContextCreate(parent, "togai_zoho job", ALLOCSET_SMALL_SIZES);
		MemoryContext old = MemoryContextSwitchTo(cxt);
		TzJob	   *job = palloc0(sizeof(TzJob));
		char	   *payload = SPI_getvalue(t, d, 6);
		char	   *context = SPI_getvalue(t, d, 10);
		bool		isnull;
		bool		inbound;

		job->cxt = cxt;
		job->id = int8_value(t, d, 1);
		job->flow_id = int8_value(t, d, 2);
		job->source_connection_id = int8_value(t, d, 3);
		job->entity = copy_value(t, d, 4);
		job->source_id = copy_value(t, d, 5);
		job->payload = tz_json_object(payload, strlen(payload));
		job->attempts = DatumGetInt32(SPI_getbinval(t, d, 8, &isnull));
		job->may_exist = DatumGetBool(SPI_getbinval(t, d, 9, &isnull));
		job->context = context ? tz_json_object(context, strlen(context)) : NULL;
		inbound = DatumGetBool(SPI_getbinval(t, d, 11, &isnull)) && !isnull;
		job->started_at = GetCurrentTimestamp();
		initStringInfo(&job->result);
		appendStringInfoChar(&job->result, '[');
		if (job->payload == NULL)
			job_fail(job, "the job's payload is not a JSON object");
		else
		{
			attach_actions(job, DatumGetInt32(SPI_getbinval(t, d, 7, &isnull)), actions, nactions);
			/* inbound jobs find their Togai ids in the context */
			if (job->outcome == TZ_OUTCOME_NONE && !inbound)
				attach_mappings(job);
			MemoryContextSwitchTo(cxt);
			attach_known_ids(job);
			MemoryContextSwitchTo(cxt);
		}
		MemoryContextSwitchTo(parent);
		jobs = lappend(jobs, job);
		MemoryContextSwitchTo(old);
	}
	return jobs;
}

/* Writes the oldest staged chunks' jobs through the job writer. */
bool
tz_outbox_unstage(void)
{
	bool		isnull;

	if (!tz_jobs_schema_current())
		return false;
	if (SPI_execute_plan(tz_jobs_plan(TZ_JOBS_STAGED, true), NULL, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "togai_zoho: could not write staged jobs");
	/* fewer jobs than a round takes: the stage held no more (but for other claimers' chunks) */
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) >=
		TZ_UNSTAGE_JOBS;
}

/* Whether the schema knows which copy delivers (it may be older than the library). */
static bool
identity_installed(void)
{
	List	   *name = list_make2(makeString(TZ_SCHEMA), makeString("delivery_held"));

	return OidIsValid(LookupFuncName(name, 0, NULL, true));
}

char *
tz_outbox_held(void)
{
	static SPIPlanPtr plan = NULL;

	if (!identity_installed())
		return NULL;
	if (SPI_execute_plan(tz_kept_plan(&plan, "SELECT togai_zoho.delivery_held()", 0, NULL),
						 NULL, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "togai_zoho: could not check which copy of the data delivers");
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

char *
tz_outbox_identity(bool *look_first, MemoryContext cxt)
{
	static SPIPlanPtr plan = NULL;
	char	   *held;
	bool		isnull;

	*look_first = false;
	/* a library newer than the schema (before ALTER EXTENSION UPDATE) */
	if (!identity_installed())
		return NULL;
	if (SPI_execute_plan(tz_kept_plan(&plan, "SELECT held, look_first FROM "
									  "togai_zoho.delivery_identity_check()", 0, NULL),
						 NULL, NULL, false, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "togai_zoho: could not check which copy of the data delivers");
	held = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	*look_first = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2,
											 &isnull)) && !isnull;
	return held ? MemoryContextStrdup(cxt, held) : NULL;
}

int
tz_outbox_reclaim(bool at_start, const char *who)
{
	static const char *const sql =
	"WITH r AS ("
	"  SELECT id FROM togai_zoho.outbox"
	"   WHERE state = 'running' AND (locked_until < pg_catalog.clock_timestamp()"
	"     OR ($1 AND locked_by = pg_catalog.pg_backend_pid()) OR locked_by IS NULL"
	"     OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_get_activity(locked_by) a"
	"                     WHERE a.pid = locked_by))"
	"   FOR UPDATE SKIP LOCKED),"
	" u AS (UPDATE togai_zoho.outbox o SET state = 'pending', locked_until = NULL,"
	"   locked_by = NULL, rerun = false, may_exist = true,"
	"   due_at = pg_catalog.clock_timestamp() + pg_catalog.make_interval(secs => $3 / 1000.0),"
	"   updated_at = pg_catalog.clock_timestamp(),"
	"   last_error = 'the delivery was interrupted (worker stopped or lease expired); it runs again and looks for the object first'"
	"   FROM r WHERE o.id = r.id RETURNING o.id, o.attempts, o.step) "
	"INSERT INTO togai_zoho.outbox_attempt (job_id, attempt, step, started_at, outcome, error, worker)"
	" SELECT id, attempts, step, pg_catalog.clock_timestamp(), 'reclaimed',"
	"        'lease expired or its holder stopped', $2 FROM u";
	static SPIPlanPtr plan = NULL;
	Oid			types[3] = {BOOLOID, TEXTOID, INT4OID};
	Datum		values[3] = {BoolGetDatum(at_start), CStringGetTextDatum(who),
	Int32GetDatum(tz_request_timeout_ms)};

	/*
	 * The holder's last request may still be running at the remote: wait as
	 * long as a request may take before looking for what it made.
	 */
	if (SPI_execute_plan(tz_kept_plan(&plan, sql, 3, types), values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "togai_zoho: could not reclaim expired leases");
	return (int) SPI_processed;
}

void
tz_outbox_renew(List *jobs, int lease_s)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[2] = {INT8ARRAYOID, INT4OID};
	Datum		values[2];
	Datum	   *ids;
	int			n = 0;
	ListCell   *lc;

	if (jobs == NIL)
		return;
	ids = palloc(sizeof(Datum) * list_length(jobs));
	foreach(lc, jobs)
		ids[n++] = Int64GetDatum(((TzJob *) lfirst(lc))->id);
	values[0] = PointerGetDatum(construct_array(ids, n, INT8OID, 8, FLOAT8PASSBYVAL,
												TYPALIGN_DOUBLE));
	values[1] = Int32GetDatum(lease_s);
	if (SPI_execute_plan(tz_kept_plan(&plan,
								  "UPDATE togai_zoho.outbox SET locked_until ="
								  " pg_catalog.clock_timestamp() + pg_catalog.make_interval(secs => $2)"
								  " WHERE id = ANY($1) AND state = 'running'"
								  "   AND locked_by = pg_catalog.pg_backend_pid()",
								  2, types),
						 values, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "togai_zoho: could not renew leases");
}

static Datum
text_or_null(const char *s, char *null_flag)
{
	if (s == NULL)
	{
		*null_flag = 'n';
		return (Datum) 0;
	}
	*null_flag = ' ';
	return CStringGetTextDatum(s);
}

/* The mappings the job made; true: a job waiting for one of them is due now. */
static bool
store_mappings(TzJob *job)
{
	static SPIPlanPtr mapping_plan = NULL;
	static SPIPlanPtr wake_plan = NULL;
	bool		due_now = false;
	ListCell   *lc;

	foreach(lc, job->mappings)
	{
		TzNewMapping *m = lfirst(lc);
		Oid			mtypes[6] = {TEXTOID, INT8OID, INT8OID, TEXTOID, TEXTOID, TEXTOID};
		Datum		mv[6];
		char		mn[6] = {' ', ' ', ' ', ' ', ' ', ' '};
		Oid			wtypes[1] = {TEXTOID};
		Datum		wv[1];

		mv[0] = CStringGetTextDatum(m->entity);
		mv[1] = Int64GetDatum(m->togai_connection_id);
		mv[2] = Int64GetDatum(m->zohobooks_connection_id);
		mv[3] = CStringGetTextDatum(m->togai_id);
		mv[4] = text_or_null(m->togai_customer_id, &mn[4]);
		mv[5] = CStringGetTextDatum(m->zohobooks_id);
		if (SPI_execute_plan(tz_kept_plan(&mapping_plan, mapping_sql, 6, mtypes), mv, mn, false, 0)
			!= SPI_OK_INSERT)
			elog(ERROR, "togai_zoho: could not store a mapping");
		if (strcmp(m->entity, "account") == 0)
		{
			wv[0] = CStringGetTextDatum(m->togai_id);
			if (SPI_execute_plan(tz_kept_plan(&wake_plan, wake_waiters_sql, 1, wtypes), wv, NULL,
								 false, 0) != SPI_OK_UPDATE)
				elog(ERROR, "togai_zoho: could not wake the jobs waiting for a mapping");
			due_now |= SPI_processed > 0;
		}
	}
	return due_now;
}

/* What the job learnt on its way: a currency id, invoices to mark sent, item ids, rates. */
static void
keep_learnt(TzJob *job)
{
	ListCell   *lc;

	if (job->currency_id)
	{
		static SPIPlanPtr currency_plan = NULL;

		keep_id(&currency_plan, currency_sql, job->currency_connection_id, job->currency_code,
				job->currency_id);
	}
	foreach(lc, job->unsent)
	{
		static SPIPlanPtr unsent_plan = NULL;
		TzUnsentInvoice *u = lfirst(lc);
		Oid			utypes[2] = {INT8OID, TEXTOID};
		Datum		uv[2] = {Int64GetDatum(u->connection_id), CStringGetTextDatum(u->invoice_id)};

		if (SPI_execute_plan(tz_kept_plan(&unsent_plan, unsent_sql, 2, utypes), uv, NULL, false, 0)
			!= SPI_OK_INSERT)
			elog(ERROR, "togai_zoho: could not queue invoice %s to be marked sent", u->invoice_id);
	}
	foreach(lc, job->items_learnt)
	{
		static SPIPlanPtr item_plan = NULL;
		TzLearntItem *it = lfirst(lc);

		keep_id(&item_plan, item_sql, it->connection_id, it->name, it->item_id);
	}
	foreach(lc, job->rates_learnt)
	{
		static SPIPlanPtr rate_plan = NULL;
		TzLearntRate *r = lfirst(lc);
		Oid			rtypes[5] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
		Datum		rv[5];
		char		rn[5] = {' ', ' ', ' ', ' ', ' '};

		rv[0] = Int64GetDatum(r->connection_id);
		rv[1] = CStringGetTextDatum(r->currency);
		rv[2] = CStringGetTextDatum(r->day);
		rv[3] = text_or_null(r->rate, &rn[3]);
		rv[4] = text_or_null(r->effective, &rn[4]);
		if (SPI_execute_plan(tz_kept_plan(&rate_plan, rate_sql, 5, rtypes), rv, rn, false, 0)
			!= SPI_OK_INSERT)
			elog(ERROR, "togai_zoho: could not keep the exchange rate of %s", r->currency);
	}
}

/* The attempt in outbox_attempt: who made it, how it ended, its calls. */
static void
log_attempt(TzJob *job, const char *who, const char *outcome)
{
	static SPIPlanPtr attempt_plan = NULL;
	Oid			atypes[9] = {INT8OID, INT4OID, INT4OID, TIMESTAMPTZOID, TEXTOID, INT4OID, INT4OID,
	TEXTOID, TEXTOID};
	Datum		av[9];
	char		an[9] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};

	av[0] = Int64GetDatum(job->id);
	av[1] = Int32GetDatum(job->attempts);
	av[2] = Int32GetDatum(job->current < job->nactions ?
						  job->actions[job->current].position : tz_job_step(job));
	av[3] = TimestampTzGetDatum(job->started_at);
	av[4] = CStringGetTextDatum(outcome);
	av[5] = Int32GetDatum((int32) job->http_status);
	if (job->http_status == 0)
		an[5] = 'n';
	av[6] = Int32GetDatum(job->requests);
	av[7] = text_or_null(job->error, &an[7]);
	av[8] = CStringGetTextDatum(who);
	if (SPI_execute_plan(tz_kept_plan(&attempt_plan, attempt_sql, 9, atypes), av, an, false, 0)
		!= SPI_OK_INSERT)
		elog(ERROR, "togai_zoho: could not log the attempt of job %lld", (long long) job->id);
}

/* The job's writes; runs inside the subtransaction. */
static bool
write_outcome(TzJob *job, const char *who)
{
	static SPIPlanPtr finish_plan = NULL;
	Oid			ftypes[9] = {INT8OID, TEXTOID, INT4OID, INT8OID, INT4OID, TEXTOID, JSONBOID,
	BOOLOID, TEXTOID};
	Datum		fv[9];
	char		fn[9] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	const char *outcome = tz_outcome_name(job->outcome);
	bool		due_now = store_mappings(job);

	keep_learnt(job);
	fv[0] = Int64GetDatum(job->id);
	fv[1] = CStringGetTextDatum(outcome);
	fv[2] = Int32GetDatum(tz_job_step(job));
	fv[3] = Int64GetDatum(job->delay_ms);
	fv[4] = Int32GetDatum((int32) job->http_status);
	if (job->http_status == 0)
		fn[4] = 'n';
	fv[5] = text_or_null(job->error, &fn[5]);
	appendStringInfoChar(&job->result, ']');
	if (job->result.len > 2)
		fv[6] = DirectFunctionCall1(jsonb_in, CStringGetDatum(job->result.data));
	else
		fn[6] = 'n';
	fv[7] = BoolGetDatum(job->may_exist || job->created_sent);
	fv[8] = text_or_null(job->waiting_for, &fn[8]);
	if (SPI_execute_plan(tz_kept_plan(&finish_plan, finish_sql, 9, ftypes), fv, fn, false, 0)
		!= SPI_OK_UPDATE_RETURNING)
		elog(ERROR, "togai_zoho: could not write the outcome of job %lld", (long long) job->id);
	if (SPI_processed == 0)
	{
		ereport(WARNING,
				(errmsg("togai_zoho: job %lld was taken back before its outcome was written",
						(long long) job->id),
				 errdetail("Its lease expired; it runs again and finds what this attempt made.")));
		return due_now;
	}
	due_now |= DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
										  &(bool) {false}));
	if (DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2,
								   &(bool) {false})) && strcmp(job->entity, "account") == 0)
		give_up_waiters(job);
	else if (job->waiting_for != NULL && job->outcome == TZ_OUTCOME_DEFERRED)
		due_now |= settle_waiting(job);

	/* a job sent back unsent (paced, or waiting for a mapping) made no attempt */
	if (job->requests == 0 &&
		(job->outcome == TZ_OUTCOME_THROTTLED || job->outcome == TZ_OUTCOME_DEFERRED))
		return due_now;
	log_attempt(job, who, outcome);
	return due_now;
}

/* Last resort when the outcome itself cannot be stored: the job dies, with why. */
static void
write_dead(TzJob *job, const char *why)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2] = {Int64GetDatum(job->id),
	CStringGetTextDatum(psprintf("the outcome could not be stored: %s", why))};

	SPI_execute_plan(tz_kept_plan(&plan, dead_fallback_sql, 2, types), values, NULL, false, 0);
}

bool
tz_outbox_finish(TzJob *job, const char *who)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool due_now = false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		due_now = write_outcome(job, who);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		ereport(WARNING,
				(errmsg("togai_zoho: could not store the outcome of job %lld: %s",
						(long long) job->id, edata->message)));

		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(cxt);
		PG_TRY();
		{
			write_dead(job, edata->message);
			ReleaseCurrentSubTransaction();
		}
		PG_CATCH();
		{
			FlushErrorState();
			RollbackAndReleaseCurrentSubTransaction();
		}
		PG_END_TRY();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_END_TRY();
	return due_now;
}

int
tz_outbox_cleanup(int ttl_s, int limit)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[2] = {TIMESTAMPTZOID, INT4OID};
	/* the cutoff as a value, so that it bounds the index scan */
	Datum		values[2] = {TimestampTzGetDatum(GetCurrentTimestamp() - (TimestampTz) ttl_s * USECS_PER_SEC),
	Int32GetDatum(limit)};

	if (SPI_execute_plan(tz_kept_plan(&plan,
								  "DELETE FROM togai_zoho.outbox WHERE id IN ("
								  " SELECT id FROM togai_zoho.outbox"
								  "  WHERE state = 'done' AND finished_at < $1"
								  "  ORDER BY finished_at LIMIT $2"
								  "  FOR UPDATE SKIP LOCKED)",
								  2, types),
						 values, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "togai_zoho: could not delete finished jobs");
	return (int) SPI_processed;
}

#define NEXT_WAKE_SQL(staged) \
"SELECT ceil(extract(epoch FROM least(" \
"  (SELECT min(due_at) FROM togai_zoho.outbox WHERE state = 'pending' AND due_at < 'infinity')," \
"  (SELECT min(locked_until) FROM togai_zoho.outbox WHERE state = 'running')," \
"  (SELECT min(finished_at) FROM togai_zoho.outbox WHERE state = 'done')" \
"    + pg_catalog.make_interval(secs => $1)" staged ")" \
"  - pg_catalog.clock_timestamp()) * 1000)::bigint"

int64
tz_outbox_next_wake_ms(int ttl_s)
{
	static SPIPlanPtr plans[2] = {NULL, NULL};
	bool		staging = tz_jobs_schema_current();
	bool		isnull;
	Datum		v;

	if (SPI_execute_plan(tz_kept_plan(&plans[staging],
								  staging ?
								  NEXT_WAKE_SQL(", (SELECT min(created_at) FROM togai_zoho.outbox_stage)") :
								  NEXT_WAKE_SQL(""),
								  1, (Oid[]) {INT4OID}),
						 (Datum[]) {Int32GetDatum(ttl_s)}, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "togai_zoho: could not read the next due time");
	v = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		return -1;
	return Max(DatumGetInt64(v), 0);
}
