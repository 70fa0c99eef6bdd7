/*-------------------------------------------------------------------------
 *
 * enqueue.c
 *	  The enqueue_sync() row trigger: turns a change to a source row into
 *	  outbox jobs for the enabled flows the change fires.
 *
 * Runs in the writer's transaction, so the job commits or rolls back with the
 * change.  A change that fires no flow costs a cache look-up and nothing
 * else; a change that fires one writes one outbox row, or folds into the
 * pending job for the same (flow, entity, source id).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "access/xact.h"

#include "flow_cache.h"
#include "shmem.h"
#include "togai_zoho.h"

typedef enum SourceKind
{
	SOURCE_ACCOUNT,				/* Togai account rows (customers) */
	SOURCE_INVOICE,				/* Togai invoice rows (invoices) */
	SOURCE_INBOX				/* Zoho Books objects (inbox) */
} SourceKind;

#define MAX_FLOWS_PER_ROW 64

static SPIPlanPtr insert_plan = NULL;

static const char *const insert_sql =
"INSERT INTO togai_zoho.outbox AS o (flow_id, connection_id, entity, source_id, payload) "
"SELECT f, $2, $3, $4, pg_catalog.to_jsonb($5) FROM pg_catalog.unnest($1) AS f "
"ON CONFLICT (flow_id, entity, source_id) WHERE state IN ('pending', 'running') "
"DO UPDATE SET payload = EXCLUDED.payload, connection_id = EXCLUDED.connection_id, "
"coalesced = o.coalesced + 1, rerun = o.rerun OR o.state = 'running', "
"updated_at = pg_catalog.now()";

/* Whether every column of the two row versions is the same, byte for byte. */
static bool
rows_equal(HeapTuple a, HeapTuple b, TupleDesc desc)
{
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		bool		anull,
					bnull;
		Datum		ad,
					bd;

		if (att->attisdropped)
			continue;
		ad = heap_getattr(a, i + 1, desc, &anull);
		bd = heap_getattr(b, i + 1, desc, &bnull);
		if (anull != bnull)
			return false;
		if (!anull && !datum_image_eq(ad, bd, att->attbyval, att->attlen))
			return false;
	}
	return true;
}

/* The column's value as text (NULL if null); an error if the table lacks it. */
static char *
column_text(Relation rel, HeapTuple tuple, const char *column, bool required)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			col = SPI_fnumber(desc, column);
	char	   *value;

	if (col <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("table \"%s\" has no column \"%s\", which togai_zoho.enqueue_sync() reads",
						RelationGetRelationName(rel), column),
				 errhint("Name the columns as in togai_zoho.customers and togai_zoho.invoices.")));
	value = SPI_getvalue(tuple, desc, col);
	if (value == NULL && required)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("column \"%s\" of table \"%s\" must not be null for togai_zoho.enqueue_sync()",
						column, RelationGetRelationName(rel))));
	return value;
}

/*
 * Whether an inserted row was mirrored before this transaction began: a row
 * that pg_dump wrote out and a restore loads again, with its outbox jobs
 * loaded beside it.  Its mirrored_at (received_at in the inbox) says so; a
 * new row takes the default, now().  Tables without the column are never
 * restores.
 */
static bool
restored_row(Relation rel, HeapTuple tuple, SourceKind kind)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			col = SPI_fnumber(desc, kind == SOURCE_INBOX ? "received_at" : "mirrored_at");
	bool		isnull;
	Datum		value;

	if (col <= 0 || TupleDescAttr(desc, col - 1)->atttypid != TIMESTAMPTZOID)
		return false;
	value = SPI_getbinval(tuple, desc, col, &isnull);
	return !isnull && DatumGetTimestampTz(value) < GetCurrentTransactionStartTimestamp();
}

/* Togai invoice statuses that mean "generated": left DRAFT, not voided or merged. */
static bool
invoice_generated(const char *status)
{
	return status != NULL &&
		pg_strcasecmp(status, "DRAFT") != 0 &&
		pg_strcasecmp(status, "VOID") != 0 &&
		pg_strcasecmp(status, "MERGED") != 0;
}

static bool
status_is(const char *status, const char *value)
{
	return status != NULL && pg_strcasecmp(status, value) == 0;
}

/* Which catalogue triggers this change fires. */
static uint32
fired_triggers(SourceKind kind, TriggerData *td, const char *entity)
{
	bool		inserted = TRIGGER_FIRED_BY_INSERT(td->tg_event);
	Relation	rel = td->tg_relation;
	HeapTuple	newtup = inserted ? td->tg_trigtuple : td->tg_newtuple;
	char	   *status;
	char	   *old_status = NULL;

	switch (kind)
	{
		case SOURCE_ACCOUNT:
			return TZ_TRG_ACCOUNT_CHANGED |
				(inserted ? TZ_TRG_ACCOUNT_CREATED : TZ_TRG_ACCOUNT_UPDATED);

		case SOURCE_INVOICE:
			status = column_text(rel, newtup, "status", true);
			if (!inserted)
				old_status = column_text(rel, td->tg_trigtuple, "status", false);
			if (invoice_generated(status) && (inserted || !invoice_generated(old_status)))
				return TZ_TRG_INVOICE_GENERATED;
			if (!inserted && status_is(status, "VOID") && !status_is(old_status, "VOID"))
				return TZ_TRG_INVOICE_VOIDED;
			return 0;

		case SOURCE_INBOX:
			if (strcmp(entity, "payment") == 0)
				return inserted ? TZ_TRG_PAYMENT_RECORDED : 0;
			if (strcmp(entity, "contact") == 0)
				return TZ_TRG_CONTACT_UPDATED;
			if (strcmp(entity, "invoice") == 0)
			{
				status = column_text(rel, newtup, "status", false);
				if (!inserted)
					old_status = column_text(rel, td->tg_trigtuple, "status", false);
				if (status_is(status, "paid") && (inserted || !status_is(old_status, "paid")))
					return TZ_TRG_INVOICE_PAID;
			}
			return 0;
	}
	return 0;
}

/* The connection the row belongs to: named by the trigger, or its connection_id. */
static const TzConnection *
row_connection(const TzFlowCache *cache, TriggerData *td, HeapTuple tuple)
{
	Trigger    *trigger = td->tg_trigger;
	Relation	rel = td->tg_relation;
	const TzConnection *conn;

	if (trigger->tgnargs >= 2)
	{
		conn = tz_connection_by_name(cache, trigger->tgargs[1]);
		if (conn == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("connection \"%s\" named by trigger \"%s\" on table \"%s\" does not exist",
							trigger->tgargs[1], trigger->tgname, RelationGetRelationName(rel)),
					 errhint("See togai_zoho.connections for the existing connections.")));
	}
	else
	{
		char	   *id = column_text(rel, tuple, "connection_id", true);

		conn = tz_connection_by_id(cache, pg_strtoint64(id));
		if (conn == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("connection %s of a row of table \"%s\" does not exist",
							id, RelationGetRelationName(rel))));
	}
	return conn;
}

static SourceKind
source_kind(TriggerData *td)
{
	Trigger    *trigger = td->tg_trigger;
	const char *kind = trigger->tgnargs > 0 ? trigger->tgargs[0] : NULL;

	if (kind == NULL || trigger->tgnargs > 2)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" must pass togai_zoho.enqueue_sync() one or two arguments",
						trigger->tgname),
				 errhint("EXECUTE FUNCTION togai_zoho.enqueue_sync('account' or 'invoice', '<togai connection name>')")));
	if (strcmp(kind, "account") == 0)
		return SOURCE_ACCOUNT;
	if (strcmp(kind, "invoice") == 0)
		return SOURCE_INVOICE;
	if (strcmp(kind, "inbox") == 0)
		return SOURCE_INBOX;
	ereport(ERROR,
			(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
			 errmsg("trigger \"%s\" passes an unknown source kind \"%s\" to togai_zoho.enqueue_sync()",
					trigger->tgname, kind),
			 errhint("The kinds are 'account' and 'invoice'.")));
	pg_unreachable();
}

static void
check_trigger_protocol(FunctionCallInfo fcinfo)
{
	TriggerData *td;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("togai_zoho.enqueue_sync() must be called as a trigger")));
	td = (TriggerData *) fcinfo->context;
	if (!TRIGGER_FIRED_AFTER(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		!(TRIGGER_FIRED_BY_INSERT(td->tg_event) || TRIGGER_FIRED_BY_UPDATE(td->tg_event)))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("togai_zoho.enqueue_sync() must be an AFTER INSERT OR UPDATE ... FOR EACH ROW trigger")));
}

/* Writes (or refreshes) the pending jobs, as the extension's owner. */
static void
insert_jobs(const TzFlowCache *cache, int64 *flow_ids, int nflows, int64 connection_id,
			const char *entity, const char *source_id, TriggerData *td, HeapTuple tuple)
{
	Datum		values[5];
	Datum	   *ids = palloc(sizeof(Datum) * nflows);
	Oid			save_userid;
	int			save_sec;
	int			rc;

	if (insert_plan == NULL)
	{
		Oid			types[5] = {INT8ARRAYOID, INT8OID, TEXTOID, TEXTOID, RECORDOID};
		SPIPlanPtr	plan = SPI_prepare(insert_sql, 5, types);

		if (plan == NULL)
			elog(ERROR, "togai_zoho: could not prepare outbox insert: %s",
				 SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		insert_plan = plan;
	}

	for (int i = 0; i < nflows; i++)
		ids[i] = Int64GetDatum(flow_ids[i]);
	values[0] = PointerGetDatum(construct_array(ids, nflows, INT8OID, 8, FLOAT8PASSBYVAL,
												TYPALIGN_DOUBLE));
	values[1] = Int64GetDatum(connection_id);
	values[2] = CStringGetTextDatum(entity);
	values[3] = CStringGetTextDatum(source_id);
	values[4] = heap_copy_tuple_as_datum(tuple, RelationGetDescr(td->tg_relation));

	/* The writer needs no rights on the outbox: the extension writes it. */
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(cache->owner, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	rc = SPI_execute_plan(insert_plan, values, NULL, false, 0);
	SetUserIdAndSecContext(save_userid, save_sec);

	if (rc != SPI_OK_INSERT)
		elog(ERROR, "togai_zoho: outbox insert failed: %s", SPI_result_code_string(rc));
}

PG_FUNCTION_INFO_V1(enqueue_sync);

Datum
enqueue_sync(PG_FUNCTION_ARGS)
{
	TriggerData *td;
	SourceKind	kind;
	HeapTuple	newtup;
	const TzFlowCache *cache;
	const TzConnection *conn;
	const char *entity;
	uint32		fired;
	int64		flow_ids[MAX_FLOWS_PER_ROW];
	int			nflows = 0;

	check_trigger_protocol(fcinfo);
	td = (TriggerData *) fcinfo->context;
	kind = source_kind(td);
	newtup = TRIGGER_FIRED_BY_INSERT(td->tg_event) ? td->tg_trigtuple : td->tg_newtuple;

	/* An update that changes nothing (a repeated poll) fires nothing. */
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event) &&
		rows_equal(td->tg_trigtuple, newtup, RelationGetDescr(td->tg_relation)))
		return PointerGetDatum(NULL);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "togai_zoho: SPI_connect failed");

	cache = tz_flow_cache_get();
	if (cache->nflows == 0)
	{
		SPI_finish();
		return PointerGetDatum(NULL);
	}

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event) && restored_row(td->tg_relation, newtup, kind))
	{
		SPI_finish();
		return PointerGetDatum(NULL);
	}

	conn = row_connection(cache, td, newtup);
	if ((kind == SOURCE_INBOX) != (conn->app == TZ_APP_ZOHOBOOKS))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("connection \"%s\" is a %s connection, but %s rows come from %s",
						conn->name, conn->app == TZ_APP_TOGAI ? "togai" : "zohobooks",
						kind == SOURCE_INBOX ? "inbox" : (kind == SOURCE_ACCOUNT ? "account" : "invoice"),
						kind == SOURCE_INBOX ? "Zoho Books" : "Togai")));

	switch (kind)
	{
		case SOURCE_ACCOUNT:
			entity = "account";
			break;
		case SOURCE_INVOICE:
			entity = "invoice";
			break;
		default:
			entity = column_text(td->tg_relation, newtup, "entity", true);
			break;
	}

	fired = fired_triggers(kind, td, entity);
	for (int i = 0; i < cache->nflows && fired != 0; i++)
	{
		const TzFlow *flow = &cache->flows[i];

		if (flow->connection_id != conn->id || (flow->trigger & fired) == 0)
			continue;
		if (nflows == MAX_FLOWS_PER_ROW)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("more than %d enabled flows fire on one change", MAX_FLOWS_PER_ROW)));
		flow_ids[nflows++] = flow->id;
	}

	if (nflows > 0)
	{
		const char *source_id;

		switch (kind)
		{
			case SOURCE_ACCOUNT:
				source_id = column_text(td->tg_relation, newtup, "account_id", true);
				break;
			case SOURCE_INVOICE:
				source_id = column_text(td->tg_relation, newtup, "invoice_id", true);
				break;
			default:
				source_id = column_text(td->tg_relation, newtup, "remote_id", true);
				break;
		}
		insert_jobs(cache, flow_ids, nflows, conn->id, entity, source_id, td, newtup);
		tz_wake_worker_at_commit();
	}

	SPI_finish();
	return PointerGetDatum(NULL);
}
