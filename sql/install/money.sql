/*
 * money.sql
 *	  Invoice lines, exact (Togai's revenue tree as Zoho Books line items whose
 *	  total equals the Togai total to the minor unit, numeric throughout), and
 *	  what a job needs from the database besides its source row, worked out when
 *	  it is claimed: currency and item ids, and for inbound jobs the Togai ids
 *	  their Zoho Books objects map to.
 */

/* Digits after the decimal point of a currency's minor unit (ISO 4217). */
CREATE FUNCTION togai_zoho.currency_digits(currency text)
	RETURNS integer
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT CASE
	WHEN currency IN ('BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG', 'RWF',
					  'UGX', 'UYI', 'VND', 'VUV', 'XAF', 'XOF', 'XPF') THEN 0
	WHEN currency IN ('BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND') THEN 3
	ELSE 2 END
$$;
COMMENT ON FUNCTION togai_zoho.currency_digits(text) IS 'Digits of a currency''s minor unit (ISO 4217): 0, 2 or 3';

/* Significant digits of a number: a C double carries 15 of them exactly. */
CREATE FUNCTION togai_zoho.significant_digits(n numeric)
	RETURNS integer
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT length(ltrim(replace(trim_scale(abs(n))::text, '.', ''), '0'))
$$;
COMMENT ON FUNCTION togai_zoho.significant_digits(numeric) IS 'Significant digits of a number (a double carries 15 exactly)';

/*
 * A JSON number, or a string holding one, as numeric; NULL for anything else.
 * Never raises: it runs inside the worker's claim, where one bad row must not
 * stop every job.
 */
CREATE FUNCTION togai_zoho.json_numeric(v jsonb)
	RETURNS numeric
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT CASE jsonb_typeof(v)
	WHEN 'number' THEN (v #>> '{}')::numeric
	WHEN 'string' THEN CASE WHEN v #>> '{}' ~ '^\s*-?[0-9]{1,30}(\.[0-9]{1,30})?\s*$'
							THEN (v #>> '{}')::numeric END
	END
$$;
COMMENT ON FUNCTION togai_zoho.json_numeric(jsonb) IS 'A JSON number, or a string holding a plain decimal, as numeric; NULL otherwise (never raises)';

/*
 * The prepaid credits applied on a Togai invoice: its TOTAL_CREDITS nodes (or,
 * without one, its SUB_CREDITS), as a positive amount of the currency.
 */
CREATE FUNCTION togai_zoho.invoice_credits(invoice jsonb, digits integer)
	RETURNS numeric
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT round(coalesce(
	(SELECT sum(abs(togai_zoho.json_numeric(n -> 'value')))
	   FROM jsonb_path_query(coalesce(invoice -> 'revenue_info', invoice -> 'revenueInfo', 'null'),
							 'strict $.**? (@.type == "TOTAL_CREDITS")') n),
	(SELECT sum(abs(togai_zoho.json_numeric(n -> 'value')))
	   FROM jsonb_path_query(coalesce(invoice -> 'revenue_info', invoice -> 'revenueInfo', 'null'),
							 'strict $.**? (@.type == "SUB_CREDITS")') n), 0), digits)
$$;
COMMENT ON FUNCTION togai_zoho.invoice_credits(jsonb, integer) IS
'Prepaid credits applied on a Togai invoice row (its TOTAL_CREDITS nodes, else its SUB_CREDITS), positive, rounded to the currency';

CREATE FUNCTION togai_zoho.invoice_line_items(invoice jsonb)
	RETURNS jsonb
	LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	currency text := coalesce(invoice ->> 'currency', invoice #>> '{revenue_info,units}');
	digits integer := togai_zoho.currency_digits(currency);
	total numeric := round(coalesce(togai_zoho.json_numeric(invoice -> 'total_amount'), 0), digits);
	nodes jsonb := invoice #> '{revenue_info,lineItems}';
	node jsonb;
	lines jsonb := '[]';
	sum numeric := 0;
	qty numeric;
	rate numeric;
	amount numeric;
	detail text;
	reference text := coalesce(invoice ->> 'sequence_id', invoice ->> 'invoice_id', '');
	taxes jsonb;
BEGIN
	/*
	 * A single total, net or gross node stands for its children; taxes are
	 * beside it (they become line taxes or travel in the adjustment, never
	 * lines).
	 */
	LOOP
		nodes := (SELECT jsonb_agg(e ORDER BY n) FROM jsonb_array_elements(
					  CASE jsonb_typeof(nodes) WHEN 'array' THEN nodes ELSE '[]' END) WITH ORDINALITY AS x(e, n)
				   WHERE e ->> 'type' IS DISTINCT FROM 'TOTAL_TAX_AMOUNT'
					 AND e ->> 'type' IS DISTINCT FROM 'TAX_AMOUNT');
		EXIT WHEN NOT coalesce(jsonb_typeof(nodes) = 'array' AND jsonb_array_length(nodes) = 1
			AND nodes -> 0 ->> 'type' IN ('GRAND_TOTAL_AMOUNT', 'TOTAL_AMOUNT', 'NET_AMOUNT',
										  'GROSS_AMOUNT', 'PRICE_PLAN_AMOUNT', 'SUB_TOTAL_AMOUNT')
			AND jsonb_typeof(nodes -> 0 -> 'lineItems') = 'array'
			AND jsonb_array_length(nodes -> 0 -> 'lineItems') > 0, false);
		nodes := nodes -> 0 -> 'lineItems';
	END LOOP;

	IF jsonb_typeof(nodes) = 'array' THEN
		FOR node IN SELECT e FROM jsonb_array_elements(nodes) e LOOP
			CONTINUE WHEN jsonb_typeof(node) <> 'object'
				OR coalesce(node ->> 'type' IN ('TOTAL_USAGE', 'USAGE_METER_USAGE'), false)
				OR jsonb_typeof(node -> 'value') IS DISTINCT FROM 'number';
			amount := round((node ->> 'value')::numeric, digits);
			/*
			 * credits and discounts travel in the adjustment: Zoho refuses negative
			 * lines (an invoice_credits action turns the credits into a credit note)
			 */
			CONTINUE WHEN amount < 0 OR node ->> 'type' IN ('TOTAL_CREDITS', 'SUB_CREDITS');
			qty := togai_zoho.json_numeric(node -> 'quantity');
			rate := togai_zoho.json_numeric(node -> 'valuePerQuantity');
			SELECT string_agg(format('%s: %s', s ->> 'description',
									 CASE WHEN s ? 'quantity' AND s ? 'valuePerQuantity'
										  THEN format('%s × %s = %s', s ->> 'quantity',
													  s ->> 'valuePerQuantity', s ->> 'value')
										  ELSE s ->> 'value' END), '; ')
			  INTO detail
			  FROM jsonb_array_elements(CASE WHEN jsonb_typeof(node -> 'lineItems') = 'array'
											 THEN node -> 'lineItems' ELSE '[]' END) s
			 WHERE jsonb_typeof(s) = 'object';
			IF qty > 0 AND rate >= 0 AND round(qty * rate, digits) = amount
			   AND togai_zoho.significant_digits(qty) <= 15
			   AND togai_zoho.significant_digits(rate) <= 15 THEN
				lines := lines || jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
					'name', left(coalesce(node ->> 'description', 'Togai line item'), 255),
					'description', detail, 'quantity', qty, 'rate', rate)));
			ELSE
				/* the value is the truth when quantity × rate does not give it */
				lines := lines || jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
					'name', left(coalesce(node ->> 'description', 'Togai line item'), 255),
					'description', coalesce(detail, CASE WHEN qty IS NOT NULL
						THEN format('%s × %s', qty, rate) END),
					'quantity', 1, 'rate', amount)));
			END IF;
			sum := sum + amount;
		END LOOP;
	END IF;

	taxes := togai_zoho.invoice_taxes(invoice, digits, sum);
	IF jsonb_array_length(lines) = 0 THEN
		RETURN jsonb_strip_nulls(jsonb_build_object('lines', jsonb_build_array(jsonb_build_object(
			'name', 'Togai invoice ' || reference, 'quantity', 1, 'rate', greatest(total, 0))),
			'adjustment', CASE WHEN total < 0 THEN total END));
	END IF;
	RETURN jsonb_strip_nulls(jsonb_build_object('lines', lines,
		'adjustment', CASE WHEN total <> sum THEN total - sum END, 'taxes', taxes,
		'credits', nullif(togai_zoho.invoice_credits(invoice, digits), 0)));
END
$$;
COMMENT ON FUNCTION togai_zoho.invoice_line_items(jsonb) IS
'Zoho Books line items of a Togai invoice row, exact: {"lines": [...], "adjustment": n}; the lines plus the adjustment equal the Togai total to the minor unit';

/* Zoho Books currency ids by code, learnt from GET /settings/currencies. */
CREATE TABLE togai_zoho.zohobooks_currency (
	connection_id bigint NOT NULL REFERENCES togai_zoho.connection (id) ON DELETE CASCADE,
	currency_code text NOT NULL CHECK (currency_code ~ '^[A-Z]{3}$'),
	currency_id   text NOT NULL CHECK (currency_id <> ''),
	learnt_at     timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (connection_id, currency_code)
);
COMMENT ON TABLE togai_zoho.zohobooks_currency IS 'Zoho Books currency ids by ISO code, per connection, learnt from GET /settings/currencies (a cache)';
COMMENT ON COLUMN togai_zoho.zohobooks_currency.connection_id IS 'Zoho Books connection';
COMMENT ON COLUMN togai_zoho.zohobooks_currency.currency_code IS 'ISO 4217 code';
COMMENT ON COLUMN togai_zoho.zohobooks_currency.currency_id IS 'Zoho Books currency_id of the code in the organization';
COMMENT ON COLUMN togai_zoho.zohobooks_currency.learnt_at IS 'When it was learnt';

/* Zoho Books item ids by name, found or made for the lines of invoices. */
CREATE TABLE togai_zoho.zohobooks_item (
	connection_id bigint NOT NULL REFERENCES togai_zoho.connection (id) ON DELETE CASCADE,
	name          text NOT NULL CHECK (name <> '' AND length(name) <= 100),
	item_id       text NOT NULL CHECK (item_id <> ''),
	learnt_at     timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (connection_id, name)
);
COMMENT ON TABLE togai_zoho.zohobooks_item IS
'The Zoho Books item of each line name (a Togai rate card or line type), found by name or made once per organization; delete a row to have it looked up again';
COMMENT ON COLUMN togai_zoho.zohobooks_item.connection_id IS 'Zoho Books connection (organization)';
COMMENT ON COLUMN togai_zoho.zohobooks_item.name IS 'Item name: the line''s rate card or type, cut to Zoho''s 100 characters';
COMMENT ON COLUMN togai_zoho.zohobooks_item.item_id IS 'Zoho Books item_id';
COMMENT ON COLUMN togai_zoho.zohobooks_item.learnt_at IS 'When the item was found or made';
SELECT pg_catalog.pg_extension_config_dump('togai_zoho.zohobooks_item', '');

CREATE FUNCTION togai_zoho.payment_context(zohobooks_connection_id bigint, entity text, object jsonb)
	RETURNS jsonb
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	applied jsonb;
	txn text;
	records jsonb;
	amount numeric;
	unmapped jsonb;
	first_invoice text;
	togai_conn bigint;
	acc text;
	cur text;
	recorded text;
BEGIN
	IF entity = 'payment' THEN
		txn := object ->> 'payment_id';
		applied := CASE WHEN jsonb_typeof(object -> 'invoices') = 'array' THEN object -> 'invoices'
					   ELSE '[]' END;
		SELECT jsonb_agg(jsonb_build_object('togaiId', m.togai_id,
											'amount', togai_zoho.json_numeric(x -> 'amount_applied'),
											'type', 'INVOICE', 'order', n) ORDER BY n)
				 FILTER (WHERE m.togai_id IS NOT NULL),
			   sum(togai_zoho.json_numeric(x -> 'amount_applied')) FILTER (WHERE m.togai_id IS NOT NULL),
			   jsonb_agg(x ->> 'invoice_id') FILTER (WHERE m.togai_id IS NULL),
			   min(m.togai_id), min(m.togai_connection_id)
		  INTO records, amount, unmapped, first_invoice, togai_conn
		  FROM jsonb_array_elements(applied) WITH ORDINALITY AS a(x, n)
		  LEFT JOIN togai_zoho.id_mapping m
			ON m.entity = 'invoice' AND m.zohobooks_connection_id = payment_context.zohobooks_connection_id
		   AND m.zohobooks_id = x ->> 'invoice_id'
		 WHERE jsonb_typeof(x) = 'object' AND togai_zoho.json_numeric(x -> 'amount_applied') > 0;
	ELSE
		/* invoice_paid: what the Togai invoice still owes */
		txn := 'invoice:' || (object ->> 'invoice_id');
		SELECT m.togai_id, m.togai_connection_id,
			   greatest(i.total_amount - coalesce(i.paid_amount, 0), 0)
		  INTO first_invoice, togai_conn, amount
		  FROM togai_zoho.id_mapping m
		  LEFT JOIN togai_zoho.invoices i ON i.connection_id = m.togai_connection_id
										 AND i.invoice_id = m.togai_id
		 WHERE m.entity = 'invoice' AND m.zohobooks_connection_id = payment_context.zohobooks_connection_id
		   AND m.zohobooks_id = object ->> 'invoice_id';
		IF first_invoice IS NOT NULL AND amount > 0 THEN
			records := jsonb_build_array(jsonb_build_object('togaiId', first_invoice, 'amount', amount,
															'type', 'INVOICE', 'order', 1));
		END IF;
	END IF;

	SELECT m.togai_id INTO recorded FROM togai_zoho.id_mapping m
	 WHERE m.entity = 'payment' AND m.zohobooks_connection_id = payment_context.zohobooks_connection_id
	   AND m.zohobooks_id = txn;
	IF recorded IS NULL AND entity = 'payment' THEN
		/* made by payment_apply for a Togai payment (its reference): never sent back */
		SELECT p.payment_id INTO recorded FROM togai_zoho.payments p
		 WHERE p.connection_id = togai_conn AND p.payment_id = object ->> 'reference_number';
	END IF;
	SELECT i.account_id, i.currency INTO acc, cur FROM togai_zoho.invoices i
	 WHERE i.connection_id = togai_conn AND i.invoice_id = first_invoice;
	IF acc IS NULL THEN
		SELECT m.togai_id INTO acc FROM togai_zoho.id_mapping m
		 WHERE m.entity = 'account' AND m.zohobooks_connection_id = payment_context.zohobooks_connection_id
		   AND m.zohobooks_id = object ->> 'customer_id';
	END IF;
	RETURN jsonb_strip_nulls(jsonb_build_object(
		'transaction', txn, 'recorded', recorded, 'account_id', acc,
		'currency', coalesce(nullif(object ->> 'currency_code', ''), cur),
		'amount', amount, 'records', records, 'unmapped', unmapped,
		'skip', CASE WHEN records IS NULL THEN
			CASE WHEN entity = 'payment' THEN 'no invoice of the payment was synced from Togai: nothing to record'
				 ELSE 'the invoice was not synced from Togai, or Togai has it paid already: nothing to record' END
		END));
END
$$;
COMMENT ON FUNCTION togai_zoho.payment_context(bigint, text, jsonb) IS
'Togai account, currency, amount and invoice records of a Zoho Books payment (or paid invoice), from the mappings';

/*
 * What a job following a Togai invoice (a write-off, refund or update)
 * waits for: the invoice on its way to Zoho Books or not marked sent yet
 * ("waiting"), or stops at: the invoice's own job dead ("blocked").
 * zoho_invoice_ids: its Zoho Books invoices by connection, NULL if none.
 */
CREATE FUNCTION togai_zoho.invoice_waits(togai_invoice_id text, zoho_invoice_ids jsonb)
	RETURNS jsonb
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	job record;
BEGIN
	SELECT * INTO job FROM togai_zoho.invoice_job(togai_invoice_id);
	RETURN jsonb_strip_nulls(jsonb_build_object('waiting', coalesce(
		(SELECT format('Zoho Books invoice %s is not marked sent yet', u.invoice_id)
		   FROM togai_zoho.zohobooks_unsent u
		  WHERE u.invoice_id IN (SELECT e.value FROM jsonb_each_text(zoho_invoice_ids) e)
		  LIMIT 1),
		CASE WHEN job.state IN ('pending', 'running')
			 THEN format('invoice %s is on its way to Zoho Books', togai_invoice_id) END),
		'blocked', CASE WHEN job.state = 'dead' AND zoho_invoice_ids IS NULL
			THEN format('the invoice did not reach Zoho Books (its job %s is dead): '
						'retry that job, then this one', job.id) END));
END
$$;
COMMENT ON FUNCTION togai_zoho.invoice_waits(text, jsonb) IS
'Internal: what a job following a Togai invoice waits for (its invoice on its way or unsent) or stops at (the invoice''s job dead)';
REVOKE ALL ON FUNCTION togai_zoho.invoice_waits(text, jsonb) FROM PUBLIC;

CREATE FUNCTION togai_zoho.job_context(entity text, connection_id bigint, payload jsonb)
	RETURNS jsonb
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	app text;
	ctx jsonb;
	mappings jsonb;
	organizations bigint[];
	digits integer := togai_zoho.currency_digits(coalesce(payload ->> 'currency',
														   payload #>> '{revenue_info,units}'));
BEGIN
	SELECT c.app INTO app FROM togai_zoho.connection c WHERE c.id = job_context.connection_id;
	IF app = 'togai' THEN
		/*
		 * The Zoho Books objects the account (and the invoice) map to, per Zoho
		 * Books connection.  Two primary-key look-ups: written as one OR, the
		 * generic plan scanned every mapping of the connection.
		 */
		SELECT jsonb_object_agg(x.entity, x.ids) INTO mappings
		  FROM (SELECT m.entity, jsonb_object_agg(m.zohobooks_connection_id::text, m.zohobooks_id) AS ids
				  FROM (SELECT a.entity, a.zohobooks_connection_id, a.zohobooks_id FROM togai_zoho.id_mapping a
						 WHERE a.entity = 'account' AND a.togai_id = payload ->> 'account_id'
						   AND a.togai_connection_id = job_context.connection_id
						UNION ALL
						SELECT i.entity, i.zohobooks_connection_id, i.zohobooks_id FROM togai_zoho.id_mapping i
						 WHERE i.entity = 'invoice' AND job_context.entity = 'invoice'
						   AND i.togai_id = payload ->> 'invoice_id'
						   AND i.togai_connection_id = job_context.connection_id) m
				 GROUP BY m.entity) x;
		/* and the unique custom fields the creates upsert by */
		mappings := jsonb_build_object('mappings', coalesce(mappings, '{}'))
			|| togai_zoho.zohobooks_unique_fields();
		/* the organizations the account is in: each bills the invoice its own way */
		organizations := ARRAY(SELECT k::bigint FROM jsonb_object_keys(coalesce(
							 mappings #> '{mappings,account}', '{}')) k);
		IF entity = 'invoice' THEN
			ctx := togai_zoho.invoice_line_items(payload);
			/* the one line standing for a whole invoice bills the same item for every invoice */
			IF jsonb_array_length(ctx -> 'lines') = 1
			   AND ctx #>> '{lines,0,name}' = 'Togai invoice ' || coalesce(payload ->> 'sequence_id',
																	   payload ->> 'invoice_id', '') THEN
				ctx := jsonb_set(ctx, '{lines,0,item}', '"Togai invoice"');
			END IF;
			IF ctx ? 'taxes' THEN
				ctx := ctx || jsonb_build_object('tax_plans', togai_zoho.invoice_tax_plans(
					ctx -> 'lines', ctx -> 'taxes',
					round(togai_zoho.json_numeric(payload -> 'total_amount'), digits), digits,
					organizations));
			END IF;
			IF payload ->> 'status' IN ('UN_COLLECTIBLE', 'REFUND_COMPLETED')
			   OR NOT mappings #> '{mappings}' ? 'invoice' THEN
				/*
				 * a write-off, refund or update follows the invoice: waits while it
				 * is on its way or unsent
				 */
				ctx := ctx || togai_zoho.invoice_waits(payload ->> 'invoice_id',
													   mappings #> '{mappings,invoice}');
			END IF;
			/*
			 * credits are applied once the invoice is sent, from the advances of
			 * the account's credit purchases first
			 */
			IF ctx ? 'credits' AND mappings #> '{mappings}' ? 'invoice' THEN
				ctx := ctx || jsonb_strip_nulls(jsonb_build_object('unsent',
					(SELECT jsonb_agg(u.invoice_id) FROM togai_zoho.zohobooks_unsent u
					  WHERE u.invoice_id IN (SELECT jsonb_each_text.value
											   FROM jsonb_each_text(mappings #> '{mappings,invoice}')))))
					|| togai_zoho.customer_advances(job_context.connection_id, payload ->> 'account_id',
													organizations);
			END IF;
			IF payload ->> 'status' = 'REFUND_COMPLETED' OR ctx ? 'credits' THEN
				/* credit notes and refunds are dated today in each organization */
				ctx := ctx || jsonb_build_object('digits', digits, 'credit_note_dates',
					(SELECT jsonb_object_agg(c.id::text, to_char(now() AT TIME ZONE coalesce(c.time_zone, 'UTC'),
																 'YYYY-MM-DD'))
					   FROM togai_zoho.connection c WHERE c.id = ANY (organizations)));
			END IF;
			ctx := ctx || jsonb_strip_nulls(jsonb_build_object('exchange', togai_zoho.exchange_plans(
				coalesce(payload ->> 'currency', payload #>> '{revenue_info,units}'),
				left(payload ->> 'invoice_date', 10),
				togai_zoho.json_numeric(payload #> '{raw,exchangeRate}'),
				organizations)));
			RETURN ctx || mappings || jsonb_build_object('item_ids',
				(SELECT jsonb_object_agg(z.connection_id::text, z.ids)
				   FROM (SELECT i.connection_id, jsonb_object_agg(i.name, i.item_id) AS ids
						   FROM togai_zoho.zohobooks_item i
						  WHERE i.name IN (SELECT left(coalesce(l ->> 'item', l ->> 'name'), 100)
											 FROM jsonb_array_elements(ctx -> 'lines') l)
						  GROUP BY i.connection_id) z));
		ELSIF entity = 'payment' THEN
			ctx := togai_zoho.togai_payment_context(job_context.connection_id, payload);
			RETURN ctx || mappings || jsonb_strip_nulls(jsonb_build_object('exchange',
				togai_zoho.exchange_plans(payload ->> 'currency',
					(SELECT min(x.value #>> '{body,date}') FROM jsonb_each(ctx -> 'apply') x(key, value)),
					togai_zoho.json_numeric(payload #> '{raw,exchangeRate}'),
					ARRAY(SELECT k::bigint FROM jsonb_object_keys(ctx -> 'apply') k))));
		ELSIF entity = 'account' THEN
			RETURN mappings || jsonb_build_object('currency_ids',
				(SELECT jsonb_object_agg(z.connection_id::text, z.currency_id)
				   FROM togai_zoho.zohobooks_currency z
				  WHERE z.currency_code = payload ->> 'invoice_currency'));
		END IF;
		RETURN mappings;
	END IF;
	IF entity IN ('payment', 'invoice') THEN
		RETURN togai_zoho.payment_context(job_context.connection_id, entity, payload -> 'payload');
	ELSIF entity = 'contact' THEN
		RETURN jsonb_build_object('account_id',
			(SELECT m.togai_id FROM togai_zoho.id_mapping m
			  WHERE m.entity = 'account' AND m.zohobooks_connection_id = job_context.connection_id
				AND m.zohobooks_id = payload ->> 'remote_id'));
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION togai_zoho.job_context(text, bigint, jsonb) IS
'What a delivery job needs besides its source row, worked out when it is claimed';
