-- make demo: what togai_zoho offers from psql.
--
-- This version shows the admin surface and the transactional outbox. Talking to Togai
-- and Zoho Books (clients, mock servers, the delivery worker) arrives with the next
-- issues; until then the jobs below stay pending and nothing leaves the database.
\pset footer off
\pset null '-'
\echo
\echo '== 1. Install the extension (the cluster preloads togai_zoho and pg_cron)'
CREATE EXTENSION togai_zoho;
SELECT extname AS extension, extversion AS version FROM pg_extension WHERE extname = 'togai_zoho';

\echo
\echo '== 2. Connections: a Togai API token is stored apart and never shown'
SELECT togai_zoho.add_togai_connection('togai', 'demo-togai-token', 'https://sandbox-api.togai.com') AS togai_connection;
-- add_zohobooks_connection() exchanges a self-client grant code with Zoho's accounts
-- server; it arrives with the client issue, so the demo registers the organization directly.
INSERT INTO togai_zoho.connection (name, app, base_url, accounts_url, region, organization_id, client_id)
VALUES ('zoho', 'zohobooks', 'https://www.zohoapis.com', 'https://accounts.zoho.com', 'com', '60000000001', '1000.DEMOCLIENT');
SELECT name, app, base_url, region, organization_id, has_credentials FROM togai_zoho.connections;

\echo
\echo '== 3. What flows can do'
SELECT app, trigger, direction, description FROM togai_zoho.available_triggers ORDER BY app DESC, trigger;
SELECT app, action, after_triggers, description FROM togai_zoho.available_actions ORDER BY app DESC, action;

\echo
\echo '== 4. The two ready flows of the integration guide, built from the catalogue'
\o /dev/null
SELECT togai_zoho.create_flow('Sync accounts created from Togai to ZohoBooks', 'outbound', 'togai', 'account_changed',
							  'A new Togai account becomes a Zoho Books contact; later changes update it') AS flow_id;
SELECT togai_zoho.add_flow_action('Sync accounts created from Togai to ZohoBooks', 'zoho', 'contact_upsert') AS position;
SELECT togai_zoho.add_flow_action('Sync accounts created from Togai to ZohoBooks', 'togai', 'account_write_back') AS position;
SELECT togai_zoho.create_flow('Create an invoice in ZohoBooks on Togai invoice', 'outbound', 'togai', 'invoice_generated') AS flow_id;
SELECT togai_zoho.add_flow_action('Create an invoice in ZohoBooks on Togai invoice', 'zoho', 'invoice_create',
								  '{"mark_sent": true}') AS position;
SELECT togai_zoho.set_flow_enabled('Sync accounts created from Togai to ZohoBooks');
SELECT togai_zoho.set_flow_enabled('Create an invoice in ZohoBooks on Togai invoice');
\o
SELECT name, trigger, enabled, actions FROM togai_zoho.flows;

\echo
\echo '== 5. Bad input gets a clear error (SQLSTATE, message, hint)'
\set VERBOSITY verbose
\set SHOW_CONTEXT never
\set ON_ERROR_STOP 0
SELECT togai_zoho.add_flow_action('Create an invoice in ZohoBooks on Togai invoice', 'togai', 'invoice_create');
\set ON_ERROR_STOP 1
\set VERBOSITY default

\echo
\echo '== 6. Togai accounts and invoices land in the mirrors; the trigger writes outbox jobs in the same transaction'
INSERT INTO togai_zoho.customers (account_id, customer_id, name, customer_name, primary_email, invoice_currency, address)
VALUES ('acc.demo.1', 'cus.demo.1', 'Acme Main', 'Acme Inc', 'billing@acme.example', 'USD',
		'{"line1": "1 Market St", "city": "San Francisco", "state": "CA", "postalCode": "94105", "country": "US"}'),
	   ('acc.demo.2', 'cus.demo.2', 'Zürich Analytics', 'Zürich Analytics AG', 'ap@zuerich.example', 'EUR', NULL);
-- ten quick edits to one account fold into its single pending job
DO $$ BEGIN FOR i IN 1..10 LOOP
	UPDATE togai_zoho.customers SET net_term_days = 20 + i WHERE account_id = 'acc.demo.1';
END LOOP; END $$;
-- an ongoing (DRAFT) invoice enqueues nothing; it does once generated (DUE)
INSERT INTO togai_zoho.invoices (invoice_id, account_id, customer_id, status, sequence_id, currency, total_amount)
VALUES ('inv.demo.1', 'acc.demo.1', 'cus.demo.1', 'DRAFT', 'INV-000101', 'USD', 0);
UPDATE togai_zoho.invoices SET status = 'DUE', total_amount = 1234.56 WHERE invoice_id = 'inv.demo.1';
-- a rolled-back change leaves nothing behind
BEGIN;
INSERT INTO togai_zoho.customers (account_id, customer_id, name) VALUES ('acc.demo.rollback', 'cus.x', 'Never');
ROLLBACK;
SELECT o.id AS job, f.name AS flow, o.entity, o.source_id, o.state, o.coalesced AS edits_folded_in
  FROM togai_zoho.outbox o JOIN togai_zoho.flow f ON f.id = o.flow_id ORDER BY o.id;

\echo
\echo '== 7. Status per flow'
SELECT flow, enabled, pending, running, done, dead, last_error FROM togai_zoho.sync_status;

\echo
\echo 'Delivery to Zoho Books (worker, clients, mock servers) is not built yet: the jobs above stay pending.'
\echo 'The cluster is dropped now.'
