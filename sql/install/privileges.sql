/*
 * privileges.sql
 *	  Nothing for PUBLIC. Operators and readers are granted explicitly (see
 *	  the operations guide); only the owner ever reads connection_secret.
 */

REVOKE ALL ON ALL TABLES IN SCHEMA togai_zoho FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA togai_zoho FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA togai_zoho FROM PUBLIC;
REVOKE ALL ON SCHEMA togai_zoho FROM PUBLIC;

/* A worker waiting for the extension to appear starts at once. */
SELECT togai_zoho.notify_worker();
