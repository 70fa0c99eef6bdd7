/*-------------------------------------------------------------------------
 *
 * usage.h
 *	  A connection's API usage: the worker stores the day's counters the
 *	  admission gate (admission.h) keeps.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_USAGE_H
#define TZ_USAGE_H


/*
 * Stores the day's counters of this database's connections that changed
 * (the worker, every few seconds, in a transaction with SPI connected).
 */
extern void tz_usage_store(void);

#endif							/* TZ_USAGE_H */
