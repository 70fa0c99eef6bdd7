/*-------------------------------------------------------------------------
 *
 * settings.h
 *	  The togai_zoho.* settings (settings.c defines them at module load).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_SETTINGS_H
#define TZ_SETTINGS_H

/* their values in this process */
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


/* Defines every setting (the worker's only when preloaded); from _PG_init. */
extern void tz_settings_define(void);

#endif							/* TZ_SETTINGS_H */
