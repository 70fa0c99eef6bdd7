/*-------------------------------------------------------------------------
 *
 * job_writer.c
 *	  The one writer of outbox jobs.
 *
 * Every job enters the outbox through one of the statements built here, so
 * that what a job is when written is decided once: its flow must exist, a
 * disabled flow's job waits (due at infinity, as set_flow_enabled() leaves
 * the ones already queued), and a job for an object that already has one
 * pending or running folds into it.  Folding keeps the payload of the later
 * change: changes are ordered by the outbox sequence (a direct write's own
 * id, a staged chunk's id, kept as payload_version), so a chunk written out
 * late never overwrites a job holding a later change, and a change arriving
 * while the job runs makes it run once more (rerun).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "utils/lsyscache.h"

#include "job_writer.h"
#include "kept_plan.h"
#include "togai_zoho.h"

/*
 * The columns every source yields, in this order.  The flow is looked up
 * for each job in the source's order (a lateral join kept a nested loop by
 * OFFSET 0): jobs get their ids
 * in the order of the changes.
 */
#define JOB_COLUMNS \
"flow_id, connection_id, entity, source_id, payload, coalesced, may_exist, version, created_at"

#define JOBS_FROM(source) \
"SELECT j.flow_id, j.connection_id, j.entity, j.source_id, j.payload, j.coalesced, j.may_exist," \
"       j.version, j.created_at," \
"       CASE WHEN f.enabled THEN j.created_at ELSE 'infinity'::timestamptz END" \
"  FROM (" source ") AS j (" JOB_COLUMNS ")" \
"  CROSS JOIN LATERAL (SELECT f.enabled FROM togai_zoho.flow f WHERE f.id = j.flow_id OFFSET 0) f "

/* One job: its flow read by its key, no subquery (the hot path of a single-row change). */
#define ONE_VALUES \
"SELECT $1::bigint, $2::bigint, $3::text, $4::text, $5::jsonb, $6::integer, $7::boolean, "
#define ONE_FROM \
" pg_catalog.now(), CASE WHEN f.enabled THEN pg_catalog.now() ELSE 'infinity'::timestamptz END" \
"  FROM togai_zoho.flow f WHERE f.id = $1 "

#define ARRAYS_SOURCE \
"SELECT r.*, $7::boolean, NULL::bigint, pg_catalog.now()" \
"  FROM ROWS FROM (pg_catalog.unnest($1::bigint[]), pg_catalog.unnest($2::bigint[])," \
"                  pg_catalog.unnest($3::text[]), pg_catalog.unnest($4::text[])," \
"                  pg_catalog.unnest($5::jsonb[]), pg_catalog.unnest($6::integer[])) AS r"

/* A change is newer than the job's payload when drawn later from the outbox sequence. */
#define NEWER \
"COALESCE(o.payload_version, o.id) < COALESCE(EXCLUDED.payload_version, EXCLUDED.id)"

#define JOBS_INSERT \
"INSERT INTO togai_zoho.outbox AS o (flow_id, connection_id, entity, source_id, payload," \
"  coalesced, may_exist, payload_version, created_at, due_at) "

#define JOBS_FOLD \
"ON CONFLICT (flow_id, entity, source_id) WHERE state IN ('pending', 'running') DO UPDATE SET" \
"  payload = CASE WHEN " NEWER " THEN EXCLUDED.payload ELSE o.payload END," \
"  connection_id = CASE WHEN " NEWER " THEN EXCLUDED.connection_id ELSE o.connection_id END," \
"  rerun = o.rerun OR (o.state = 'running' AND " NEWER ")," \
"  payload_version = GREATEST(COALESCE(o.payload_version, o.id)," \
"                            COALESCE(EXCLUDED.payload_version, EXCLUDED.id))," \
"  coalesced = o.coalesced + 1 + EXCLUDED.coalesced," \
"  may_exist = o.may_exist OR EXCLUDED.may_exist," \
"  updated_at = pg_catalog.clock_timestamp()"

/*
 * The oldest staged chunks holding about TZ_UNSTAGE_JOBS jobs (at least one
 * chunk), deleted as they are read, their repeats of one object folded into
 * the latest (the chunk other claimers hold are skipped).
 */
#define STAGED_SOURCE \
"SELECT DISTINCT ON (u.flow_id, u.entity, u.source_id) u.flow_id, u.connection_id, u.entity," \
"       u.source_id, u.payload::jsonb," \
"       (pg_catalog.count(*) OVER w - 1 + pg_catalog.sum(u.coalesced) OVER w)::integer, false," \
"       u.version, pg_catalog.min(u.created_at) OVER w" \
"  FROM (SELECT r.*, s.id AS version, s.created_at" \
"          FROM s, ROWS FROM (pg_catalog.unnest(s.flow_ids), pg_catalog.unnest(s.connection_ids)," \
"                             pg_catalog.unnest(s.entities), pg_catalog.unnest(s.source_ids)," \
"                             pg_catalog.unnest(s.payloads), pg_catalog.unnest(s.coalesced))" \
"               AS r (flow_id, connection_id, entity, source_id, payload, coalesced)) u" \
" WINDOW w AS (PARTITION BY u.flow_id, u.entity, u.source_id)" \
" ORDER BY u.flow_id, u.entity, u.source_id, u.version DESC"

static const char *const staged_sql =
"WITH c AS ("
"  SELECT id, jobs FROM togai_zoho.outbox_stage ORDER BY id LIMIT " CppAsString2(TZ_UNSTAGE_JOBS)
"   FOR UPDATE SKIP LOCKED),"
" s AS ("
"  DELETE FROM togai_zoho.outbox_stage WHERE id IN ("
"    SELECT id FROM (SELECT id, jobs, sum(jobs) OVER (ORDER BY id) AS upto FROM c) w"
"     WHERE upto - jobs < " CppAsString2(TZ_UNSTAGE_JOBS) ")"
"  RETURNING *),"
" written AS (" JOBS_INSERT JOBS_FROM(STAGED_SOURCE) JOBS_FOLD " RETURNING 1) "
"SELECT COALESCE(pg_catalog.sum(jobs), 0) FROM s";

static const char *const current_sql[] = {
	[TZ_JOBS_ONE] = JOBS_INSERT ONE_VALUES "NULL::bigint," ONE_FROM JOBS_FOLD,
	[TZ_JOBS_ARRAYS] = JOBS_INSERT JOBS_FROM(ARRAYS_SOURCE) JOBS_FOLD,
	[TZ_JOBS_STAGED] = staged_sql,
};

/* 0.1.0's outbox: no payload versions (a later write always wins), no stage. */
#define OLD_JOBS_INSERT \
"INSERT INTO togai_zoho.outbox AS o (flow_id, connection_id, entity, source_id, payload," \
"  coalesced, may_exist, created_at, due_at) "
#define OLD_JOBS_FROM(source) \
"SELECT j.flow_id, j.connection_id, j.entity, j.source_id, j.payload, j.coalesced, j.may_exist," \
"       j.created_at, CASE WHEN f.enabled THEN j.created_at ELSE 'infinity'::timestamptz END" \
"  FROM (" source ") AS j (" JOB_COLUMNS ")" \
"  CROSS JOIN LATERAL (SELECT f.enabled FROM togai_zoho.flow f WHERE f.id = j.flow_id OFFSET 0) f "
#define OLD_JOBS_FOLD \
"ON CONFLICT (flow_id, entity, source_id) WHERE state IN ('pending', 'running') DO UPDATE SET" \
"  payload = EXCLUDED.payload, connection_id = EXCLUDED.connection_id," \
"  rerun = o.rerun OR o.state = 'running', coalesced = o.coalesced + 1 + EXCLUDED.coalesced," \
"  may_exist = o.may_exist OR EXCLUDED.may_exist, updated_at = pg_catalog.clock_timestamp()"

static const char *const old_sql[] = {
	[TZ_JOBS_ONE] = OLD_JOBS_INSERT ONE_VALUES ONE_FROM OLD_JOBS_FOLD,
	[TZ_JOBS_ARRAYS] = OLD_JOBS_INSERT OLD_JOBS_FROM(ARRAYS_SOURCE) OLD_JOBS_FOLD,
	[TZ_JOBS_STAGED] = NULL,
};

static const Oid one_types[TZ_JOB_PARAMS] = {INT8OID, INT8OID, TEXTOID, TEXTOID, JSONBOID, INT4OID,
BOOLOID};
static const Oid array_types[TZ_JOB_PARAMS] = {INT8ARRAYOID, INT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
JSONBARRAYOID, INT4ARRAYOID, BOOLOID};

bool
tz_jobs_schema_current(void)
{
	Oid			schema = get_namespace_oid(TZ_SCHEMA, true);

	return OidIsValid(schema) && OidIsValid(get_relname_relid("outbox_stage", schema));
}

const Oid *
tz_jobs_param_types(TzJobSource source)
{
	return source == TZ_JOBS_ONE ? one_types : array_types;
}

SPIPlanPtr
tz_jobs_plan(TzJobSource source, bool current)
{
	static SPIPlanPtr plans[2][3];
	const char *sql = current ? current_sql[source] : old_sql[source];

	if (sql == NULL)
		elog(ERROR, "togai_zoho: the installed schema has no staged jobs");
	return tz_kept_generic_plan(&plans[current][source], sql,
								source == TZ_JOBS_STAGED ? 0 : TZ_JOB_PARAMS,
								(Oid *) tz_jobs_param_types(source));
}
