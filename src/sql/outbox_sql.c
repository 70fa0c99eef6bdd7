/*-------------------------------------------------------------------------
 *
 * outbox_sql.c
 *	  process_outbox(): the worker's delivery, run for the calling session;
 *	  notify_worker(): wake the worker when this transaction commits;
 *	  outbox_row_valid(): the outbox's check constraint;
 *	  write_jobs(): backfill()'s way into the job writer.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"

#include "delivery/session_helper.h"
#include "store/job_writer.h"
#include "delivery/outbox.h"
#include "shmem.h"

PG_FUNCTION_INFO_V1(process_outbox);
PG_FUNCTION_INFO_V1(write_jobs);

/* A copy of the data delivers nothing until told (sql/install/identity.sql). */
static void
check_not_held(void)
{
	char	   *held;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "togai_zoho: SPI_connect failed");
	held = tz_outbox_held();
	if (held)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("togai_zoho: delivery is held here: %s", held),
				 errdetail("The original may still be delivering the same jobs; nothing was sent."),
				 errhint("Once the original delivers no more, run SELECT togai_zoho.take_over_delivery();")));
	SPI_finish();
}

/*
 * process_outbox(max_jobs int) returns int
 *
 * max_jobs 0: writes the staged jobs to the outbox, in the caller's
 * transaction.  Otherwise delivers up to max_jobs due jobs (staged ones
 * written first) through a helper process, whose claims commit before their
 * calls are sent (session_helper.h); returns how many ended an attempt.  So
 * nothing this transaction can roll back records a request, and it must
 * hold no writes the helper could wait for, nor jobs the helper cannot see.
 */
Datum
process_outbox(PG_FUNCTION_ARGS)
{
	int			max_jobs;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("max_jobs must not be null")));
	max_jobs = PG_GETARG_INT32(0);
	if (max_jobs < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_jobs must not be negative")));
	if (max_jobs == 0)
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "togai_zoho: SPI_connect failed");
		while (tz_outbox_unstage())
			CHECK_FOR_INTERRUPTS();
		SPI_finish();
		/* jobs made due (staged ones written) are also the worker's */
		tz_wake_worker_at_commit();
		PG_RETURN_INT32(0);
	}
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("process_outbox() cannot deliver on a standby"),
				 errhint("Delivery runs on the primary; after a promotion the worker starts by itself.")));
	if (GetTopTransactionIdIfAny() != InvalidTransactionId)
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("process_outbox() must not follow writes in the same transaction"),
				 errdetail("Its deliveries commit on their own, each claim before its calls: they "
						   "cannot see what this transaction wrote, and could wait for rows it holds."),
				 errhint("Commit first, then call process_outbox(); process_outbox(0) only writes "
						 "staged jobs and may run anywhere.")));
	check_not_held();
	PG_RETURN_INT32(tz_deliver_in_helper(max_jobs));
}

PG_FUNCTION_INFO_V1(notify_worker);

/* notify_worker() returns void: wakes the worker at commit. */
Datum
notify_worker(PG_FUNCTION_ARGS)
{
	tz_wake_worker_at_commit();
	PG_RETURN_VOID();
}

/* The position of t in the NULL-ended list, or -1. */
static int
text_in(text *t, const char *const *list)
{
	size_t		len = VARSIZE_ANY_EXHDR(t);

	for (int i = 0; list[i]; i++)
		if (strlen(list[i]) == len && memcmp(list[i], VARDATA_ANY(t), len) == 0)
			return i;
	return -1;
}

PG_FUNCTION_INFO_V1(outbox_row_valid);

/*
 * outbox_row_valid(entity, state, step, attempts, coalesced, locked_until,
 * finished_at) returns boolean
 *
 * The outbox rows' rules in one check constraint that costs a statement
 * nothing to prepare (CHECK expressions are deserialized and planned by
 * every statement that writes a job; bench/bench_enqueue.py measures the
 * enqueue).  Nulls are NOT NULL's business.
 */
Datum
outbox_row_valid(PG_FUNCTION_ARGS)
{
	static const char *const entities[] = {"account", "invoice", "payment", "contact", NULL};
	static const char *const states[] = {"pending", "running", "done", "dead", NULL};
	enum
	{
		PENDING, RUNNING, DONE, DEAD
	};
	bool		ok = true;

	if (!PG_ARGISNULL(0))
		ok &= text_in(PG_GETARG_TEXT_PP(0), entities) >= 0;
	for (int k = 2; k <= 4; k++)
		if (!PG_ARGISNULL(k))
			ok &= PG_GETARG_INT32(k) >= (k == 2 ? 1 : 0);
	if (!PG_ARGISNULL(1))
	{
		int			state = text_in(PG_GETARG_TEXT_PP(1), states);

		/* a running job holds a lease, a finished one its end time, and no other */
		ok &= state >= 0;
		ok &= (state == RUNNING) == !PG_ARGISNULL(5);
		ok &= (state == DONE || state == DEAD) == !PG_ARGISNULL(6);
	}
	PG_RETURN_BOOL(ok);
}

/*
 * write_jobs(flow_id bigint, connection_id bigint, entities text[],
 *			  source_ids text[], payloads jsonb[], may_exist boolean) returns bigint
 *
 * Writes one job per element through the job writer (internal: backfill()
 * calls it a chunk at a time); returns how many were written or folded.
 */
Datum
write_jobs(PG_FUNCTION_ARGS)
{
	int			n;
	ArrayType  *entities;
	ArrayType  *source_ids;
	ArrayType  *payloads;
	Datum	   *flows;
	Datum	   *connections;
	Datum	   *zeros;
	Datum		values[TZ_JOB_PARAMS];
	int64		written;

	for (int i = 0; i < 6; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("write_jobs arguments must not be null")));
	entities = PG_GETARG_ARRAYTYPE_P(2);
	source_ids = PG_GETARG_ARRAYTYPE_P(3);
	payloads = PG_GETARG_ARRAYTYPE_P(4);
	n = ArrayGetNItems(ARR_NDIM(entities), ARR_DIMS(entities));
	if (n != ArrayGetNItems(ARR_NDIM(source_ids), ARR_DIMS(source_ids)) ||
		n != ArrayGetNItems(ARR_NDIM(payloads), ARR_DIMS(payloads)))
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("entities, source_ids and payloads must have as many elements")));
	if (n == 0)
		PG_RETURN_INT64(0);
	flows = palloc(sizeof(Datum) * n);
	connections = palloc(sizeof(Datum) * n);
	zeros = palloc(sizeof(Datum) * n);
	for (int i = 0; i < n; i++)
	{
		flows[i] = PG_GETARG_DATUM(0);
		connections[i] = PG_GETARG_DATUM(1);
		zeros[i] = Int32GetDatum(0);
	}
	values[0] = PointerGetDatum(construct_array(flows, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[1] = PointerGetDatum(construct_array(connections, n, INT8OID, 8, FLOAT8PASSBYVAL,
												TYPALIGN_DOUBLE));
	values[2] = PointerGetDatum(entities);
	values[3] = PointerGetDatum(source_ids);
	values[4] = PointerGetDatum(payloads);
	values[5] = PointerGetDatum(construct_array(zeros, n, INT4OID, 4, true, TYPALIGN_INT));
	values[6] = PG_GETARG_DATUM(5);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "togai_zoho: SPI_connect failed");
	if (SPI_execute_plan(tz_jobs_plan(TZ_JOBS_ARRAYS, tz_jobs_schema_current()), values, NULL, false, 0)
		!= SPI_OK_INSERT)
		elog(ERROR, "togai_zoho: could not write the jobs");
	written = (int64) SPI_processed;
	SPI_finish();
	tz_wake_worker_at_commit();
	PG_RETURN_INT64(written);
}
