/*
 * payments.sql
 *	  Payments recorded in Togai (its gateway, payments entered by hand): their
 *	  mirror, and what a payment_apply job sends to Zoho Books.  A payment
 *	  travels once each way: the payment mapping says which objects are one,
 *	  and the references say where a payment came from, so neither app's
 *	  copy of a payment the extension made is sent back to the other.
 */

CREATE TABLE togai_zoho.payments (
	connection_id      bigint NOT NULL DEFAULT togai_zoho.default_togai_connection(),
	payment_id         text NOT NULL CHECK (payment_id <> '' AND length(payment_id) <= 255),
	account_id         text NOT NULL CHECK (account_id <> ''),
	currency           text CHECK (currency ~ '^[A-Z]{3}$'),
	total_amount       numeric,
	records            jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(records) = 'array'),
	source_name        text,
	source_type        text,
	transaction_number text,
	description        text,
	paid_at            timestamptz,
	raw                jsonb CHECK (jsonb_typeof(raw) = 'object'),
	mirrored_at        timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (connection_id, payment_id),
	FOREIGN KEY (connection_id) REFERENCES togai_zoho.connection (id) ON DELETE CASCADE
);
COMMENT ON TABLE togai_zoho.payments IS 'Mirror of Togai payments (Payment); an inserted row fires payment_collected';
COMMENT ON COLUMN togai_zoho.payments.connection_id IS 'Togai connection the payment belongs to; defaults to the only Togai connection';
COMMENT ON COLUMN togai_zoho.payments.payment_id IS 'Togai payment id (Payment.id)';
COMMENT ON COLUMN togai_zoho.payments.account_id IS 'Togai account that paid (Payment.accountId)';
COMMENT ON COLUMN togai_zoho.payments.currency IS 'ISO 4217 currency of the payment';
COMMENT ON COLUMN togai_zoho.payments.total_amount IS 'Amount of the payment, exact (Payment.totalAmount)';
COMMENT ON COLUMN togai_zoho.payments.records IS 'What the payment pays (Payment.lineItemRecords): {type INVOICE, CREDIT or WALLET_CREDIT, togaiId, amount, order}';
COMMENT ON COLUMN togai_zoho.payments.source_name IS 'externalPaymentReference.sourceName (Zoho Books for a payment the extension recorded)';
COMMENT ON COLUMN togai_zoho.payments.source_type IS 'externalPaymentReference.sourceType: GATEWAY, CASH, CHEQUE, BANK_TRANSFER or CARD';
COMMENT ON COLUMN togai_zoho.payments.transaction_number IS 'externalPaymentReference.transactionNumber (the Zoho Books payment id for a payment the extension recorded)';
COMMENT ON COLUMN togai_zoho.payments.description IS 'Description of the payment';
COMMENT ON COLUMN togai_zoho.payments.paid_at IS 'When the payment was recorded in Togai (Payment.createdAt)';
COMMENT ON COLUMN togai_zoho.payments.raw IS 'The Togai payment object as received';
COMMENT ON COLUMN togai_zoho.payments.mirrored_at IS 'When the row was first mirrored; leave it to its default: an inserted row mirrored before its transaction began is a restore and enqueues nothing';
CREATE INDEX payments_account_idx ON togai_zoho.payments (connection_id, account_id);
REVOKE ALL ON togai_zoho.payments FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('togai_zoho.payments', '');
CREATE TRIGGER enqueue_sync AFTER UPDATE ON togai_zoho.payments
	FOR EACH ROW EXECUTE FUNCTION togai_zoho.enqueue_sync('payment');
CREATE TRIGGER enqueue_sync_inserted AFTER INSERT ON togai_zoho.payments
	REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION togai_zoho.enqueue_sync('payment');

/*
 * Upserts a Togai Payment object; true when the row changed.  The spec names
 * the reference externalPaymentReferences in a Payment (a single object) and
 * externalPaymentReference in a request: either is read.
 */
CREATE FUNCTION togai_zoho.mirror_payment(connection_id bigint, payment jsonb)
	RETURNS boolean
	LANGUAGE plpgsql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	ref jsonb := coalesce(togai_zoho.json_object_member(payment, 'externalPaymentReferences'),
						  togai_zoho.json_object_member(payment, 'externalPaymentReference'), '{}');
	changed boolean;
BEGIN
	INSERT INTO togai_zoho.payments AS t
		(connection_id, payment_id, account_id, currency, total_amount, records, source_name,
		 source_type, transaction_number, description, paid_at, raw)
	VALUES (mirror_payment.connection_id, payment ->> 'id', payment ->> 'accountId',
			nullif(payment ->> 'currency', ''), togai_zoho.json_numeric(payment -> 'totalAmount'),
			CASE WHEN jsonb_typeof(payment -> 'lineItemRecords') = 'array'
				 THEN payment -> 'lineItemRecords' ELSE '[]' END,
			ref ->> 'sourceName', ref ->> 'sourceType', ref ->> 'transactionNumber',
			payment ->> 'description', togai_zoho.remote_time(payment ->> 'createdAt'), payment)
	ON CONFLICT ON CONSTRAINT payments_pkey DO UPDATE SET
		account_id = EXCLUDED.account_id, currency = EXCLUDED.currency,
		total_amount = EXCLUDED.total_amount, records = EXCLUDED.records,
		source_name = EXCLUDED.source_name, source_type = EXCLUDED.source_type,
		transaction_number = EXCLUDED.transaction_number, description = EXCLUDED.description,
		paid_at = EXCLUDED.paid_at, raw = EXCLUDED.raw
	WHERE t.raw IS DISTINCT FROM EXCLUDED.raw
	RETURNING true INTO changed;
	RETURN coalesce(changed, false);
END
$$;
COMMENT ON FUNCTION togai_zoho.mirror_payment(bigint, jsonb) IS
'Upserts a Togai Payment object into payments; true when the row changed (an inserted row fires payment_collected)';
REVOKE ALL ON FUNCTION togai_zoho.mirror_payment(bigint, jsonb) FROM PUBLIC;

/* Zoho Books' payment mode for Togai's source type. */
CREATE FUNCTION togai_zoho.zohobooks_payment_mode(source_type text)
	RETURNS text
	LANGUAGE sql IMMUTABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT CASE upper(source_type) WHEN 'CASH' THEN 'cash' WHEN 'CHEQUE' THEN 'check'
		   WHEN 'BANK_TRANSFER' THEN 'banktransfer' WHEN 'CARD' THEN 'creditcard'
		   ELSE 'others' END
$$;
COMMENT ON FUNCTION togai_zoho.zohobooks_payment_mode(text) IS
'Zoho Books'' payment_mode for a Togai sourceType (CASH cash, CHEQUE check, BANK_TRANSFER banktransfer, CARD creditcard, GATEWAY and others others)';
REVOKE ALL ON FUNCTION togai_zoho.zohobooks_payment_mode(text) FROM PUBLIC;

/*
 * Where a Togai invoice's invoice_generated job stands: the one on its way
 * (pending, running) first, else the latest dead one; no row when none is
 * either.  Jobs that follow the invoice (a payment, a write-off) wait on it.
 */
CREATE FUNCTION togai_zoho.invoice_job(togai_invoice text, OUT id bigint, OUT state text)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT o.id, o.state FROM togai_zoho.outbox o JOIN togai_zoho.flow f ON f.id = o.flow_id
 WHERE f.trigger = 'invoice_generated' AND o.entity = 'invoice' AND o.source_id = togai_invoice
   AND o.state IN ('pending', 'running', 'dead')
 ORDER BY o.state = 'dead', o.id DESC
 LIMIT 1
$$;
COMMENT ON FUNCTION togai_zoho.invoice_job(text) IS
'Internal: the invoice_generated job of a Togai invoice on its way to Zoho Books (pending or running), else its latest dead one';
REVOKE ALL ON FUNCTION togai_zoho.invoice_job(text) FROM PUBLIC;

/*
 * The account's credit purchases as Zoho Books advances, for the prepaid
 * credits of its invoices: per Zoho Books connection, the customer payments
 * the extension recorded for Togai payments with CREDIT or WALLET_CREDIT
 * records (the ten newest, oldest first); and, while one such payment is
 * still on its way to Zoho Books, what the credits wait for (not for a
 * payment that pays invoices too: it may be waiting for this very invoice).
 */
CREATE FUNCTION togai_zoho.customer_advances(togai_connection_id bigint, account_id text,
											 organizations bigint[])
	RETURNS jsonb
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
WITH bought AS (
	SELECT p.payment_id, p.paid_at,
		   EXISTS (SELECT FROM jsonb_array_elements(p.records) r
				   WHERE upper(r ->> 'type') NOT IN ('CREDIT', 'WALLET_CREDIT')) AS pays_invoices
	  FROM togai_zoho.payments p
	 WHERE p.connection_id = customer_advances.togai_connection_id
	   AND p.account_id = customer_advances.account_id
	   AND EXISTS (SELECT FROM jsonb_array_elements(p.records) r
				   WHERE upper(r ->> 'type') IN ('CREDIT', 'WALLET_CREDIT'))
	 ORDER BY p.paid_at DESC, p.payment_id DESC
	 LIMIT 10)
SELECT jsonb_strip_nulls(jsonb_build_object(
	'advances',
	(SELECT jsonb_object_agg(a.org, a.ids)
	   FROM (SELECT m.zohobooks_connection_id::text AS org,
					jsonb_agg(m.zohobooks_id ORDER BY b.paid_at, b.payment_id) AS ids
			   FROM bought b
			   JOIN togai_zoho.id_mapping m ON m.entity = 'payment' AND m.togai_id = b.payment_id
			  WHERE m.zohobooks_connection_id = ANY (customer_advances.organizations)
			  GROUP BY m.zohobooks_connection_id) a),
	'advance_waiting',
	(SELECT format('credits bought with Togai payment %s are on their way to Zoho Books', b.payment_id)
	   FROM bought b
	   JOIN togai_zoho.outbox o ON o.entity = 'payment' AND o.source_id = b.payment_id
	   JOIN togai_zoho.flow f ON f.id = o.flow_id AND f.trigger = 'payment_collected'
	  WHERE o.state IN ('pending', 'running') AND NOT b.pays_invoices
	  LIMIT 1)))
$$;
COMMENT ON FUNCTION togai_zoho.customer_advances(bigint, text, bigint[]) IS
'Internal: the Zoho Books advances (customer payments) of an account''s credit purchases, per organization, and whether one is still on its way';
REVOKE ALL ON FUNCTION togai_zoho.customer_advances(bigint, text, bigint[]) FROM PUBLIC;

/*
 * What a payment_apply job sends, per Zoho Books connection: the customer
 * payment's body (less the contact, which the job's mappings give), the
 * amounts rounded to the currency's minor unit; whether it is there already
 * (recorded); what it puts on prepaid credits or the wallet (advance: the
 * part applied to no invoice, kept as the customer's credit in Zoho Books);
 * and the records it cannot apply.  A payment that the extension
 * recorded in Togai from Zoho Books (its transaction number is a Zoho Books
 * payment of the inbox) is an echo, never sent back.
 */
CREATE FUNCTION togai_zoho.togai_payment_context(togai_connection_id bigint, payment jsonb)
	RETURNS jsonb
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	pid text := payment ->> 'payment_id';
	digits integer := togai_zoho.currency_digits(payment ->> 'currency');
	echo text;
	waiting text;
	apply jsonb;
	others jsonb;
	recs jsonb;
	rec record;
	job record;
	blocked text;
	advance numeric;
BEGIN
	SELECT format('recorded in Togai from Zoho Books payment %s: not sent back', i.remote_id) INTO echo
	  FROM togai_zoho.inbox i
	 WHERE i.entity = 'payment' AND i.remote_id = payment ->> 'transaction_number'
	 LIMIT 1;

	/* the records of invoices, each with the Zoho Books invoice it maps to, per connection */
	SELECT jsonb_agg(jsonb_build_object('n', r.n, 'togai_id', r.x ->> 'togaiId',
			'amount', round(togai_zoho.json_numeric(r.x -> 'amount'), digits),
			'zconn', m.zohobooks_connection_id, 'zid', m.zohobooks_id))
	  INTO recs
	  FROM jsonb_array_elements(CASE jsonb_typeof(payment -> 'records') WHEN 'array'
								THEN payment -> 'records' ELSE '[]' END) WITH ORDINALITY AS r(x, n)
	  LEFT JOIN togai_zoho.id_mapping m
		ON m.entity = 'invoice' AND m.togai_connection_id = togai_payment_context.togai_connection_id
	   AND m.togai_id = r.x ->> 'togaiId'
	 WHERE upper(r.x ->> 'type') = 'INVOICE' AND togai_zoho.json_numeric(r.x -> 'amount') > 0;
	recs := coalesce(recs, '[]');

	/*
	 * What the payment puts on the customer's prepaid credits or wallet: a
	 * customer advance in Zoho Books (the part of the payment applied to no
	 * invoice), in each organization the account is in.
	 */
	SELECT round(sum(togai_zoho.json_numeric(r -> 'amount')), digits) INTO advance
	  FROM jsonb_array_elements(CASE jsonb_typeof(payment -> 'records') WHEN 'array'
								THEN payment -> 'records' ELSE '[]' END) r
	 WHERE upper(r ->> 'type') IN ('CREDIT', 'WALLET_CREDIT') AND togai_zoho.json_numeric(r -> 'amount') > 0;

	/*
	 * It waits while an invoice is on its way to Zoho Books or not marked sent
	 * yet; one whose job died stops it (a person retries both), never for ever.
	 */
	FOR rec IN SELECT * FROM jsonb_to_recordset(recs) AS p(togai_id text, zconn bigint, zid text) LOOP
		IF rec.zid IS NULL THEN
			SELECT * INTO job FROM togai_zoho.invoice_job(rec.togai_id);
			waiting := coalesce(waiting, CASE WHEN job.state IN ('pending', 'running')
				THEN format('invoice %s is on its way to Zoho Books', rec.togai_id) END);
			blocked := coalesce(blocked, CASE WHEN job.state = 'dead'
				THEN format('invoice %s did not reach Zoho Books (its job %s is dead): '
							'retry that job, then this one', rec.togai_id, job.id) END);
		ELSIF EXISTS (SELECT 1 FROM togai_zoho.zohobooks_unsent u
					   WHERE u.connection_id = rec.zconn AND u.invoice_id = rec.zid) THEN
			waiting := coalesce(waiting, format('Zoho Books invoice %s is not marked sent yet', rec.zid));
		END IF;
	END LOOP;

	SELECT jsonb_object_agg(z.zconn::text, jsonb_strip_nulls(jsonb_build_object(
			'recorded', (SELECT m.zohobooks_id FROM togai_zoho.id_mapping m
						  WHERE m.entity = 'payment' AND m.togai_id = pid
							AND m.zohobooks_connection_id = z.zconn),
			'unmapped', (SELECT jsonb_agg(p.togai_id ORDER BY p.n)
						   FROM jsonb_to_recordset(recs) AS p(n bigint, togai_id text, zconn bigint, zid text)
						  WHERE p.zid IS NULL OR p.zconn <> z.zconn),
			'body', jsonb_build_object(
				'payment_mode', togai_zoho.zohobooks_payment_mode(payment ->> 'source_type'),
				'amount', z.amount,
				'date', to_char(coalesce(payment ->> 'paid_at', now()::text)::timestamptz
								AT TIME ZONE coalesce(c.time_zone, 'UTC'), 'YYYY-MM-DD'),
				'reference_number', left(pid, 100),
				'description', left(concat_ws(' ', 'Togai payment', pid,
					'(' || nullif(concat_ws(' ', payment ->> 'source_name', payment ->> 'source_type',
											payment ->> 'transaction_number'), '') || ')'), 500),
				'invoices', z.invoices),
			'advance', advance)))
	  INTO apply
	  FROM (SELECT k.zconn, coalesce(i.amount, 0) + coalesce(advance, 0) AS amount,
				   coalesce(i.invoices, '[]') AS invoices
			  FROM (SELECT p.zconn FROM jsonb_to_recordset(recs) AS p(zconn bigint, zid text)
					 WHERE p.zid IS NOT NULL
					UNION
					SELECT m.zohobooks_connection_id FROM togai_zoho.id_mapping m
					 WHERE advance > 0 AND m.entity = 'account'
					   AND m.togai_connection_id = togai_payment_context.togai_connection_id
					   AND m.togai_id = payment ->> 'account_id') k
			  LEFT JOIN LATERAL (
					SELECT sum(p.amount) AS amount,
						   jsonb_agg(jsonb_build_object('invoice_id', p.zid, 'amount_applied', p.amount)
									 ORDER BY p.n) AS invoices
					  FROM jsonb_to_recordset(recs) AS p(n bigint, amount numeric, zconn bigint, zid text)
					 WHERE p.zid IS NOT NULL AND p.zconn = k.zconn) i ON true) z
	  JOIN togai_zoho.connection c ON c.id = z.zconn;

	SELECT jsonb_agg(DISTINCT upper(r ->> 'type')) INTO others
	  FROM jsonb_array_elements(CASE jsonb_typeof(payment -> 'records') WHEN 'array'
								THEN payment -> 'records' ELSE '[]' END) r
	 WHERE upper(r ->> 'type') IS DISTINCT FROM 'INVOICE'
	   AND upper(r ->> 'type') NOT IN ('CREDIT', 'WALLET_CREDIT');
	RETURN jsonb_strip_nulls(jsonb_build_object('echo', echo, 'waiting', waiting, 'blocked', blocked,
		'apply', coalesce(apply, '{}'), 'not_invoices', others));
END
$$;
COMMENT ON FUNCTION togai_zoho.togai_payment_context(bigint, jsonb) IS
'What a payment_apply job sends to each Zoho Books connection for a Togai payment (a payments row), whether it is an echo, and what it waits for';
REVOKE ALL ON FUNCTION togai_zoho.togai_payment_context(bigint, jsonb) FROM PUBLIC;
