/*-------------------------------------------------------------------------
 *
 * enqueue.c
 *	  The enqueue_sync() row trigger: turns a change to a source row into
 *	  outbox jobs for the enabled flows the change fires.
 *
 * Runs in the writer's transaction, so the job commits or rolls back with the
 * change.  A change that fires no flow costs a cache look-up and nothing
 * else.  A change that fires one stages its jobs: one outbox_stage row per
 * chunk of up to 1,000 jobs, payloads as json text, which the worker turns
 * into outbox jobs moments after the commit, folding repeats of the same
 * (flow, entity, source id) into one job (the job writer).  A staged row
 * has one index entry where a job row has three and a conflict check: the
 * writer pays for the first only (bench/bench_enqueue.py).
 *
 * With togai_zoho.stage_min_rows raised (or 0), smaller changes write their
 * outbox jobs directly, folding into the pending job for the same object.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "nodes/makefuncs.h"
#include "common/hashfn.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "access/xact.h"

#include "flow_cache.h"
#include "store/job_writer.h"
#include "row_json.h"
#include "settings.h"
#include "shmem.h"
#include "kept_plan.h"
#include "owner.h"
#include "enqueue.h"
#include "togai_zoho.h"

typedef enum SourceKind
{
	SOURCE_ACCOUNT,				/* Togai account rows (customers) */
	SOURCE_INVOICE,				/* Togai invoice rows (invoices) */
	SOURCE_PAYMENT,				/* Togai payment rows (payments) */
	SOURCE_INBOX				/* Zoho Books objects (inbox) */
} SourceKind;

/* Per kind: the entity of its jobs (NULL: the row's own "entity") and the column of its id. */
static const struct
{
	const char *entity;
	const char *id_column;
}			kinds[] = {
	[SOURCE_ACCOUNT] = {"account", "account_id"},
	[SOURCE_INVOICE] = {"invoice", "invoice_id"},
	[SOURCE_PAYMENT] = {"payment", "payment_id"},
	[SOURCE_INBOX] = {NULL, "remote_id"},
};

/* One changed row, as a row trigger or a statement trigger's transition table gives it. */
typedef struct Change
{
	Relation	rel;
	Trigger    *trigger;
	bool		inserted;
	HeapTuple	newtup;
	HeapTuple	oldtup;			/* updates only */
} Change;

#define MAX_FLOWS_PER_ROW 64
/* A statement's jobs go to the outbox in chunks of this many, to bound memory. */
#define JOBS_PER_CHUNK 10000
/*
 * Staged chunks are smaller: the worker writes about 1,000 staged jobs a
 * transaction, folding repeats with a sort, and a chunk is never split.
 */
#define STAGED_JOBS_PER_CHUNK 1000

/*
 * A large statement's jobs, staged (the worker writes them through the job
 * writer); chunk ids come from the outbox's sequence, to order payloads.
 */
static SPIPlanPtr stage_plan = NULL;
static const char *const stage_sql =
"INSERT INTO togai_zoho.outbox_stage (jobs, flow_ids, connection_ids, entities, source_ids, "
"payloads, coalesced) VALUES (pg_catalog.cardinality($1), $1, $2, $3, $4, $5, $6)";

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

static bool
status_is(const char *status, const char *value)
{
	return status != NULL && pg_strcasecmp(status, value) == 0;
}

/* Whether an optional column differs between the two versions of a row. */
static bool
column_changed(Relation rel, HeapTuple oldtup, HeapTuple newtup, const char *column)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			col = SPI_fnumber(desc, column);
	char	   *before;
	char	   *after;

	if (col <= 0)
		return false;
	before = SPI_getvalue(oldtup, desc, col);
	after = SPI_getvalue(newtup, desc, col);
	return (before == NULL) != (after == NULL) ||
		(before != NULL && strcmp(before, after) != 0);
}

/* Which catalogue triggers this change fires. */
static uint32
fired_triggers(SourceKind kind, const Change *c, const char *entity)
{
	bool		inserted = c->inserted;
	Relation	rel = c->rel;
	HeapTuple	newtup = c->newtup;
	char	   *status;
	char	   *old_status = NULL;
	uint32		fired = 0;

	switch (kind)
	{
		case SOURCE_ACCOUNT:
			return TZ_TRG_ACCOUNT_CHANGED |
				(inserted ? TZ_TRG_ACCOUNT_CREATED : TZ_TRG_ACCOUNT_UPDATED);

		case SOURCE_INVOICE:
			status = column_text(rel, newtup, "status", true);
			if (!inserted)
				old_status = column_text(rel, c->oldtup, "status", false);
			if (tz_invoice_is_generated(status) && (inserted || !tz_invoice_is_generated(old_status)))
				fired |= TZ_TRG_INVOICE_GENERATED;
			if (!inserted && status_is(status, "VOID") && !status_is(old_status, "VOID"))
				fired |= TZ_TRG_INVOICE_VOIDED;
			/* born written off or refunded too: its job waits for the invoice's */
			if (status_is(status, "UN_COLLECTIBLE") && !status_is(old_status, "UN_COLLECTIBLE"))
				fired |= TZ_TRG_INVOICE_WRITTEN_OFF;
			if (status_is(status, "REFUND_COMPLETED") && !status_is(old_status, "REFUND_COMPLETED"))
				fired |= TZ_TRG_INVOICE_REFUNDED;
			/* a generated invoice whose money changed (a charge added, finalized late) */
			if (!inserted && tz_invoice_is_generated(status) && tz_invoice_is_generated(old_status) &&
				(column_changed(rel, c->oldtup, newtup, "total_amount") ||
				 column_changed(rel, c->oldtup, newtup, "revenue_info")))
				fired |= TZ_TRG_INVOICE_UPDATED;
			return fired;

		case SOURCE_PAYMENT:
			/* a payment is a fact: only its arrival fires */
			return inserted ? TZ_TRG_PAYMENT_COLLECTED : 0;

		case SOURCE_INBOX:
			if (strcmp(entity, "payment") == 0)
				return inserted ? TZ_TRG_PAYMENT_RECORDED : 0;
			if (strcmp(entity, "contact") == 0)
				return TZ_TRG_CONTACT_UPDATED;
			if (strcmp(entity, "invoice") == 0)
			{
				status = column_text(rel, newtup, "status", false);
				if (!inserted)
					old_status = column_text(rel, c->oldtup, "status", false);
				if (status_is(status, "paid") && (inserted || !status_is(old_status, "paid")))
					return TZ_TRG_INVOICE_PAID;
			}
			return 0;
	}
	return 0;
}

/* The connection the row belongs to: named by the trigger, or its connection_id. */
static const TzConnection *
row_connection(const TzFlowCache *cache, const Change *c)
{
	Trigger    *trigger = c->trigger;
	Relation	rel = c->rel;
	HeapTuple	tuple = c->newtup;
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
				 errhint("EXECUTE FUNCTION togai_zoho.enqueue_sync('account', 'invoice' or 'payment', '<togai connection name>')")));
	if (strcmp(kind, "account") == 0)
		return SOURCE_ACCOUNT;
	if (strcmp(kind, "invoice") == 0)
		return SOURCE_INVOICE;
	if (strcmp(kind, "payment") == 0)
		return SOURCE_PAYMENT;
	if (strcmp(kind, "inbox") == 0)
		return SOURCE_INBOX;
	ereport(ERROR,
			(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
			 errmsg("trigger \"%s\" passes an unknown source kind \"%s\" to togai_zoho.enqueue_sync()",
					trigger->tgname, kind),
			 errhint("The kinds are 'account', 'invoice' and 'payment'.")));
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
	if (TRIGGER_FIRED_FOR_STATEMENT(td->tg_event) &&
		(!TRIGGER_FIRED_AFTER(td->tg_event) || !TRIGGER_FIRED_BY_INSERT(td->tg_event) ||
		 td->tg_newtable == NULL))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("togai_zoho.enqueue_sync() as a statement trigger must be AFTER INSERT ... REFERENCING NEW TABLE AS ... FOR EACH STATEMENT"),
				 errhint("Updates need a row trigger: AFTER UPDATE ... FOR EACH ROW.")));
	if (!TRIGGER_FIRED_AFTER(td->tg_event) ||
		!(TRIGGER_FIRED_BY_INSERT(td->tg_event) || TRIGGER_FIRED_BY_UPDATE(td->tg_event)))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("togai_zoho.enqueue_sync() must be an AFTER INSERT OR UPDATE ... FOR EACH ROW trigger")));
}

/*
 * The flows a change fires: their ids go to flow_ids, their number is
 * returned, and *connection_id, *entity and *source_id say what the jobs are
 * about.  A restored row fires nothing.
 */
static int
flows_fired(const TzFlowCache *cache, SourceKind kind, const Change *c, int64 *flow_ids,
			int64 *connection_id, const char **entity, const char **source_id)
{
	const TzConnection *conn;
	uint32		fired;
	int			nflows = 0;

	if (c->inserted && restored_row(c->rel, c->newtup, kind))
		return 0;

	conn = row_connection(cache, c);
	if ((kind == SOURCE_INBOX) != (conn->app == TZ_APP_ZOHOBOOKS))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("connection \"%s\" is a %s connection, but %s rows come from %s",
						conn->name, conn->app == TZ_APP_TOGAI ? "togai" : "zohobooks",
						kind == SOURCE_INBOX ? "inbox" : kinds[kind].entity,
						kind == SOURCE_INBOX ? "Zoho Books" : "Togai")));

	*entity = kinds[kind].entity ? kinds[kind].entity :
		column_text(c->rel, c->newtup, "entity", true);

	fired = fired_triggers(kind, c, *entity);
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
	if (nflows == 0)
		return 0;

	*connection_id = conn->id;
	*source_id = column_text(c->rel, c->newtup, kinds[kind].id_column, true);
	return nflows;
}

/* Runs an outbox insert as the extension's owner: the writer needs no rights on the outbox. */
static void
run_as_owner(const TzFlowCache *cache, SPIPlanPtr plan, Datum *values)
{
	TzAsOwner	saved;
	int			rc;

	tz_as_owner_begin(cache->owner, &saved);
	rc = SPI_execute_plan(plan, values, NULL, false, 0);
	tz_as_owner_end(&saved);

	if (rc != SPI_OK_INSERT)
		elog(ERROR, "togai_zoho: outbox insert failed: %s", SPI_result_code_string(rc));
}

/* One job of a batch. */
typedef struct BatchJob
{
	int64		flow_id;
	int64		connection_id;
	const char *entity;
	const char *source_id;
	Datum		payload;
	int32		coalesced;
} BatchJob;

/* The jobs of a row or a statement, gathered before they go to the outbox together. */
typedef struct JobBatch
{
	int			n;
	int			size;			/* of jobs: grown as needed, up to JOBS_PER_CHUNK */
	BatchJob   *jobs;
	HTAB	   *seen;			/* job key hash -> position, for folding repeats */
	MemoryContext cxt;			/* where the jobs' values live until the next flush */
	bool		staged;			/* to outbox_stage, payloads as json */
	TzRowJson  *row_json;		/* the rows' payloads if staged */
	FmgrInfo	to_jsonb;		/* or else */
} JobBatch;

typedef struct SeenJob
{
	uint64		key;
	int			position;
} SeenJob;

static uint64
job_key(int64 flow_id, const char *entity, const char *source_id)
{
	uint64		h = hash_bytes_uint32_extended((uint32) flow_id, (uint64) (flow_id >> 32));

	h = hash_bytes_extended((const unsigned char *) entity, strlen(entity), h);
	return hash_bytes_extended((const unsigned char *) source_id, strlen(source_id) + 1, h);
}

/*
 * Adds a job, or folds it into the same object's job earlier in the batch: the
 * later row wins and the fold is counted.  (Two different jobs with the same
 * 64-bit key would be two jobs; should both repeat, the insert fails loudly.)
 */
static void
add_job(JobBatch *b, int64 flow_id, int64 connection_id, const char *entity, const char *source_id,
		Datum payload)
{
	uint64		key = job_key(flow_id, entity, source_id);
	bool		found = false;
	SeenJob    *seen = NULL;
	BatchJob   *job;

	/* the first job cannot repeat: a row's jobs need no table */
	if (b->seen == NULL && b->n > 0)
	{
		HASHCTL		ctl = {.keysize = sizeof(uint64), .entrysize = sizeof(SeenJob), .hcxt = b->cxt};

		b->seen = hash_create("togai_zoho enqueued jobs", 64, &ctl,
							  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		for (int i = 0; i < b->n; i++)
		{
			BatchJob   *j = &b->jobs[i];
			uint64		k = job_key(j->flow_id, j->entity, j->source_id);

			seen = hash_search(b->seen, &k, HASH_ENTER, &found);
			if (!found)
				seen->position = i;
		}
	}
	if (b->seen != NULL)
		seen = hash_search(b->seen, &key, HASH_ENTER, &found);
	job = found ? &b->jobs[seen->position] : NULL;
	if (job && job->flow_id == flow_id && strcmp(job->entity, entity) == 0 &&
		strcmp(job->source_id, source_id) == 0)
		job->coalesced++;
	else
	{
		if (b->n == b->size)
		{
			/* a one-row statement should not pay for a 10,000-job chunk */
			b->size = Min(b->size * 4, JOBS_PER_CHUNK);
			b->jobs = repalloc(b->jobs, sizeof(BatchJob) * b->size);
		}
		if (seen && !found)
			seen->position = b->n;
		job = &b->jobs[b->n++];
		job->flow_id = flow_id;
		job->entity = entity;
		job->source_id = source_id;
		job->coalesced = 0;
	}
	job->connection_id = connection_id;
	job->payload = payload;
}

/* Sends the batch to the outbox and starts the next one. */
static void
flush_batch(const TzFlowCache *cache, JobBatch *b)
{
	Oid			types[6] = {INT8ARRAYOID, INT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
	b->staged ? JSONARRAYOID : JSONBARRAYOID, INT4ARRAYOID};
	Datum		values[TZ_JOB_PARAMS];
	MemoryContext old = MemoryContextSwitchTo(b->cxt);

	if (b->n == 1 && !b->staged)
	{
		BatchJob   *job = &b->jobs[0];

		values[0] = Int64GetDatum(job->flow_id);
		values[1] = Int64GetDatum(job->connection_id);
		values[2] = CStringGetTextDatum(job->entity);
		values[3] = CStringGetTextDatum(job->source_id);
		values[4] = job->payload;
		values[5] = Int32GetDatum(job->coalesced);
		values[6] = BoolGetDatum(false);
		run_as_owner(cache, tz_jobs_plan(TZ_JOBS_ONE, cache->staging), values);
	}
	else if (b->n > 0)
	{
		Datum	   *cols[6];

		for (int k = 0; k < 6; k++)
			cols[k] = palloc(sizeof(Datum) * b->n);
		for (int i = 0; i < b->n; i++)
		{
			BatchJob   *job = &b->jobs[i];

			cols[0][i] = Int64GetDatum(job->flow_id);
			cols[1][i] = Int64GetDatum(job->connection_id);
			cols[2][i] = CStringGetTextDatum(job->entity);
			cols[3][i] = CStringGetTextDatum(job->source_id);
			cols[4][i] = job->payload;
			cols[5][i] = Int32GetDatum(job->coalesced);
		}
		values[0] = PointerGetDatum(construct_array(cols[0], b->n, INT8OID, 8, FLOAT8PASSBYVAL,
													TYPALIGN_DOUBLE));
		values[1] = PointerGetDatum(construct_array(cols[1], b->n, INT8OID, 8, FLOAT8PASSBYVAL,
													TYPALIGN_DOUBLE));
		values[2] = PointerGetDatum(construct_array(cols[2], b->n, TEXTOID, -1, false, TYPALIGN_INT));
		values[3] = PointerGetDatum(construct_array(cols[3], b->n, TEXTOID, -1, false, TYPALIGN_INT));
		values[4] = PointerGetDatum(construct_array(cols[4], b->n, b->staged ? JSONOID : JSONBOID,
													-1, false, TYPALIGN_INT));
		values[5] = PointerGetDatum(construct_array(cols[5], b->n, INT4OID, 4, true, TYPALIGN_INT));
		values[6] = BoolGetDatum(false);
		run_as_owner(cache, b->staged ? tz_kept_generic_plan(&stage_plan, stage_sql, 6, types) :
					 tz_jobs_plan(TZ_JOBS_ARRAYS, cache->staging), values);
	}
	MemoryContextSwitchTo(old);
	b->n = 0;
	b->seen = NULL;
	MemoryContextReset(b->cxt);
}

/*
 * to_jsonb() of the table's rows, called from C: it learns the argument's
 * type from its call expression, so it gets one naming the row type.
 */
static void
init_to_jsonb(FmgrInfo *flinfo, Relation rel)
{
	fmgr_info(F_TO_JSONB, flinfo);
	flinfo->fn_expr = (Node *) makeFuncExpr(F_TO_JSONB, JSONBOID,
											list_make1(makeNullConst(RelationGetDescr(rel)->tdtypeid,
																	 -1, InvalidOid)),
											InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
}

/*
 * An empty batch for the rows of one trigger call.  Staged payloads are json
 * text, a fraction of to_jsonb()'s cost to the writer; the worker makes them
 * jsonb when it writes the jobs.
 */
static JobBatch *
begin_batch(Relation rel, bool staged)
{
	JobBatch   *b = palloc0(sizeof(JobBatch));

	b->size = 16;
	b->jobs = palloc(sizeof(BatchJob) * b->size);
	b->cxt = AllocSetContextCreate(CurrentMemoryContext, "togai_zoho enqueue", ALLOCSET_DEFAULT_SIZES);
	b->staged = staged;
	if (staged)
		b->row_json = tz_row_json_begin(RelationGetDescr(rel));
	else
		init_to_jsonb(&b->to_jsonb, rel);
	return b;
}

/* Whether the batch must go before another row's jobs join it. */
static bool
batch_full(const JobBatch *b)
{
	return b->n > (b->staged ? STAGED_JOBS_PER_CHUNK : JOBS_PER_CHUNK) - MAX_FLOWS_PER_ROW;
}

/* Whether a change of this many rows stages its jobs (togai_zoho.stage_min_rows). */
static bool
stages(const TzFlowCache *cache, int64 rows)
{
	return cache->staging && tz_stage_min_rows > 0 && rows >= tz_stage_min_rows;
}

/* Gathers the jobs of one changed row, into *b (begun on the first job). */
static bool
add_row(JobBatch **b, const TzFlowCache *cache, SourceKind kind, const Change *c)
{
	int64		flow_ids[MAX_FLOWS_PER_ROW];
	int64		connection_id;
	const char *entity;
	const char *source_id;
	int			nflows = flows_fired(cache, kind, c, flow_ids, &connection_id, &entity, &source_id);
	Datum		payload;
	MemoryContext old;

	if (nflows == 0)
		return false;
	if (*b == NULL)
		*b = begin_batch(c->rel, stages(cache, 1));
	/* what the jobs keep goes to the batch; the rest stays in the caller's context */
	old = MemoryContextSwitchTo((*b)->cxt);
	entity = pstrdup(entity);
	source_id = pstrdup(source_id);
	payload = (*b)->staged ? tz_row_json((*b)->row_json, c->newtup) :
		FunctionCall1(&(*b)->to_jsonb, heap_copy_tuple_as_datum(c->newtup, RelationGetDescr(c->rel)));
	for (int i = 0; i < nflows; i++)
		add_job(*b, flow_ids[i], connection_id, entity, source_id, payload);
	MemoryContextSwitchTo(old);
	return true;
}

static void
end_batch(const TzFlowCache *cache, JobBatch *b)
{
	if (b == NULL)
		return;
	flush_batch(cache, b);
	MemoryContextDelete(b->cxt);
}

/*
 * A statement trigger: every inserted row of the statement, from its
 * transition table, in one outbox (or outbox_stage) insert per chunk instead
 * of one per row.
 */
static bool
enqueue_statement(const TzFlowCache *cache, SourceKind kind, TriggerData *td)
{
	Relation	rel = td->tg_relation;
	TupleTableSlot *slot = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsMinimalTuple);
	MemoryContext outer = CurrentMemoryContext;
	JobBatch   *batch = begin_batch(rel, stages(cache, tuplestore_tuple_count(td->tg_newtable)));
	MemoryContext row_cxt = AllocSetContextCreate(outer, "togai_zoho enqueue row",
												  ALLOCSET_DEFAULT_SIZES);
	bool		any = false;

	tuplestore_rescan(td->tg_newtable);
	/* fetched in the outer context: a tuple read back from disk belongs to the slot */
	while (tuplestore_gettupleslot(td->tg_newtable, true, false, slot))
	{
		Change		c;

		if (batch_full(batch))
			flush_batch(cache, batch);
		MemoryContextReset(row_cxt);
		MemoryContextSwitchTo(row_cxt);
		c = (Change) {rel, td->tg_trigger, true, ExecFetchSlotHeapTuple(slot, false, NULL), NULL};
		any |= add_row(&batch, cache, kind, &c);
		MemoryContextSwitchTo(outer);
	}
	MemoryContextDelete(row_cxt);
	end_batch(cache, batch);
	ExecDropSingleTupleTableSlot(slot);
	return any;
}

/*
 * A statement's row triggers fire one after another when it finishes
 * (ExecutorFinish).  Around every statement a frame gathers the staged jobs
 * of those calls, and they are staged when its ExecutorFinish returns, a
 * chunk per 1,000 jobs instead of a staged row per changed row.  A call with
 * no frame around it (the statement that loaded the library, a deferred
 * trigger at commit, one in a subtransaction the statement did not start in)
 * stages its own jobs.  Frames nest with the statements that triggers run;
 * each stages its jobs before its statement returns.
 */
typedef struct StatementFrame
{
	QueryDesc  *query;
	SubTransactionId subxact;	/* the statement's: a call in another one stages alone */
	Oid			relid;			/* the batch's rows come from this table */
	JobBatch   *batch;			/* in cxt */
	MemoryContext cxt;			/* in the statement's memory; emptied for another table */
	struct StatementFrame *outer;
} StatementFrame;

static StatementFrame *current_frame = NULL;
static ExecutorFinish_hook_type prev_executor_finish = NULL;

static void
stage_frame_batch(StatementFrame *frame)
{
	if (frame->batch == NULL)
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "togai_zoho: SPI_connect failed");
	end_batch(tz_flow_cache_get(), frame->batch);
	SPI_finish();
	frame->batch = NULL;
}

static void
enqueue_executor_finish(QueryDesc *query)
{
	StatementFrame frame = {query, GetCurrentSubTransactionId(), InvalidOid, NULL, NULL, current_frame};

	current_frame = &frame;
	PG_TRY();
	{
		if (prev_executor_finish)
			prev_executor_finish(query);
		else
			standard_ExecutorFinish(query);
		stage_frame_batch(&frame);
	}
	PG_FINALLY();
	{
		/* on error the batch goes with the statement's memory */
		current_frame = frame.outer;
	}
	PG_END_TRY();
}

void
tz_enqueue_init(void)
{
	prev_executor_finish = ExecutorFinish_hook;
	ExecutorFinish_hook = enqueue_executor_finish;
}

/* A row trigger: one changed row, staged with its statement's other rows where it can. */
static bool
enqueue_row(const TzFlowCache *cache, SourceKind kind, TriggerData *td)
{
	bool		inserted = TRIGGER_FIRED_BY_INSERT(td->tg_event);
	Change		c = {td->tg_relation, td->tg_trigger, inserted,
		inserted ? td->tg_trigtuple : td->tg_newtuple, inserted ? NULL : td->tg_trigtuple};
	StatementFrame *frame = current_frame;
	JobBatch   *batch = NULL;
	bool		any;
	MemoryContext old;

	if (frame == NULL || frame->subxact != GetCurrentSubTransactionId() || !stages(cache, 1))
	{
		any = add_row(&batch, cache, kind, &c);
		end_batch(cache, batch);
		return any;
	}
	if (frame->batch != NULL && frame->relid != RelationGetRelid(c.rel))
	{
		/* a row of another partition: its columns differ */
		end_batch(cache, frame->batch);
		frame->batch = NULL;
		MemoryContextReset(frame->cxt);
	}
	else if (frame->batch != NULL && batch_full(frame->batch))
		flush_batch(cache, frame->batch);
	if (frame->batch == NULL)
	{
		if (frame->cxt == NULL)
			frame->cxt = AllocSetContextCreate(frame->query->estate->es_query_cxt,
											   "togai_zoho statement jobs", ALLOCSET_DEFAULT_SIZES);
		old = MemoryContextSwitchTo(frame->cxt);
		frame->batch = begin_batch(c.rel, true);
		frame->relid = RelationGetRelid(c.rel);
		MemoryContextSwitchTo(old);
	}
	return add_row(&frame->batch, cache, kind, &c);
}

Datum
tz_enqueue_sync(FunctionCallInfo fcinfo)
{
	TriggerData *td;
	SourceKind	kind;
	const TzFlowCache *cache;
	bool		statement;

	check_trigger_protocol(fcinfo);
	td = (TriggerData *) fcinfo->context;
	kind = source_kind(td);
	statement = TRIGGER_FIRED_FOR_STATEMENT(td->tg_event);

	/* An update that changes nothing (a repeated poll) fires nothing. */
	if (!statement && TRIGGER_FIRED_BY_UPDATE(td->tg_event) &&
		rows_equal(td->tg_trigtuple, td->tg_newtuple, RelationGetDescr(td->tg_relation)))
		return PointerGetDatum(NULL);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "togai_zoho: SPI_connect failed");

	cache = tz_flow_cache_get();
	if (cache->nflows > 0 &&
		(statement ? enqueue_statement(cache, kind, td) : enqueue_row(cache, kind, td)))
		tz_wake_worker_at_commit();

	SPI_finish();
	return PointerGetDatum(NULL);
}
