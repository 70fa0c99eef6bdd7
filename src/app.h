/*-------------------------------------------------------------------------
 *
 * app.h
 *	  The two apps a connection reaches: below the clients and the enqueue
 *	  trigger, which both name them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TZ_APP_H
#define TZ_APP_H

typedef enum TzApp
{
	TZ_APP_TOGAI,
	TZ_APP_ZOHOBOOKS
} TzApp;

#endif							/* TZ_APP_H */
