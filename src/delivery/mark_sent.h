/*-------------------------------------------------------------------------
 *
 * mark_sent.h
 *	  Zoho Books invoices marked sent in bulk: invoice jobs queue the drafts
 *	  they made (zohobooks_unsent) and one POST /invoices/status/sent marks
 *	  up to TZ_MARK_SENT_BATCH of them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_MARK_SENT_H
#define TZ_MARK_SENT_H

/* Ids in one bulk call: Zoho documents no maximum; this keeps the URL short. */
#define TZ_MARK_SENT_BATCH 100

/* Refusals of one invoice after which it is left for a person to look at. */
#define TZ_MARK_SENT_MAX_ATTEMPTS 5

/*
 * Marks the queued invoices sent, a bulk call per connection and batch, and
 * returns how many were marked.  In a transaction with SPI connected; a
 * connection whose budget is spent is left for later.
 */
extern int	tz_mark_sent_flush(void);

#endif							/* TZ_MARK_SENT_H */
