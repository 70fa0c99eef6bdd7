/*-------------------------------------------------------------------------
 *
 * identity_sql.c
 *	  cluster_identity(): what tells this copy of the data from another
 *	  (sql/install/identity.sql keeps and compares it).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xlog.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(cluster_identity);

/*
 * cluster_identity(OUT system_identifier text, OUT timeline int,
 *					OUT database_oid oid) returns record
 *
 * The timeline WAL is written on now (NULL on a standby): pg_control's
 * checkpoint keeps the old one until the first checkpoint after a promotion.
 */
Datum
cluster_identity(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "togai_zoho: cluster_identity() must return a record");
	values[0] = CStringGetTextDatum(psprintf(UINT64_FORMAT, GetSystemIdentifier()));
	if (RecoveryInProgress())
		nulls[1] = true;
	else
		values[1] = Int32GetDatum((int32) GetWALInsertionTimeLine());
	values[2] = ObjectIdGetDatum(MyDatabaseId);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}
