/*-------------------------------------------------------------------------
 *
 * exchange.h
 *	  The exchange rate an invoice or payment in another currency than the
 *	  organization's carries: Togai's, or Zoho Books' own for the date, read
 *	  once per organization, currency and day (exchange.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_ACTIONS_EXCHANGE_H
#define TZ_ACTIONS_EXCHANGE_H

#include "job.h"

/*
 * The rate to read first (TZ_PHASE_EXCHANGE_RATE; the driver answers it and
 * resumes the action).  True: that call is planned, or the job waits for
 * another job reading it.
 */
extern bool tz_step_read_exchange_rate(TzJob *job);

/* Zoho Books' answer: its rate for the date (or that there is none), kept. */
extern void tz_step_exchange_rate_read(TzJob *job, const TzApiResult *r);

/* The rate on a body, and where it came from in the result. */
extern void tz_step_add_exchange_rate(TzJob *job, json_t *body);

#endif							/* TZ_ACTIONS_EXCHANGE_H */
