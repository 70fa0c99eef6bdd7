/*-------------------------------------------------------------------------
 *
 * togai_zoho.h
 *	  The extension's names and the SQLSTATEs of the apps' answers, shared by
 *	  every layer (its settings are in settings.h).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TOGAI_ZOHO_H
#define TOGAI_ZOHO_H

#define TZ_SCHEMA	"togai_zoho"
#define TZ_USER_AGENT "togai_zoho/" EXTVERSION

/* SQLSTATEs for answers of the remote APIs (class TZ). */
#define ERRCODE_TZ_REMOTE_REJECTED	MAKE_SQLSTATE('T','Z','4','0','0')
#define ERRCODE_TZ_REMOTE_AUTH		MAKE_SQLSTATE('T','Z','4','0','1')
#define ERRCODE_TZ_REMOTE_FORBIDDEN	MAKE_SQLSTATE('T','Z','4','0','3')
#define ERRCODE_TZ_REMOTE_NOT_FOUND	MAKE_SQLSTATE('T','Z','4','0','4')
#define ERRCODE_TZ_REMOTE_RATE_LIMIT MAKE_SQLSTATE('T','Z','4','2','9')
#define ERRCODE_TZ_REMOTE_SERVER	MAKE_SQLSTATE('T','Z','5','0','0')
#define ERRCODE_TZ_REMOTE_MALFORMED	MAKE_SQLSTATE('T','Z','5','0','2')

#endif							/* TOGAI_ZOHO_H */
