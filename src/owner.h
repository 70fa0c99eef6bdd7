/*-------------------------------------------------------------------------
 *
 * owner.h
 *	  Running as the extension's owner: the one way any layer reads or
 *	  writes the extension's tables on behalf of a caller who may not.
 *
 * A writer of a source row needs no rights on the outbox, and secrets are
 * the owner's alone.  An error aborts the transaction, which restores the
 * caller's user, so no PG_TRY is needed around the pair.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_OWNER_H
#define TZ_OWNER_H

/* The caller's user and security context, kept while running as the owner. */
typedef struct TzAsOwner
{
	Oid			userid;
	int			sec_context;
} TzAsOwner;

/* A table of the extension by name; an error when it is not installed here. */
extern Oid	tz_extension_relid(const char *relname);

/* The role owning the extension's tables; an error when it is not installed here. */
extern Oid	tz_extension_owner(void);

/* Becomes owner (until tz_as_owner_end), keeping the caller's identity in saved. */
extern void tz_as_owner_begin(Oid owner, TzAsOwner *saved);
extern void tz_as_owner_end(const TzAsOwner *saved);

/* SPI_execute_with_args as the extension's owner; returns SPI's code. */
extern int	tz_execute_as_owner(const char *sql, int nargs, Oid *types, Datum *values,
								bool read_only);

#endif							/* TZ_OWNER_H */
