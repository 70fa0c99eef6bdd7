-- make demo: both ready flows and the payment flows (both ways) end to end, from psql.
--
-- The bundled mock servers stand in for Togai and Zoho Books (test/mock), seeded with three
-- Togai customers and five invoices (one still ongoing). pg_cron polls both apps once a minute,
-- as it would in production; the background worker delivers what the polls bring in.
\pset footer off
\pset null '-'
\set VERBOSITY terse
\echo
\echo '== 1. Install the extension (the cluster preloads togai_zoho and pg_cron)'
CREATE EXTENSION togai_zoho;
CREATE EXTENSION pg_cron;
SELECT extname AS extension, extversion AS version FROM pg_extension
 WHERE extname IN ('togai_zoho', 'pg_cron') ORDER BY 1 DESC;

\echo
\echo '== 2. Connections: a Togai API token, a Zoho Books Self Client (its grant code is exchanged at once)'
SELECT togai_zoho.add_togai_connection('togai', 'demo-togai-token', :'togai_url') AS togai_connection;
SELECT togai_zoho.add_zohobooks_connection('zoho', '1000.DEMOCLIENT', 'demo-client-secret',
	code => 'demo-grant-code', accounts_url => :'zoho_url', api_url => :'zoho_url') AS zoho_connection;
SELECT name, app, base_url, organization_id, has_credentials FROM togai_zoho.connections;

\echo
\echo '== 3. The ready flows of the integration guide, and the inbound payment flow'
SELECT togai_zoho.install_default_flows('togai', 'zoho') AS installed;
SELECT name, direction, trigger, enabled, replace(actions, E'\n', '  ') AS actions FROM togai_zoho.flows;

\echo
\echo '== 4. preview_flow: what the account flow would send for an account, secrets masked, nothing sent'
SELECT r ->> 'position' AS step, r ->> 'method' AS method, r ->> 'url' AS url,
	   r -> 'headers' ->> 'Authorization' AS authorization, left(r ->> 'body', 90) AS body
  FROM jsonb_array_elements(togai_zoho.preview_flow('Sync accounts created from Togai to ZohoBooks',
		'{"account_id": "acc.preview", "customer_id": "cus.preview", "name": "Preview Co",
		  "invoice_currency": "USD", "primary_email": "ap@preview.example"}') -> 'requests') r;

\echo
\echo '== 5. pg_cron polls Togai and Zoho Books every minute'
SELECT cron.schedule('togai_zoho: poll togai', '* * * * *', $$CALL togai_zoho.poll('togai')$$) AS job;
SELECT cron.schedule('togai_zoho: poll zoho', '* * * * *', $$CALL togai_zoho.poll('zoho')$$) AS job;
\echo 'waiting for the first poll (pg_cron runs at the top of each minute) ...'
DO $$
DECLARE deadline timestamptz := clock_timestamp() + interval '90 s';
BEGIN
	WHILE NOT EXISTS (SELECT 1 FROM cron.job_run_details d JOIN cron.job j USING (jobid)
					   WHERE j.jobname = 'togai_zoho: poll togai' AND d.status = 'succeeded') LOOP
		IF clock_timestamp() > deadline THEN
			RAISE EXCEPTION 'pg_cron did not poll Togai within 90 s';
		END IF;
		PERFORM pg_sleep(0.5);
	END LOOP;
END $$;
SELECT togai_zoho.wait_for_idle('60 s') AS delivered;
SELECT j.jobname AS job, d.status, d.return_message AS result
  FROM cron.job_run_details d JOIN cron.job j USING (jobid)
 WHERE j.jobname = 'togai_zoho: poll togai' ORDER BY d.runid LIMIT 1;

\echo
\echo '== 6. Togai accounts became Zoho Books contacts (currency, address, both Togai ids in the notes)'
SELECT c ->> 'contact_id' AS contact_id, c ->> 'contact_name' AS contact_name,
	   c ->> 'company_name' AS company, c ->> 'currency_code' AS currency,
	   c -> 'billing_address' ->> 'city' AS city, c ->> 'notes' AS notes
  FROM togai_zoho.id_mapping m,
	   togai_zoho.zohobooks_call('zoho', 'contact_get', jsonb_build_object('contact_id', m.zohobooks_id)) c
 WHERE m.entity = 'account' ORDER BY 1;

\echo
\echo '== 7. Generated Togai invoices became Zoho Books invoices, to the cent (INV-0004 is still ongoing: nothing sent)'
SELECT t.sequence_id AS togai_invoice, t.status AS togai_status, t.total_amount AS togai_total,
	   z ->> 'invoice_number' AS zoho_invoice, z ->> 'status' AS zoho_status,
	   (z ->> 'total')::numeric AS zoho_total,
	   jsonb_array_length(z -> 'line_items') AS lines,
	   round(t.total_amount, 2) = round((z ->> 'total')::numeric, 2) AS equal_to_the_cent
  FROM togai_zoho.invoices t
  LEFT JOIN togai_zoho.id_mapping m ON m.entity = 'invoice' AND m.togai_id = t.invoice_id
  LEFT JOIN LATERAL (SELECT togai_zoho.zohobooks_call('zoho', 'invoice_get',
							jsonb_build_object('invoice_id', m.zohobooks_id)) AS z
					  WHERE m.zohobooks_id IS NOT NULL) i ON true
 ORDER BY t.sequence_id;
\echo 'Every line carries a Zoho Books item, one per rate card, made once:'
SELECT z ->> 'reference_number' AS invoice, li ->> 'name' AS line_item, li ->> 'quantity' AS quantity,
	   li ->> 'rate' AS rate, li ->> 'item_total' AS amount, it.name AS zoho_item
  FROM togai_zoho.id_mapping m,
	   togai_zoho.zohobooks_call('zoho', 'invoice_get', jsonb_build_object('invoice_id', m.zohobooks_id)) z,
	   jsonb_array_elements(z -> 'line_items') li
  LEFT JOIN togai_zoho.zohobooks_item it ON it.item_id = li ->> 'item_id'
 WHERE m.entity = 'invoice'
 ORDER BY 1;

\echo
\echo '== 8. Mappings, looked up both ways, and the contact id written back onto the Togai account'
SELECT entity, togai_id, togai_customer_id, zohobooks_id FROM togai_zoho.mappings ORDER BY entity, togai_id;
SELECT togai_zoho.zohobooks_id('account', 'acc.demo.1') AS contact_of_acc_demo_1,
	   togai_zoho.togai_id('invoice', togai_zoho.zohobooks_id('invoice', 'inv.demo.2')) AS back_again;
SELECT a.account_id, (togai_zoho.togai_call('togai', 'account_get',
		jsonb_build_object('account_id', a.account_id)) -> 'metadata') AS togai_account_metadata
  FROM togai_zoho.customers a ORDER BY 1;

\echo
\echo '== 9. A customer pays INV-0001 in Zoho Books; the next poll brings the payment back to Togai, once'
SELECT total_amount AS amount_due FROM togai_zoho.invoices WHERE invoice_id = 'inv.demo.1' \gset
SELECT p ->> 'payment_id' AS zoho_payment, p ->> 'amount' AS amount, p ->> 'payment_mode' AS mode
  FROM togai_zoho.zohobooks_call('zoho', 'payment_create', jsonb_build_object('payment', jsonb_build_object(
		'customer_id', togai_zoho.zohobooks_id('account', 'acc.demo.1'), 'payment_mode', 'banktransfer',
		'amount', :amount_due, 'date', current_date, 'reference_number', 'UTR-DEMO-1',
		'invoices', jsonb_build_array(jsonb_build_object(
			'invoice_id', togai_zoho.zohobooks_id('invoice', 'inv.demo.1'), 'amount_applied', :amount_due))))) p;
\echo 'waiting for the next poll of Zoho Books (quiet lists are polled less often: in this demo'
\echo 'at least once a minute, in production every 10 minutes or as the budget spreads them) ...'
SELECT stream, next_poll_at, quiet_polls FROM togai_zoho.poll_status WHERE connection = 'zoho';
DO $$
DECLARE deadline timestamptz := clock_timestamp() + interval '180 s';
BEGIN
	WHILE NOT EXISTS (SELECT 1 FROM togai_zoho.inbox WHERE entity = 'payment') LOOP
		IF clock_timestamp() > deadline THEN
			RAISE EXCEPTION 'pg_cron did not poll Zoho Books within 180 s';
		END IF;
		PERFORM pg_sleep(0.5);
	END LOOP;
END $$;
SELECT togai_zoho.wait_for_idle('60 s') AS delivered;
SELECT p ->> 'id' AS togai_payment, p ->> 'accountId' AS account, p ->> 'totalAmount' AS amount,
	   p -> 'externalPaymentReferences' ->> 'sourceType' AS source_type,
	   p -> 'externalPaymentReferences' ->> 'transactionNumber' AS zoho_payment,
	   p -> 'lineItemRecords' -> 0 ->> 'togaiId' AS paid_invoice
  FROM jsonb_array_elements(togai_zoho.togai_call('togai', 'payments_list') -> 'data') p;
SELECT i ->> 'id' AS togai_invoice, i ->> 'status' AS status, i ->> 'paidAmount' AS paid
  FROM togai_zoho.togai_call('togai', 'invoice_get', '{"invoice_id": "inv.demo.1"}') i;
-- the same payment handed in again by a webhook changes nothing
SELECT togai_zoho.receive_webhook('zoho', jsonb_build_object('payment', jsonb_build_object(
		'payment_id', (SELECT remote_id FROM togai_zoho.inbox WHERE entity = 'payment')))) AS webhook_changed;

\echo
\echo '== 9b. The path that costs no polling: INV-0002 is paid, and Zoho Books calls the webhook receiver'
\echo '   (its own process, connected as a role that may only call receive_webhook)'
CREATE ROLE togai_zoho_webhook LOGIN PASSWORD 'demo-receiver-pw';
GRANT USAGE ON SCHEMA togai_zoho TO togai_zoho_webhook;
GRANT EXECUTE ON FUNCTION togai_zoho.receive_webhook(text, jsonb) TO togai_zoho_webhook;
SELECT total_amount AS amount_due_2 FROM togai_zoho.invoices WHERE invoice_id = 'inv.demo.2' \gset
SELECT p ->> 'payment_id' AS zoho_payment_2
  FROM togai_zoho.zohobooks_call('zoho', 'payment_create', jsonb_build_object('payment', jsonb_build_object(
		'customer_id', togai_zoho.zohobooks_id('account', 'acc.demo.2'), 'payment_mode', 'creditcard',
		'amount', :amount_due_2, 'date', current_date, 'reference_number', 'CARD-DEMO-2',
		'invoices', jsonb_build_array(jsonb_build_object(
			'invoice_id', togai_zoho.zohobooks_id('invoice', 'inv.demo.2'), 'amount_applied', :amount_due_2))))) p \gset
\setenv DEMO_ZOHO_PAYMENT :zoho_payment_2
\! sh tools/demo-webhook.sh "$DEMO_ZOHO_PAYMENT"
SELECT togai_zoho.wait_for_idle('60 s') AS delivered;
SELECT i ->> 'id' AS togai_invoice, i ->> 'status' AS status, i ->> 'paidAmount' AS paid
  FROM togai_zoho.togai_call('togai', 'invoice_get', '{"invoice_id": "inv.demo.2"}') i;

\echo
\echo '== 9c. The customer of INV-0003 pays half by card in Togai (its gateway): the Togai payments flow'
\echo '   applies it to the Zoho Books invoice, once, and both sides owe the same'
SELECT round(total_amount / 2, 2) AS half_3, currency AS currency_3
  FROM togai_zoho.invoices WHERE invoice_id = 'inv.demo.3' \gset
SELECT p ->> 'id' AS togai_payment, p ->> 'totalAmount' AS amount
  FROM togai_zoho.togai_call('togai', 'payment_record', jsonb_build_object('payment', jsonb_build_object(
		'accountId', 'acc.demo.3', 'currency', :'currency_3', 'totalAmount', :half_3,
		'externalPaymentReference', jsonb_build_object('sourceName', 'Stripe', 'sourceType', 'CARD',
													   'transactionNumber', 'ch_demo_3'),
		'lineItemRecords', jsonb_build_array(jsonb_build_object(
			'togaiId', 'inv.demo.3', 'amount', :half_3, 'type', 'INVOICE', 'order', 1))))) p;
-- the poll reads Togai's new payments (this one, the two recorded from Zoho Books above, less
-- any a pg_cron poll read first); the two that came from Zoho Books are not sent back
SELECT (togai_zoho.poll_togai('togai') #>> '{lists,payments:new,changed}') AS togai_payments_read;
SELECT togai_zoho.wait_for_idle('60 s') AS delivered;
SELECT o.source_id AS togai_payment, r ->> 'did' AS did, r ->> 'zohobooks_id' AS zoho_payment
  FROM togai_zoho.outbox o JOIN togai_zoho.flow f ON f.id = o.flow_id,
	   jsonb_array_elements(o.result) r
 WHERE f.trigger = 'payment_collected' ORDER BY o.source_id;
SELECT z ->> 'invoice_number' AS zoho_invoice, z ->> 'status' AS zoho_status, z ->> 'total' AS total,
	   z ->> 'payment_made' AS paid, z ->> 'balance' AS balance,
	   (SELECT total_amount - paid_amount FROM togai_zoho.invoices WHERE invoice_id = 'inv.demo.3') AS togai_owes
  FROM togai_zoho.zohobooks_call('zoho', 'invoice_get',
		jsonb_build_object('invoice_id', togai_zoho.zohobooks_id('invoice', 'inv.demo.3'))) z;

\echo
\echo '== 10. sync_status, what every job did, and the calls each app counted today'
SELECT flow, enabled, pending, running, done, dead, last_error FROM togai_zoho.sync_status;
SELECT job, flow, source_id, outcome, http_status, requests FROM togai_zoho.job_attempts ORDER BY job;
-- the organization's plan: a daily budget and a concurrency cap, its day ending at its midnight
-- (polls then spread a tenth of the day's calls over the day)
SELECT connection, plan, per_day, concurrent, calls_today, delivery_calls, poll_calls, session_calls,
	   refused_today, day_resets_at, time_zone
  FROM togai_zoho.set_api_budget('zoho', plan => 'standard');
SELECT connection, calls_today, token_calls FROM togai_zoho.api_usage WHERE connection = 'togai';
SELECT count(cron.unschedule(jobid)) AS cron_jobs_removed FROM cron.job;
DROP OWNED BY togai_zoho_webhook;
DROP ROLE togai_zoho_webhook;

\echo
\echo 'The mocks are stopped and the cluster is dropped now.'
