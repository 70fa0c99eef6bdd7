/*-------------------------------------------------------------------------
 *
 * enqueue.h
 *	  The enqueue_sync() trigger.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_ENQUEUE_H
#define TZ_ENQUEUE_H

/* Installs the hook that stages a statement's row trigger jobs together (from _PG_init). */
extern void tz_enqueue_init(void);

#endif
