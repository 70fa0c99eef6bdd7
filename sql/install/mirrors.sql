/*
 * mirrors.sql
 *	  The sources: mirrors of Togai objects (customers, invoices) and the inbox of
 *	  Zoho Books objects. Inserting or updating a row fires flows (enqueue_sync).
 *	  An upsert changes a row only when the object changed, so a repeat (a poll
 *	  seeing it again, a webhook delivered twice) fires nothing.
 */

CREATE FUNCTION togai_zoho.enqueue_sync()
	RETURNS trigger
	LANGUAGE c
	AS 'MODULE_PATHNAME', 'enqueue_sync';
COMMENT ON FUNCTION togai_zoho.enqueue_sync() IS
'Row trigger: enqueues one outbox job per enabled flow the change fires, coalescing with a pending job. On your own tables: AFTER INSERT OR UPDATE ... EXECUTE FUNCTION togai_zoho.enqueue_sync(''account'' | ''invoice'', ''<togai connection>''), columns named as in customers / invoices';

CREATE TABLE togai_zoho.customers (
	connection_id    bigint NOT NULL DEFAULT togai_zoho.default_togai_connection(),
	account_id       text NOT NULL CHECK (account_id <> '' AND length(account_id) <= 255),
	customer_id      text NOT NULL CHECK (customer_id <> '' AND length(customer_id) <= 255),
	name             text NOT NULL CHECK (name <> ''),
	customer_name    text,
	primary_email    text,
	invoice_currency text CHECK (invoice_currency ~ '^[A-Z]{3}$'),
	net_term_days    integer CHECK (net_term_days >= 0),
	status           text NOT NULL DEFAULT 'ACTIVE'
		CHECK (status IN ('ACTIVE', 'DRAFT', 'ARCHIVED')),
	address          jsonb CHECK (jsonb_typeof(address) = 'object'),
	metadata         jsonb CHECK (jsonb_typeof(metadata) = 'object'),
	tags             text[],
	raw              jsonb CHECK (jsonb_typeof(raw) = 'object'),
	togai_updated_at timestamptz,
	mirrored_at      timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (connection_id, account_id),
	FOREIGN KEY (connection_id) REFERENCES togai_zoho.connection (id) ON DELETE CASCADE
);
COMMENT ON TABLE togai_zoho.customers IS 'Mirror of Togai accounts (one row per account, with its customer); inserts and updates fire the account flows';
COMMENT ON COLUMN togai_zoho.customers.connection_id IS 'Togai connection the account belongs to; defaults to the only Togai connection';
COMMENT ON COLUMN togai_zoho.customers.account_id IS 'Togai account id (Account.id)';
COMMENT ON COLUMN togai_zoho.customers.customer_id IS 'Togai customer id owning the account (Account.customerId)';
COMMENT ON COLUMN togai_zoho.customers.name IS 'Account name (Account.name)';
COMMENT ON COLUMN togai_zoho.customers.customer_name IS 'Customer (company) name (Customer.name)';
COMMENT ON COLUMN togai_zoho.customers.primary_email IS 'Account primary email (Account.primaryEmail)';
COMMENT ON COLUMN togai_zoho.customers.invoice_currency IS 'ISO 4217 invoice currency (Account.invoiceCurrency)';
COMMENT ON COLUMN togai_zoho.customers.net_term_days IS 'Payment terms in days (Account.netTermDays)';
COMMENT ON COLUMN togai_zoho.customers.status IS 'ACTIVE, DRAFT or ARCHIVED (Account.status)';
COMMENT ON COLUMN togai_zoho.customers.address IS 'Billing address as Togai''s Address object: line1, line2, postalCode, city, state, country, phoneNumber';
COMMENT ON COLUMN togai_zoho.customers.metadata IS 'Account metadata (string to string map)';
COMMENT ON COLUMN togai_zoho.customers.tags IS 'Account tags';
COMMENT ON COLUMN togai_zoho.customers.raw IS 'The Togai account object as received, for field mapping overrides';
COMMENT ON COLUMN togai_zoho.customers.togai_updated_at IS 'When Togai last changed the account, if known';
COMMENT ON COLUMN togai_zoho.customers.mirrored_at IS 'When the row was first mirrored; leave it to its default: an inserted row mirrored before its transaction began is a restore and enqueues nothing';
CREATE INDEX customers_customer_idx ON togai_zoho.customers (customer_id);
SELECT pg_catalog.pg_extension_config_dump('togai_zoho.customers', '');
/*
 * The mirrors enqueue inserted rows a statement at a time (one outbox insert
 * for a whole poll page, backfill or bulk load, from the statement's
 * transition table) and updated rows a row at a time (an update that changes
 * nothing is skipped before any work).
 */
CREATE TRIGGER enqueue_sync AFTER UPDATE ON togai_zoho.customers
	FOR EACH ROW EXECUTE FUNCTION togai_zoho.enqueue_sync('account');
CREATE TRIGGER enqueue_sync_inserted AFTER INSERT ON togai_zoho.customers
	REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION togai_zoho.enqueue_sync('account');

CREATE TABLE togai_zoho.invoices (
	connection_id    bigint NOT NULL DEFAULT togai_zoho.default_togai_connection(),
	invoice_id       text NOT NULL CHECK (invoice_id <> '' AND length(invoice_id) <= 255),
	account_id       text NOT NULL CHECK (account_id <> ''),
	customer_id      text,
	status           text NOT NULL CHECK (status IN ('DRAFT', 'DUE', 'PAID', 'VOID',
		'UN_COLLECTIBLE', 'REFUND_INITIATED', 'REFUND_COMPLETED', 'MERGED', 'PARTIALLY_PAID')),
	sequence_id      text,
	invoice_date     timestamptz,
	due_date         timestamptz,
	start_date       timestamptz,
	end_date         timestamptz,
	generated_at     timestamptz,
	currency         text CHECK (currency ~ '^[A-Z]{3}$'),
	total_amount     numeric CHECK (total_amount >= 0),
	paid_amount      numeric CHECK (paid_amount >= 0),
	net_term_days    integer CHECK (net_term_days >= 0),
	pdf_url          text,
	revenue_info     jsonb CHECK (jsonb_typeof(revenue_info) = 'object'),
	raw              jsonb CHECK (jsonb_typeof(raw) = 'object'),
	togai_updated_at timestamptz,
	mirrored_at      timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (connection_id, invoice_id),
	FOREIGN KEY (connection_id) REFERENCES togai_zoho.connection (id) ON DELETE CASCADE
);
COMMENT ON TABLE togai_zoho.invoices IS 'Mirror of Togai invoices; a move out of DRAFT fires invoice_generated, a move to VOID fires invoice_voided';
COMMENT ON COLUMN togai_zoho.invoices.connection_id IS 'Togai connection the invoice belongs to; defaults to the only Togai connection';
COMMENT ON COLUMN togai_zoho.invoices.invoice_id IS 'Togai invoice id (Invoice.id)';
COMMENT ON COLUMN togai_zoho.invoices.account_id IS 'Togai account owning the invoice (Invoice.ownerId)';
COMMENT ON COLUMN togai_zoho.invoices.customer_id IS 'Togai customer id (Invoice.customerId)';
COMMENT ON COLUMN togai_zoho.invoices.status IS 'Togai invoice status (InvoicesStatus): DRAFT is ongoing, DUE/PAID/... are generated';
COMMENT ON COLUMN togai_zoho.invoices.sequence_id IS 'Human invoice number (Invoice.sequenceId)';
COMMENT ON COLUMN togai_zoho.invoices.invoice_date IS 'Invoice date (Invoice.invoiceDate)';
COMMENT ON COLUMN togai_zoho.invoices.due_date IS 'Due date (Invoice.dueDate)';
COMMENT ON COLUMN togai_zoho.invoices.start_date IS 'Start of the billing period (Invoice.startDate)';
COMMENT ON COLUMN togai_zoho.invoices.end_date IS 'End of the billing period (Invoice.endDate)';
COMMENT ON COLUMN togai_zoho.invoices.generated_at IS 'When Togai generated the invoice (Invoice.generatedAt)';
COMMENT ON COLUMN togai_zoho.invoices.currency IS 'ISO 4217 currency of the amounts';
COMMENT ON COLUMN togai_zoho.invoices.total_amount IS 'Invoice total, exact (Invoice.totalAmount)';
COMMENT ON COLUMN togai_zoho.invoices.paid_amount IS 'Amount paid so far, exact (Invoice.paidAmount)';
COMMENT ON COLUMN togai_zoho.invoices.net_term_days IS 'Payment terms in days (Invoice.netTermDays)';
COMMENT ON COLUMN togai_zoho.invoices.pdf_url IS 'Link to the invoice PDF (Invoice.pdfUrl)';
COMMENT ON COLUMN togai_zoho.invoices.revenue_info IS 'Revenue line-item tree (Invoice.revenueInfo), the source of the Zoho Books line items';
COMMENT ON COLUMN togai_zoho.invoices.raw IS 'The Togai invoice object as received';
COMMENT ON COLUMN togai_zoho.invoices.togai_updated_at IS 'When Togai last changed the invoice (Invoice.updatedAt)';
COMMENT ON COLUMN togai_zoho.invoices.mirrored_at IS 'When the row was first mirrored; leave it to its default: an inserted row mirrored before its transaction began is a restore and enqueues nothing';
CREATE INDEX invoices_account_idx ON togai_zoho.invoices (connection_id, account_id);
SELECT pg_catalog.pg_extension_config_dump('togai_zoho.invoices', '');
CREATE TRIGGER enqueue_sync AFTER UPDATE ON togai_zoho.invoices
	FOR EACH ROW EXECUTE FUNCTION togai_zoho.enqueue_sync('invoice');
CREATE TRIGGER enqueue_sync_inserted AFTER INSERT ON togai_zoho.invoices
	REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION togai_zoho.enqueue_sync('invoice');

CREATE TABLE togai_zoho.inbox (
	id                 bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	connection_id      bigint NOT NULL
		REFERENCES togai_zoho.connection (id) ON DELETE CASCADE,
	entity             text NOT NULL CHECK (entity IN ('payment', 'invoice', 'contact')),
	remote_id          text NOT NULL CHECK (remote_id <> '' AND length(remote_id) <= 255),
	status             text,
	payload            jsonb NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
	remote_modified_at timestamptz,
	source             text NOT NULL DEFAULT 'poll' CHECK (source IN ('poll', 'webhook')),
	received_at        timestamptz NOT NULL DEFAULT now(),
	UNIQUE (connection_id, entity, remote_id)
);
COMMENT ON TABLE togai_zoho.inbox IS 'Zoho Books objects seen by poll_zohobooks() or receive_webhook(); inserts and changes fire the inbound flows';
COMMENT ON COLUMN togai_zoho.inbox.id IS 'Inbox row id';
COMMENT ON COLUMN togai_zoho.inbox.connection_id IS 'Zoho Books connection the object came from';
COMMENT ON COLUMN togai_zoho.inbox.entity IS 'payment, invoice or contact';
COMMENT ON COLUMN togai_zoho.inbox.remote_id IS 'Zoho Books id of the object (payment_id, invoice_id, contact_id)';
COMMENT ON COLUMN togai_zoho.inbox.status IS 'Zoho Books status of the object, where it has one (invoice: paid fires invoice_paid)';
COMMENT ON COLUMN togai_zoho.inbox.payload IS 'The object as Zoho Books sent it';
COMMENT ON COLUMN togai_zoho.inbox.remote_modified_at IS 'Zoho Books last_modified_time of the object';
COMMENT ON COLUMN togai_zoho.inbox.source IS 'How the object arrived: poll or webhook';
COMMENT ON COLUMN togai_zoho.inbox.received_at IS 'When the object first arrived; an inserted row received before its transaction began is a restore and enqueues nothing';
SELECT pg_catalog.pg_extension_config_dump('togai_zoho.inbox', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('togai_zoho.inbox', 'id'), '');
CREATE TRIGGER enqueue_sync AFTER UPDATE ON togai_zoho.inbox
	FOR EACH ROW EXECUTE FUNCTION togai_zoho.enqueue_sync('inbox');
CREATE TRIGGER enqueue_sync_inserted AFTER INSERT ON togai_zoho.inbox
	REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION togai_zoho.enqueue_sync('inbox');

/* A remote timestamp, or NULL when it is missing or not one. */
CREATE FUNCTION togai_zoho.remote_time(value text)
	RETURNS timestamptz
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
BEGIN
	RETURN nullif(value, '')::timestamptz;
EXCEPTION WHEN data_exception THEN
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION togai_zoho.remote_time(text) IS 'A remote timestamp as timestamptz, or NULL when missing or malformed';

/* A JSON member that is an object, or NULL. */
CREATE FUNCTION togai_zoho.json_object_member(obj jsonb, key text)
	RETURNS jsonb
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT CASE WHEN jsonb_typeof(obj -> key) = 'object' THEN obj -> key END
$$;
COMMENT ON FUNCTION togai_zoho.json_object_member(jsonb, text) IS 'obj -> key when it is a JSON object, else NULL';

/* Upserts a Togai Account object into customers; true when the row changed. */
CREATE FUNCTION togai_zoho.mirror_account(connection_id bigint, account jsonb, customer_name text)
	RETURNS boolean
	LANGUAGE plpgsql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	changed boolean;
BEGIN
	INSERT INTO togai_zoho.customers AS t
		(connection_id, account_id, customer_id, name, customer_name, primary_email,
		 invoice_currency, net_term_days, status, address, metadata, tags, raw, togai_updated_at)
	VALUES (mirror_account.connection_id, account ->> 'id',
			coalesce(account ->> 'customerId', account ->> 'togaiCustomerId'),
			account ->> 'name', mirror_account.customer_name,
			nullif(account ->> 'primaryEmail', ''), nullif(account ->> 'invoiceCurrency', ''),
			(account ->> 'netTermDays')::integer, coalesce(account ->> 'status', 'ACTIVE'),
			togai_zoho.json_object_member(account, 'address'),
			togai_zoho.json_object_member(account, 'metadata'),
			CASE WHEN jsonb_typeof(account -> 'tags') = 'array'
				 THEN ARRAY(SELECT jsonb_array_elements_text(account -> 'tags')) END,
			account, togai_zoho.remote_time(account ->> 'updatedAt'))
	ON CONFLICT ON CONSTRAINT customers_pkey DO UPDATE SET
		customer_id = EXCLUDED.customer_id, name = EXCLUDED.name,
		customer_name = coalesce(EXCLUDED.customer_name, t.customer_name),
		primary_email = EXCLUDED.primary_email, invoice_currency = EXCLUDED.invoice_currency,
		net_term_days = EXCLUDED.net_term_days, status = EXCLUDED.status,
		address = EXCLUDED.address, metadata = EXCLUDED.metadata, tags = EXCLUDED.tags,
		raw = EXCLUDED.raw, togai_updated_at = EXCLUDED.togai_updated_at,
		mirrored_at = now()
	/*
	 * What the contact is made of.  Keys the integration writes back into the
	 * metadata (zohobooks_*) are left out, so a write-back does not sync again.
	 */
	WHERE (t.customer_id, t.name, t.primary_email, t.invoice_currency, t.net_term_days,
		   t.status, t.address, t.tags,
		   (SELECT jsonb_object_agg(k, v) FROM jsonb_each(t.metadata) AS m(k, v)
			 WHERE k NOT LIKE 'zohobooks\_%'))
		  IS DISTINCT FROM
		  (EXCLUDED.customer_id, EXCLUDED.name, EXCLUDED.primary_email, EXCLUDED.invoice_currency,
		   EXCLUDED.net_term_days, EXCLUDED.status, EXCLUDED.address, EXCLUDED.tags,
		   (SELECT jsonb_object_agg(k, v) FROM jsonb_each(EXCLUDED.metadata) AS m(k, v)
			 WHERE k NOT LIKE 'zohobooks\_%'))
	   OR (EXCLUDED.customer_name IS NOT NULL AND t.customer_name IS DISTINCT FROM EXCLUDED.customer_name)
	RETURNING true INTO changed;
	RETURN coalesce(changed, false);
END
$$;
COMMENT ON FUNCTION togai_zoho.mirror_account(bigint, jsonb, text) IS
'Upserts a Togai Account object into customers; true when the row changed (which fires the account flows)';

/* Upserts a Togai Invoice object into invoices; true when the row changed. */
CREATE FUNCTION togai_zoho.mirror_invoice(connection_id bigint, invoice jsonb)
	RETURNS boolean
	LANGUAGE plpgsql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	changed boolean;
BEGIN
	INSERT INTO togai_zoho.invoices AS t
		(connection_id, invoice_id, account_id, customer_id, status, sequence_id, invoice_date,
		 due_date, start_date, end_date, generated_at, currency, total_amount, paid_amount,
		 net_term_days, pdf_url, revenue_info, raw, togai_updated_at)
	VALUES (mirror_invoice.connection_id, invoice ->> 'id', invoice ->> 'ownerId',
			invoice ->> 'customerId', invoice ->> 'status', invoice ->> 'sequenceId',
			togai_zoho.remote_time(invoice ->> 'invoiceDate'),
			togai_zoho.remote_time(invoice ->> 'dueDate'),
			togai_zoho.remote_time(invoice ->> 'startDate'),
			togai_zoho.remote_time(invoice ->> 'endDate'),
			togai_zoho.remote_time(invoice ->> 'generatedAt'),
			coalesce(nullif(invoice #>> '{revenueInfo,units}', ''),
					 nullif(invoice #>> '{invoiceDetails,account,invoiceCurrency}', '')),
			(invoice ->> 'totalAmount')::numeric, (invoice ->> 'paidAmount')::numeric,
			(invoice ->> 'netTermDays')::integer, invoice ->> 'pdfUrl',
			togai_zoho.json_object_member(invoice, 'revenueInfo'), invoice,
			togai_zoho.remote_time(invoice ->> 'updatedAt'))
	ON CONFLICT ON CONSTRAINT invoices_pkey DO UPDATE SET
		account_id = EXCLUDED.account_id, customer_id = EXCLUDED.customer_id,
		status = EXCLUDED.status, sequence_id = EXCLUDED.sequence_id,
		invoice_date = EXCLUDED.invoice_date, due_date = EXCLUDED.due_date,
		start_date = EXCLUDED.start_date, end_date = EXCLUDED.end_date,
		generated_at = EXCLUDED.generated_at, currency = coalesce(EXCLUDED.currency, t.currency),
		total_amount = EXCLUDED.total_amount, paid_amount = EXCLUDED.paid_amount,
		net_term_days = EXCLUDED.net_term_days, pdf_url = EXCLUDED.pdf_url,
		/* a summary (list entry, webhook) does not erase the lines */
		revenue_info = coalesce(EXCLUDED.revenue_info, t.revenue_info),
		raw = EXCLUDED.raw, togai_updated_at = EXCLUDED.togai_updated_at, mirrored_at = now()
	WHERE (t.status, t.total_amount, t.paid_amount, t.sequence_id, t.invoice_date, t.due_date,
		   t.account_id, t.togai_updated_at, t.revenue_info IS NULL)
		  IS DISTINCT FROM
		  (EXCLUDED.status, EXCLUDED.total_amount, EXCLUDED.paid_amount, EXCLUDED.sequence_id,
		   EXCLUDED.invoice_date, EXCLUDED.due_date, EXCLUDED.account_id,
		   EXCLUDED.togai_updated_at, EXCLUDED.revenue_info IS NULL AND t.revenue_info IS NULL)
	   OR (EXCLUDED.revenue_info IS NOT NULL AND t.revenue_info IS DISTINCT FROM EXCLUDED.revenue_info)
	RETURNING true INTO changed;
	RETURN coalesce(changed, false);
END
$$;
COMMENT ON FUNCTION togai_zoho.mirror_invoice(bigint, jsonb) IS
'Upserts a Togai Invoice object into invoices; true when the row changed (which fires the invoice flows)';

/*
 * What a Zoho Books payment says that a flow uses: a payment read from an
 * invoice's list of payments and the same payment read whole differ in
 * fields nobody reads, and must not count as a change.
 */
CREATE FUNCTION togai_zoho.payment_essence(p jsonb)
	RETURNS jsonb
	LANGUAGE sql IMMUTABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT jsonb_build_object('payment_id', p ->> 'payment_id', 'payment_mode', p ->> 'payment_mode',
		'date', p ->> 'date', 'amount', togai_zoho.json_numeric(p -> 'amount'),
		'reference_number', nullif(p ->> 'reference_number', ''),
		'invoices', (SELECT jsonb_agg(jsonb_build_object('invoice_id', x ->> 'invoice_id',
						'amount_applied', togai_zoho.json_numeric(x -> 'amount_applied'))
						ORDER BY x ->> 'invoice_id')
					   FROM jsonb_array_elements(CASE jsonb_typeof(p -> 'invoices')
							WHEN 'array' THEN p -> 'invoices' ELSE '[]' END) x))
$$;
COMMENT ON FUNCTION togai_zoho.payment_essence(jsonb) IS
'The fields of a Zoho Books payment the flows use, to tell a change from the same payment read another way';
REVOKE ALL ON FUNCTION togai_zoho.payment_essence(jsonb) FROM PUBLIC;

/* Upserts a Zoho Books object into the inbox; true when the row changed. */
CREATE FUNCTION togai_zoho.mirror_inbox(connection_id bigint, entity text, object jsonb,
												   source text)
	RETURNS boolean
	LANGUAGE plpgsql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	changed boolean;
BEGIN
	INSERT INTO togai_zoho.inbox AS t (connection_id, entity, remote_id, status, payload,
									   remote_modified_at, source)
	VALUES (mirror_inbox.connection_id, mirror_inbox.entity,
			object ->> (mirror_inbox.entity || '_id'), object ->> 'status', object,
			togai_zoho.remote_time(object ->> 'last_modified_time'), mirror_inbox.source)
	ON CONFLICT ON CONSTRAINT inbox_connection_id_entity_remote_id_key DO UPDATE SET
		status = EXCLUDED.status, payload = EXCLUDED.payload,
		remote_modified_at = EXCLUDED.remote_modified_at, source = EXCLUDED.source
	WHERE CASE WHEN t.entity = 'payment'
			   THEN togai_zoho.payment_essence(t.payload) IS DISTINCT FROM
					togai_zoho.payment_essence(EXCLUDED.payload)
			   ELSE t.payload IS DISTINCT FROM EXCLUDED.payload END
	RETURNING true INTO changed;
	RETURN coalesce(changed, false);
END
$$;
COMMENT ON FUNCTION togai_zoho.mirror_inbox(bigint, text, jsonb, text) IS
'Upserts a Zoho Books payment, invoice or contact into the inbox; true when the row changed';

/* The name of a Togai customer: known already, or read once. */
CREATE FUNCTION togai_zoho.togai_customer_name(connection text, connection_id bigint, customer_id text)
	RETURNS text
	LANGUAGE plpgsql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	found_name text;
BEGIN
	IF customer_id IS NULL THEN
		RETURN NULL;
	END IF;
	SELECT c.customer_name INTO found_name FROM togai_zoho.customers c
	 WHERE c.connection_id = togai_customer_name.connection_id
	   AND c.customer_id = togai_customer_name.customer_id AND c.customer_name IS NOT NULL
	 LIMIT 1;
	IF found_name IS NULL THEN
		found_name := togai_zoho.togai_call(togai_customer_name.connection, 'customer_get',
											jsonb_build_object('customer_id', customer_id)) ->> 'name';
	END IF;
	RETURN found_name;
END
$$;
COMMENT ON FUNCTION togai_zoho.togai_customer_name(text, bigint, text) IS
'The name of a Togai customer: from the mirror, or read once from Togai';

/* Mirrors one account with its customer's name (from this poll's walk, the mirror, or Togai). */
CREATE FUNCTION togai_zoho.take_account(c togai_zoho.connection, account jsonb, names jsonb DEFAULT '{}')
	RETURNS boolean
	LANGUAGE plpgsql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	customer text := coalesce(account ->> 'customerId', account ->> 'togaiCustomerId');
BEGIN
	RETURN togai_zoho.mirror_account(c.id, account,
		coalesce(names ->> customer, togai_zoho.togai_customer_name(c.name, c.id, customer)));
END
$$;
COMMENT ON FUNCTION togai_zoho.take_account(togai_zoho.connection, jsonb, jsonb) IS
'Mirrors one Togai account with its customer''s name (names: customer id -> name seen by this poll)';

/* A customer renamed in Togai renames its accounts' companies; true when any row changed. */
CREATE FUNCTION togai_zoho.take_customer(c togai_zoho.connection, customer jsonb)
	RETURNS boolean
	LANGUAGE plpgsql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
BEGIN
	UPDATE togai_zoho.customers x SET customer_name = customer ->> 'name'
	 WHERE x.connection_id = c.id AND x.customer_id = customer ->> 'id'
	   AND x.customer_name IS DISTINCT FROM customer ->> 'name' AND customer ->> 'name' <> '';
	RETURN FOUND;
END
$$;
COMMENT ON FUNCTION togai_zoho.take_customer(togai_zoho.connection, jsonb) IS
'Carries a Togai customer''s new name onto its mirrored accounts (which updates their contacts'' company)';

/*
 * Mirrors one invoice of a list (or a webhook): drafts only when already
 * mirrored; the full invoice (with its lines) read when it changed; the
 * account read first when the mirror lacks it (its contact comes first).
 * Every invoice seen is noted for the polls (note_togai_invoice).
 */
CREATE FUNCTION togai_zoho.take_invoice(c togai_zoho.connection, summary jsonb)
	RETURNS boolean
	LANGUAGE plpgsql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	known togai_zoho.invoices;
	full_invoice jsonb := summary;
BEGIN
	PERFORM togai_zoho.note_togai_invoice(c.id, summary);
	SELECT * INTO known FROM togai_zoho.invoices i
	 WHERE i.connection_id = c.id AND i.invoice_id = summary ->> 'id';
	IF NOT FOUND AND summary ->> 'status' = 'DRAFT' THEN
		RETURN false;			/* ongoing: nothing to sync until it is generated */
	END IF;
	IF FOUND AND known.status = summary ->> 'status'
	   AND known.paid_amount IS NOT DISTINCT FROM (summary ->> 'paidAmount')::numeric
	   AND known.raw ->> 'updatedAt' IS NOT DISTINCT FROM summary ->> 'updatedAt'
	   AND (known.revenue_info IS NOT NULL OR known.status = 'DRAFT') THEN
		RETURN false;
	END IF;
	IF summary ->> 'status' <> 'DRAFT' AND jsonb_typeof(summary -> 'revenueInfo') IS DISTINCT FROM 'object' THEN
		full_invoice := togai_zoho.togai_call(c.name, 'invoice_get',
											  jsonb_build_object('invoice_id', summary ->> 'id'));
	END IF;
	IF full_invoice ->> 'ownerId' <> '' AND NOT EXISTS (SELECT 1 FROM togai_zoho.customers a
					WHERE a.connection_id = c.id AND a.account_id = full_invoice ->> 'ownerId') THEN
		BEGIN
			PERFORM togai_zoho.take_account(c, togai_zoho.togai_call(c.name, 'account_get',
				jsonb_build_object('account_id', full_invoice ->> 'ownerId')));
		EXCEPTION WHEN SQLSTATE 'TZ404' THEN
			NULL;				/* not in Togai yet: the invoice's job waits for it */
		END;
	END IF;
	RETURN togai_zoho.mirror_invoice(c.id, full_invoice);
END
$$;
COMMENT ON FUNCTION togai_zoho.take_invoice(togai_zoho.connection, jsonb) IS
'Mirrors one Togai invoice from a list entry or event: reads the full invoice when it changed; ignores drafts not mirrored yet';

/*
 * The payments of an invoice that the inbox lacks (a payment's list entries
 * carry neither its invoices nor a modification time, and no list of
 * payments filters by change): how many were taken.  A payment of this
 * invoice alone is whole in the invoice's list of payments; one that pays
 * several invoices is read whole (GET /customerpayments/{id}).
 */
CREATE FUNCTION togai_zoho.take_invoice_payments(c togai_zoho.connection, invoice jsonb)
	RETURNS integer
	LANGUAGE plpgsql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	p jsonb;
	whole jsonb;
	n integer := 0;
BEGIN
	FOR p IN SELECT e FROM jsonb_array_elements(coalesce(togai_zoho.zohobooks_call(c.name,
				'invoice_payments', jsonb_build_object('invoice_id', invoice ->> 'invoice_id')), '[]')) e LOOP
		CONTINUE WHEN EXISTS (SELECT 1 FROM togai_zoho.inbox i
							   WHERE i.connection_id = c.id AND i.entity = 'payment'
								 AND i.remote_id = p ->> 'payment_id')
			/* one the extension made for a Togai payment: known, nothing to read */
			OR EXISTS (SELECT 1 FROM togai_zoho.id_mapping m
						WHERE m.entity = 'payment' AND m.zohobooks_connection_id = c.id
						  AND m.zohobooks_id = p ->> 'payment_id');
		IF p ->> 'is_single_invoice_payment' = 'true' THEN
			whole := jsonb_strip_nulls(jsonb_build_object(
				'payment_id', p ->> 'payment_id', 'payment_number', p ->> 'payment_number',
				'payment_mode', p ->> 'payment_mode', 'date', p ->> 'date',
				'reference_number', p ->> 'reference_number', 'description', p ->> 'description',
				'amount', p -> 'amount', 'exchange_rate', p -> 'exchange_rate',
				'customer_id', invoice ->> 'customer_id', 'currency_code', invoice ->> 'currency_code',
				'invoices', jsonb_build_array(jsonb_build_object(
					'invoice_id', invoice ->> 'invoice_id', 'invoice_number', invoice ->> 'invoice_number',
					'amount_applied', p -> 'amount'))));
		ELSE
			whole := togai_zoho.zohobooks_call(c.name, 'payment_get',
				jsonb_build_object('payment_id', p ->> 'payment_id'));
		END IF;
		IF togai_zoho.mirror_inbox(c.id, 'payment', whole, 'poll') THEN
			n := n + 1;
		END IF;
	END LOOP;
	RETURN n;
END
$$;
COMMENT ON FUNCTION togai_zoho.take_invoice_payments(togai_zoho.connection, jsonb) IS
'Reads the payments applied to a Zoho Books invoice (its list entry) that the inbox lacks into the inbox, a payment of several invoices read whole; returns how many';
REVOKE ALL ON FUNCTION togai_zoho.take_invoice_payments(togai_zoho.connection, jsonb) FROM PUBLIC;
