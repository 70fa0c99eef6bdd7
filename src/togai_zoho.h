/*-------------------------------------------------------------------------
 *
 * togai_zoho.h
 *	  Declarations shared across the togai_zoho extension.
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

/* GUCs (togai_zoho.*) */
extern bool tz_allow_http;
extern char *tz_ca_bundle;
extern int	tz_request_timeout_ms;
extern int	tz_connect_timeout_ms;
extern int	tz_max_response_bytes;
extern char *tz_database_name;
extern char *tz_role;
extern bool tz_worker_enabled;
extern int	tz_batch_size;
extern int	tz_max_concurrency;
extern int	tz_max_attempts;
extern int	tz_retry_base_ms;
extern int	tz_retry_max_ms;
extern int	tz_ttl_s;
extern int	tz_look_first_after_failover_s;
extern int	tz_stage_min_rows;
extern int	tz_call_purpose;	/* a TzPurpose */
extern double tz_poll_share;
extern int	tz_poll_idle_max_s;
extern int	tz_poll_sweep_s;
extern int	tz_togai_sweep_s;
extern char *tz_togai_open_statuses;
extern char *tz_debug_fail_answer;

#endif							/* TOGAI_ZOHO_H */
