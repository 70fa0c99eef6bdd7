/*
 * catalogue.sql
 *	  What a flow can do: the predefined triggers and actions. Extension data, not
 *	  user configuration: recreated by the install script. The C side's tables of
 *	  the same names (src/pure/catalogue.c) are held against these rows by a regress test.
 */

CREATE TABLE togai_zoho.trigger_def (
	name        text PRIMARY KEY,
	app         text NOT NULL CHECK (app IN ('togai', 'zohobooks')),
	entity      text NOT NULL CHECK (entity IN ('account', 'invoice', 'payment', 'contact')),
	direction   text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
	fires_on    text NOT NULL,
	description text NOT NULL,
	CHECK ((app = 'togai') = (direction = 'outbound'))
);
COMMENT ON TABLE togai_zoho.trigger_def IS 'Catalogue of the predefined flow triggers (extension data; read it through available_triggers)';
COMMENT ON COLUMN togai_zoho.trigger_def.name IS 'Trigger name, as passed to create_flow()';
COMMENT ON COLUMN togai_zoho.trigger_def.app IS 'App whose events fire the trigger: togai or zohobooks';
COMMENT ON COLUMN togai_zoho.trigger_def.entity IS 'Kind of object the trigger reports: account, invoice, payment or contact';
COMMENT ON COLUMN togai_zoho.trigger_def.direction IS 'Flow direction the trigger starts: outbound (Togai events) or inbound (Zoho Books events)';
COMMENT ON COLUMN togai_zoho.trigger_def.fires_on IS 'The row change that fires the trigger';
COMMENT ON COLUMN togai_zoho.trigger_def.description IS 'What the trigger means, in the words of the integration';
INSERT INTO togai_zoho.trigger_def VALUES
	('account_created', 'togai', 'account', 'outbound',
	 'a row is inserted into customers (or a table carrying enqueue_sync(''account''))',
	 'A new Togai account (with its customer) appears'),
	('account_updated', 'togai', 'account', 'outbound',
	 'a row of customers changes',
	 'An existing Togai account changes'),
	('account_changed', 'togai', 'account', 'outbound',
	 'a row of customers is inserted or changes',
	 'A Togai account appears or changes: keeps the Zoho Books contact up to date'),
	('invoice_generated', 'togai', 'invoice', 'outbound',
	 'an invoice row arrives in, or moves to, a generated status (DUE, PAID, PARTIALLY_PAID, UN_COLLECTIBLE, REFUND_*); DRAFT, VOID and MERGED are not generated',
	 'An ongoing Togai invoice becomes a generated invoice at the end of its billing cycle'),
	('invoice_voided', 'togai', 'invoice', 'outbound',
	 'an invoice row moves to VOID',
	 'A Togai invoice is voided'),
	('payment_recorded', 'zohobooks', 'payment', 'inbound',
	 'a customer payment arrives in the inbox (poll_zohobooks or receive_webhook)',
	 'A payment is recorded in Zoho Books'),
	('invoice_paid', 'zohobooks', 'invoice', 'inbound',
	 'a Zoho Books invoice in the inbox arrives in, or moves to, status paid',
	 'A Zoho Books invoice becomes fully paid'),
	('contact_updated', 'zohobooks', 'contact', 'inbound',
	 'a Zoho Books contact in the inbox arrives or changes',
	 'A Zoho Books contact is created or edited'),
	('payment_collected', 'togai', 'payment', 'outbound',
	 'a payment row arrives in payments (poll_togai or your own table); one the extension recorded from Zoho Books does nothing',
	 'A payment is recorded in Togai: collected by its payment gateway or entered by hand'),
	('invoice_written_off', 'togai', 'invoice', 'outbound',
	 'an invoice row arrives in, or moves to, UN_COLLECTIBLE',
	 'A Togai invoice is written off as uncollectible'),
	('invoice_refunded', 'togai', 'invoice', 'outbound',
	 'an invoice row arrives in, or moves to, REFUND_COMPLETED',
	 'A Togai invoice is refunded (Togai keeps no refund object: what was paid on it is refunded)'),
	('invoice_updated', 'togai', 'invoice', 'outbound',
	 'a generated invoice row changes its total_amount or revenue_info and stays generated',
	 'A generated Togai invoice changes: a miscellaneous charge added, or finished late (FINALIZING)');

CREATE TABLE togai_zoho.action_def (
	name        text PRIMARY KEY,
	app         text NOT NULL CHECK (app IN ('togai', 'zohobooks')),
	triggers    text[] NOT NULL,
	options     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(options) = 'object'),
	description text NOT NULL
);
COMMENT ON TABLE togai_zoho.action_def IS 'Catalogue of the predefined flow actions (extension data; read it through available_actions)';
COMMENT ON COLUMN togai_zoho.action_def.name IS 'Action name, as passed to add_flow_action()';
COMMENT ON COLUMN togai_zoho.action_def.app IS 'App the action changes: togai or zohobooks';
COMMENT ON COLUMN togai_zoho.action_def.triggers IS 'Triggers the action can follow';
COMMENT ON COLUMN togai_zoho.action_def.options IS 'Options the action accepts, each with the JSON type of its value';
COMMENT ON COLUMN togai_zoho.action_def.description IS 'What the action does';
INSERT INTO togai_zoho.action_def VALUES
	('contact_upsert', 'zohobooks', '{account_created,account_updated,account_changed}',
	 '{"contact_name_field": "string", "company_name_field": "string",
	   "customer_sub_type": "string", "togai_id_custom_field": "string",
	   "payment_terms": "number", "contact_name_pattern": "string"}',
	 'Create the Zoho Books contact for a Togai account, or update the one already mapped'),
	('invoice_create', 'zohobooks', '{invoice_generated}',
	 '{"item_id": "string", "tax_id": "string", "use_togai_number": "boolean",
	   "mark_sent": "boolean", "item_account_id": "string",
	   "togai_id_customfield_id": "string", "unmapped_tax": "string"}',
	 'Create the Zoho Books invoice for a generated Togai invoice, with its line items, for the mapped contact'),
	('invoice_void', 'zohobooks', '{invoice_voided}', '{}',
	 'Void the Zoho Books invoice mapped to a voided Togai invoice'),
	('account_write_back', 'togai', '{account_created,account_updated,account_changed}',
	 '{"metadata_key": "string"}',
	 'Write the Zoho Books contact id back onto the Togai account, into its metadata (shown with the account''s settings)'),
	('payment_record', 'togai', '{payment_recorded,invoice_paid}',
	 '{"source_type": "string", "source_name": "string"}',
	 'Record a Zoho Books payment against the mapped Togai invoice (or mark it paid)'),
	('account_update', 'togai', '{contact_updated}',
	 '{"fields": "array"}',
	 'Copy a Zoho Books contact''s name, email and address onto the mapped Togai account'),
	('payment_apply', 'zohobooks', '{payment_collected}',
	 '{"payment_mode": "string", "deposit_account_id": "string"}',
	 'Record a Togai payment in Zoho Books as a customer payment applied to the mapped invoices, once'),
	('invoice_write_off', 'zohobooks', '{invoice_written_off}', '{}',
	 'Write off the balance of the Zoho Books invoice mapped to an uncollectible Togai invoice'),
	('invoice_refund', 'zohobooks', '{invoice_refunded}',
	 '{"refund_mode": "string", "from_account_id": "string"}',
	 'Credit the Zoho Books invoice of a refunded Togai invoice with a credit note of its total (its lines and taxes), apply the credit to what is unpaid and refund what was paid, once'),
	('invoice_update', 'zohobooks', '{invoice_updated}',
	 '{"item_id": "string", "tax_id": "string", "item_account_id": "string",
	   "togai_id_customfield_id": "string", "unmapped_tax": "string"}',
	 'Update the Zoho Books invoice of a changed Togai invoice while nothing is paid, credited or written off on it; after that, say the difference in the job''s result (and money_differences)'),
	('invoice_credits', 'zohobooks', '{invoice_generated}', '{}',
	 'After invoice_create: the prepaid credits applied on the Togai invoice become a Zoho Books credit note applied to its invoice (which then shows the charges before credits), once');

/*
 * The one rule of a generated Togai invoice (src/pure/catalogue.c): any
 * status but DRAFT, VOID and MERGED, in any case.  The enqueue trigger,
 * backfill() and preview_flow() all use it.
 */
CREATE FUNCTION togai_zoho.invoice_is_generated(status text)
	RETURNS boolean
	LANGUAGE C
	IMMUTABLE STRICT PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'invoice_is_generated';
COMMENT ON FUNCTION togai_zoho.invoice_is_generated(text) IS
'Whether a Togai invoice status is a generated invoice''s (not DRAFT, VOID or MERGED): the invoice_generated trigger''s rule';

CREATE FUNCTION togai_zoho.library_catalogue(OUT kind text, OUT name text, OUT app text,
											 OUT entity text)
	RETURNS SETOF record
	LANGUAGE C
	STABLE
	AS 'MODULE_PATHNAME', 'library_catalogue';
COMMENT ON FUNCTION togai_zoho.library_catalogue() IS
'The triggers and actions the loaded library implements (entity: what a trigger reports, or the mapping an action writes); trigger_def and action_def must list the same';


CREATE VIEW togai_zoho.available_triggers AS
SELECT t.app, t.name AS trigger, t.direction, t.entity, t.description, t.fires_on
  FROM togai_zoho.trigger_def t;
COMMENT ON VIEW togai_zoho.available_triggers IS 'The predefined triggers a flow can start from';
COMMENT ON COLUMN togai_zoho.available_triggers.app IS 'App whose events fire it';
COMMENT ON COLUMN togai_zoho.available_triggers.trigger IS 'Name to pass to create_flow()';
COMMENT ON COLUMN togai_zoho.available_triggers.direction IS 'Direction of the flows it starts';
COMMENT ON COLUMN togai_zoho.available_triggers.entity IS 'Kind of object it reports';
COMMENT ON COLUMN togai_zoho.available_triggers.description IS 'What it means';
COMMENT ON COLUMN togai_zoho.available_triggers.fires_on IS 'The row change that fires it';

CREATE VIEW togai_zoho.available_actions AS
SELECT a.app, a.name AS action, a.triggers AS after_triggers,
	   (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(a.options) k) AS options,
	   a.description
  FROM togai_zoho.action_def a;
COMMENT ON VIEW togai_zoho.available_actions IS 'The predefined actions a flow can run';
COMMENT ON COLUMN togai_zoho.available_actions.app IS 'App it changes';
COMMENT ON COLUMN togai_zoho.available_actions.action IS 'Name to pass to add_flow_action()';
COMMENT ON COLUMN togai_zoho.available_actions.after_triggers IS 'Triggers it can follow';
COMMENT ON COLUMN togai_zoho.available_actions.options IS 'Option keys it accepts';
COMMENT ON COLUMN togai_zoho.available_actions.description IS 'What it does';
