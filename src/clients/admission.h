/*-------------------------------------------------------------------------
 *
 * admission.h
 *	  The one gate every call to a remote passes: whether it may start now
 *	  (the connection's pause, day's budget, concurrency cap and pace, one
 *	  decision in pure/admission.c over state every process shares), what a
 *	  refusal for rate does to the connection, and the words for a wait.
 *
 * The worker's engine asks without waiting (TZ_ADMIT_TRY) and holds its
 * job; a session's call waits (TZ_ADMIT_WAIT); the bulk mark-sent first
 * looks (TZ_ADMIT_LOOK), since a wait of the engine's own process for its
 * own calls would never end.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_CLIENTS_ADMISSION_H
#define TZ_CLIENTS_ADMISSION_H

#include "pure/admission.h"
#include "api.h"
#include "conn.h"
#include "http.h"

typedef enum TzAdmitMode
{
	TZ_ADMIT_TRY,				/* decide now; a GO holds a slot */
	TZ_ADMIT_WAIT,				/* wait out pace and cap; a spent day raises TZ429 */
	TZ_ADMIT_LOOK				/* what TRY would say, taking nothing */
} TzAdmitMode;

/*
 * Admits a call of the connection for the purpose.  A GO (always, for
 * WAIT) of a budgeted call holds a slot: give it back with tz_admit_ended
 * however the call ends.
 */
extern TzAdmission tz_admit(const TzConnInfo *conn, TzPurpose purpose, TzAdmitMode mode);
extern void tz_admit_ended(const TzConnInfo *conn);

/* Gives back every slot this process holds (after an error cut its calls short). */
extern void tz_admit_release_all(void);

/*
 * A session's call (purpose from togai_zoho.call_purpose), admitted by
 * waiting: the slot is given back however the call ends.
 */
extern void tz_admit_perform(const TzConnInfo *conn, const TzHttpRequest *req,
							 TzHttpResponse *resp);

/*
 * The remote answered 429: the pause it puts on the connection.  Zoho
 * Books' daily cap pauses it until the organization's midnight (a second
 * unexplained refusal too); Togai, which has no daily cap, for
 * retry_after_s (TZ_REST_DEFAULT_S when not given); either holds this
 * connection's calls only.  Returns whether the connection is paused, and
 * until when in *until_s; when not, its pace is held back for wait_ms.
 */
#define TZ_REST_DEFAULT_S 60
extern bool tz_admit_refused(const TzConnInfo *conn, const char *message, long retry_after_s,
							 int64 wait_ms, double *until_s);

/* A session's answer read: a 429 holds the connection as tz_admit_refused says. */
extern void tz_admit_answered(const TzConnInfo *conn, const TzApiResult *r);

/* Why a call waits ("the daily API budget of connection ... is spent ..."), or NULL for GO. */
extern char *tz_admit_reason(const TzConnInfo *conn, const TzAdmission *a);

#endif							/* TZ_CLIENTS_ADMISSION_H */
