-- make demo: what togai_zoho offers from psql.
--
-- The bundled mock servers stand in for Togai and Zoho Books (test/mock). This version
-- shows the connections with a real OAuth exchange, the admin surface, the transactional
-- outbox, the clients and the delivery worker; the complete ready flows (write-back onto the
-- Togai account, every invoice line, payments flowing back) come with the flows work.
\pset footer off
\pset null '-'
\echo
\echo '== 1. Install the extension (the cluster preloads togai_zoho and pg_cron)'
CREATE EXTENSION togai_zoho;
SELECT extname AS extension, extversion AS version FROM pg_extension WHERE extname = 'togai_zoho';

\echo
\echo '== 2. Connections: tokens are stored apart and never shown'
SELECT togai_zoho.add_togai_connection('togai', 'demo-togai-token', :'togai_url') AS togai_connection;
-- a Zoho Books Self Client: its grant code is exchanged at once for a refresh token
SELECT togai_zoho.add_zohobooks_connection('zoho', '1000.DEMOCLIENT', 'demo-client-secret',
	code => 'demo-grant-code', accounts_url => :'zoho_url', api_url => :'zoho_url') AS zoho_connection;
SELECT name, app, base_url, organization_id, has_credentials,
	   access_token_expires_at > now() AS access_token_valid FROM togai_zoho.connections;
SELECT c.name, r ->> 'ok' AS ok, r ->> 'checked' AS checked, r ->> 'http_status' AS http_status
  FROM togai_zoho.connections c, togai_zoho.check_connection(c.name) r;
-- a grant code works once: the second exchange is refused with Zoho's own words
\set VERBOSITY verbose
\set SHOW_CONTEXT never
\set ON_ERROR_STOP 0
SELECT togai_zoho.add_zohobooks_connection('zoho2', '1000.DEMOCLIENT', 'demo-client-secret',
	code => 'demo-grant-code', accounts_url => :'zoho_url', api_url => :'zoho_url');
\set ON_ERROR_STOP 1
\set VERBOSITY default

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
\echo '== 7. The worker woke at each commit and delivered; wait_for_idle() returns once nothing is due'
SELECT togai_zoho.wait_for_idle('30 s') AS idle;
SELECT o.id AS job, f.name AS flow, o.source_id, o.state, o.attempts, r ->> 'did' AS did,
	   r ->> 'zohobooks_id' AS zohobooks_id
  FROM togai_zoho.outbox o JOIN togai_zoho.flow f ON f.id = o.flow_id
  LEFT JOIN LATERAL jsonb_array_elements(o.result) r ON true ORDER BY o.id;
SELECT entity, togai_id, zohobooks_id FROM togai_zoho.mappings ORDER BY entity, togai_id;

\echo
\echo '== 8. What Zoho Books holds now (read back through the client)'
SELECT c ->> 'contact_id' AS contact_id, c ->> 'contact_name' AS contact_name, c ->> 'company_name' AS company
  FROM togai_zoho.zohobooks_call('zoho', 'contact_find', '{"togai_account_id": "acc.demo.1"}') c;
SELECT job, flow, source_id, attempt, outcome, http_status, requests FROM togai_zoho.job_attempts ORDER BY job;

\echo
\echo '== 9. Status per flow'
SELECT flow, enabled, pending, running, done, dead, last_error FROM togai_zoho.sync_status;

\echo
\echo 'The mocks are stopped and the cluster is dropped now.'
