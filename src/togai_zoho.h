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

/* GUCs (togai_zoho.*) */
extern bool tz_allow_http;

#endif							/* TOGAI_ZOHO_H */
