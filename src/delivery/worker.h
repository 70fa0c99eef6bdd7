/*-------------------------------------------------------------------------
 *
 * worker.h
 *	  The background worker.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_WORKER_H
#define TZ_WORKER_H

/* Registers the worker (from _PG_init, when loaded by shared_preload_libraries). */
extern void tz_worker_register(void);

#endif
