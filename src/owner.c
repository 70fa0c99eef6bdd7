/*-------------------------------------------------------------------------
 *
 * owner.c
 *	  Running as the extension's owner.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "owner.h"
#include "togai_zoho.h"

Oid
tz_extension_relid(const char *relname)
{
	Oid			nsp = get_namespace_oid(TZ_SCHEMA, true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid(relname, nsp) : InvalidOid;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table togai_zoho.%s does not exist", relname),
				 errhint("Run CREATE EXTENSION togai_zoho in this database.")));
	return relid;
}

Oid
tz_extension_owner(void)
{
	Oid			relid = tz_extension_relid("flow");
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "togai_zoho: cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

void
tz_as_owner_begin(Oid owner, TzAsOwner *saved)
{
	GetUserIdAndSecContext(&saved->userid, &saved->sec_context);
	SetUserIdAndSecContext(owner, saved->sec_context | SECURITY_LOCAL_USERID_CHANGE);
}

void
tz_as_owner_end(const TzAsOwner *saved)
{
	SetUserIdAndSecContext(saved->userid, saved->sec_context);
}

int
tz_execute_as_owner(const char *sql, int nargs, Oid *types, Datum *values, bool read_only)
{
	TzAsOwner	saved;
	int			rc;

	tz_as_owner_begin(tz_extension_owner(), &saved);
	rc = SPI_execute_with_args(sql, nargs, types, values, NULL, read_only, 0);
	tz_as_owner_end(&saved);
	return rc;
}
