/*
 * unique_fields.sql
 *	  Creates Zoho Books makes idempotent: an upsert by a unique custom field.
 *
 * Zoho Books finds a contact, invoice, customer payment or credit note by a
 * custom field marked "do not allow duplicate values", named by its API name
 * in X-Unique-Identifier-Key with the value in X-Unique-Identifier-Value;
 * with X-Upsert: true it makes the object when none holds the value.  With
 * such a field holding the Togai id, a create sent twice leaves one object,
 * whatever became of the first answer.  An admin makes the field in Zoho
 * Books (Settings, Preferences, the module, Field Customization); the field
 * is set up here per connection and entity, after a probe that asks Zoho
 * whether it finds objects by it.  Without it every create is a plain one,
 * found again by the reference the finder reads (see doc/togai_zoho.md).
 */

CREATE TABLE togai_zoho.zohobooks_unique_field (
	zohobooks_connection_id bigint NOT NULL,
	zohobooks_app           text NOT NULL DEFAULT 'zohobooks' CHECK (zohobooks_app = 'zohobooks'),
	entity                  text NOT NULL CHECK (entity IN ('contact', 'invoice', 'payment', 'credit_note')),
	api_name                text NOT NULL CHECK (api_name ~ '^cf_[A-Za-z0-9_]{1,100}$'),
	body_field              text NOT NULL CHECK (body_field <> '' AND length(body_field) <= 100),
	probe                   jsonb NOT NULL,
	checked_at              timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (zohobooks_connection_id, entity),
	FOREIGN KEY (zohobooks_connection_id, zohobooks_app)
		REFERENCES togai_zoho.connection (id, app) ON DELETE CASCADE
);
COMMENT ON TABLE togai_zoho.zohobooks_unique_field IS
'The unique custom field each kind of Zoho Books object is upserted by, per connection; set with set_zohobooks_unique_field()';
COMMENT ON COLUMN togai_zoho.zohobooks_unique_field.zohobooks_connection_id IS 'Zoho Books connection (organization)';
COMMENT ON COLUMN togai_zoho.zohobooks_unique_field.zohobooks_app IS 'Always zohobooks: lets a foreign key check the connection''s app';
COMMENT ON COLUMN togai_zoho.zohobooks_unique_field.entity IS 'contact, invoice, payment or credit_note';
COMMENT ON COLUMN togai_zoho.zohobooks_unique_field.api_name IS 'The field''s API name (cf_...), sent as X-Unique-Identifier-Key';
COMMENT ON COLUMN togai_zoho.zohobooks_unique_field.body_field IS 'How a create body names the field: contacts its index (1 to 10) or label, invoices and credit notes its customfield_id, payments its customfield_id or label';
COMMENT ON COLUMN togai_zoho.zohobooks_unique_field.probe IS 'What Zoho Books answered to the probe when the field was set up';
COMMENT ON COLUMN togai_zoho.zohobooks_unique_field.checked_at IS 'When the probe was answered';
REVOKE ALL ON togai_zoho.zohobooks_unique_field FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('togai_zoho.zohobooks_unique_field', '');

CREATE FUNCTION togai_zoho.zohobooks_unique_field_probe(connection text, entity text, api_name text)
	RETURNS jsonb
	LANGUAGE C
	AS 'MODULE_PATHNAME', 'zohobooks_unique_field_probe';
COMMENT ON FUNCTION togai_zoho.zohobooks_unique_field_probe(text, text, text) IS
'Internal: one call asking Zoho Books for the object of that entity whose field holds a value nobody holds, without X-Upsert; {"usable": true} when Zoho finds objects by the field';

/*
 * Sets up (or, with api_name NULL, stops) the upsert of an entity's creates
 * at a Zoho Books connection.  One probe call; nothing is made at Zoho.
 */
CREATE FUNCTION togai_zoho.set_zohobooks_unique_field(zohobooks_connection text, entity text,
													  api_name text, body_field text DEFAULT NULL)
	RETURNS jsonb
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	c      togai_zoho.connection := togai_zoho.find_connection(set_zohobooks_unique_field.zohobooks_connection,
															   'zohobooks');
	e      text := set_zohobooks_unique_field.entity;
	f      text := btrim(set_zohobooks_unique_field.body_field);
	by_id  boolean;
	probe  jsonb;
BEGIN
	IF e IS NULL THEN
		RAISE EXCEPTION 'entity must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF e NOT IN ('contact', 'invoice', 'payment', 'credit_note') THEN
		RAISE EXCEPTION 'Zoho Books upserts no "%"', e
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'The entities are contact, invoice, payment and credit_note.';
	END IF;
	IF set_zohobooks_unique_field.api_name IS NULL THEN
		DELETE FROM togai_zoho.zohobooks_unique_field u
		 WHERE u.zohobooks_connection_id = c.id AND u.entity = e;
		RETURN jsonb_build_object('connection', c.name, 'entity', e, 'upsert', false,
								  'removed', FOUND);
	END IF;
	IF set_zohobooks_unique_field.api_name !~ '^cf_[A-Za-z0-9_]{1,100}$' THEN
		RAISE EXCEPTION '"%" is not the API name of a Zoho Books custom field',
				set_zohobooks_unique_field.api_name
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Zoho Books shows it beside the field in Settings, Preferences, the module, '
						 'Field Customization: cf_ and the label, like cf_togai_id.';
	END IF;
	IF f IS NULL OR f = '' THEN
		RAISE EXCEPTION 'body_field must name the field as a % body does', replace(e, '_', ' ')
			USING ERRCODE = 'null_value_not_allowed',
				  HINT = CASE e WHEN 'contact' THEN 'Contacts name a custom field by its index (1 to 10) or label.'
								WHEN 'payment' THEN 'Payments name a custom field by its customfield_id or label.'
								ELSE 'Invoices and credit notes name a custom field by its customfield_id '
									 '(a number: GET /invoices/{id} shows it among custom_fields).' END;
	END IF;
	by_id := f ~ '^[0-9]{1,64}$';
	/* a contact's number is an index */
	IF length(f) > 100 OR (e = 'contact' AND by_id AND f !~ '^([1-9]|10)$')
	   OR (e IN ('invoice', 'credit_note') AND NOT by_id) THEN
		RAISE EXCEPTION '"%" does not name a custom field of a Zoho Books %', f, replace(e, '_', ' ')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = CASE e WHEN 'contact' THEN 'Contacts name a custom field by its index (1 to 10) or label.'
								ELSE 'Invoices and credit notes name a custom field by its customfield_id, a number.' END;
	END IF;
	probe := togai_zoho.zohobooks_unique_field_probe(c.name, e, set_zohobooks_unique_field.api_name);
	IF NOT (probe ->> 'usable')::boolean THEN
		RAISE EXCEPTION 'Zoho Books does not find % objects by %', replace(e, '_', ' '),
				set_zohobooks_unique_field.api_name
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('Asked for the object whose field holds a value nobody holds, it answered HTTP %s%s: %s',
								  probe ->> 'http_status', coalesce(', code ' || (probe ->> 'code'), ''),
								  coalesce(probe ->> 'message', 'no message')),
				  HINT = 'The field must be a custom field of that module marked "Do not allow duplicate values".';
	END IF;
	INSERT INTO togai_zoho.zohobooks_unique_field AS u
		(zohobooks_connection_id, entity, api_name, body_field, probe)
	VALUES (c.id, e, set_zohobooks_unique_field.api_name, f, probe - 'usable')
	ON CONFLICT ON CONSTRAINT zohobooks_unique_field_pkey DO UPDATE
	   SET api_name = excluded.api_name, body_field = excluded.body_field, probe = excluded.probe,
		   checked_at = now();
	RETURN jsonb_build_object('connection', c.name, 'entity', e, 'upsert', true,
							  'api_name', set_zohobooks_unique_field.api_name, 'body_field', f,
							  'probe', probe - 'usable');
END
$$;
COMMENT ON FUNCTION togai_zoho.set_zohobooks_unique_field(text, text, text, text) IS
'Makes the creates of an entity (contact, invoice, payment, credit_note) at a Zoho Books connection upserts by a unique custom field holding the Togai id: api_name (cf_...) and body_field (how a create body names the field), checked with one probe call; api_name NULL goes back to plain creates';

/* What job_context() adds for the creates: {"unique_fields": {connection id: {entity: field}}}, or {}. */
CREATE FUNCTION togai_zoho.zohobooks_unique_fields()
	RETURNS jsonb
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT CASE WHEN count(*) = 0 THEN '{}'::jsonb
			ELSE jsonb_build_object('unique_fields', jsonb_object_agg(x.id, x.fields)) END
  FROM (SELECT u.zohobooks_connection_id::text AS id,
			   jsonb_object_agg(u.entity, jsonb_build_object('api_name', u.api_name,
															 'body_field', u.body_field)) AS fields
		  FROM togai_zoho.zohobooks_unique_field u
		 GROUP BY u.zohobooks_connection_id) x
$$;
COMMENT ON FUNCTION togai_zoho.zohobooks_unique_fields() IS
'Internal: the unique custom fields of every Zoho Books connection, as job_context() gives them to the creates';
