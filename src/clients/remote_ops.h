/*-------------------------------------------------------------------------
 *
 * remote_ops.h
 *	  Every operation togai_zoho calls at Togai and Zoho Books, spelled once:
 *	  method, path, the documented query parameters it may send, the body
 *	  and the answer's member.  The SQL call functions (zohobooks_call,
 *	  togai_call) and the delivery steps both build their requests here.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_REMOTE_OPS_H
#define TZ_REMOTE_OPS_H

#include "conn.h"

#define TZ_OP_MAX_QUERY 8

/*
 * A documented query parameter, and the argument of the SQL call that gives
 * it, or the value the operation always sends.
 */
typedef struct TzRemoteParam
{
	const char *param;
	const char *arg;
	const char *fixed;
} TzRemoteParam;

typedef struct TzRemoteOp
{
	const char *name;			/* as zohobooks_call() and togai_call() take it */
	TzApp		app;
	const char *method;
	const char *path;			/* with one %s for the object's id, if any */
	const char *id_arg;			/* the argument holding that id */
	const char *body_arg;		/* the argument holding the body, if any */
	TzRemoteParam query[TZ_OP_MAX_QUERY];
	const char *member;			/* the answer's member to return (NULL: all of it) */
	bool		creates;		/* a repeat could make a duplicate */
	bool		unique;			/* finds its object by a unique custom field (headers) */
} TzRemoteOp;

/* The operation of an app by name, or NULL. */
extern const TzRemoteOp *tz_remote_op(TzApp app, const char *name);

/* The names of an app's operations, comma-separated, for hints. */
extern char *tz_remote_op_names(TzApp app);

/* The path of a call, the id escaped (NULL when the path takes none). */
extern char *tz_remote_path(const TzRemoteOp *op, const char *id);

/*
 * The query of a call: the operation's fixed parameters, then (parameter,
 * value) pairs ending with NULL; NULL values are left out.  A parameter the operation does not document is a
 * bug, and raises.  Returns NULL when no parameter has a value.
 */
extern char *tz_remote_query(const TzRemoteOp *op,...);

/* The same from a value for each of op->query's parameters, by position (NULL: left out). */
extern char *tz_remote_query_values(const TzRemoteOp *op, const char *const *values);

#endif							/* TZ_REMOTE_OPS_H */
