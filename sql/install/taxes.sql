/*
 * taxes.sql
 *	  Togai's tax lines as Zoho Books line taxes.  Togai has no tax object,
 *	  only TAX_AMOUNT nodes in an invoice's tree (a name, an amount); Zoho
 *	  Books taxes a line by a tax_id of the organization and works the amount
 *	  out itself.  The mapping says which Zoho Books tax a Togai tax is; an
 *	  invoice whose tax is not mapped stops, naming it (or, by the action's
 *	  option unmapped_tax = 'adjustment', carries its tax in the adjustment).
 */

CREATE TABLE togai_zoho.tax_mapping (
	zohobooks_connection_id bigint NOT NULL,
	zohobooks_app           text NOT NULL DEFAULT 'zohobooks' CHECK (zohobooks_app = 'zohobooks'),
	togai_tax               text NOT NULL CHECK (togai_tax <> '' AND length(togai_tax) <= 255),
	rate                    numeric CHECK (rate >= 0 AND rate <= 100),
	tax_id                  text NOT NULL CHECK (tax_id <> '' AND length(tax_id) <= 64),
	created_at              timestamptz NOT NULL DEFAULT now(),
	FOREIGN KEY (zohobooks_connection_id, zohobooks_app)
		REFERENCES togai_zoho.connection (id, app) ON DELETE CASCADE
);
COMMENT ON TABLE togai_zoho.tax_mapping IS 'Which Zoho Books tax (tax_id) a Togai tax line is, per Zoho Books connection; set with map_tax()';
COMMENT ON COLUMN togai_zoho.tax_mapping.zohobooks_connection_id IS 'Zoho Books connection (organization)';
COMMENT ON COLUMN togai_zoho.tax_mapping.zohobooks_app IS 'Always zohobooks: lets a foreign key check the connection''s app';
COMMENT ON COLUMN togai_zoho.tax_mapping.togai_tax IS 'The Togai tax: the description of its TAX_AMOUNT lines (case-insensitive)';
COMMENT ON COLUMN togai_zoho.tax_mapping.rate IS 'Its rate in percent, within half a hundredth; NULL: any rate';
COMMENT ON COLUMN togai_zoho.tax_mapping.tax_id IS 'The Zoho Books tax_id (a tax, or a tax group for several Togai taxes on one invoice)';
COMMENT ON COLUMN togai_zoho.tax_mapping.created_at IS 'When the mapping was made';
CREATE UNIQUE INDEX tax_mapping_key ON togai_zoho.tax_mapping
	(zohobooks_connection_id, lower(togai_tax), coalesce(rate, -1));
REVOKE ALL ON togai_zoho.tax_mapping FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('togai_zoho.tax_mapping', '');

/* Maps a Togai tax (and rate) to a Zoho Books tax; tax_id NULL removes the mapping. */
CREATE FUNCTION togai_zoho.map_tax(zohobooks_connection text, togai_tax text, tax_id text,
								   rate numeric DEFAULT NULL)
	RETURNS void
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	c togai_zoho.connection := togai_zoho.find_connection(map_tax.zohobooks_connection, 'zohobooks');
BEGIN
	IF togai_tax IS NULL THEN
		RAISE EXCEPTION 'togai_tax must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF btrim(togai_tax) = '' OR length(togai_tax) > 255 THEN
		RAISE EXCEPTION 'togai_tax must be the name of a Togai tax line, 1 to 255 characters'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF rate < 0 OR rate > 100 THEN
		RAISE EXCEPTION 'rate % is not a percentage', rate
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Pass the rate in percent (20 for 20%), or NULL for any rate.';
	END IF;
	IF tax_id IS NOT NULL AND (tax_id !~ '^[0-9]{1,64}$') THEN
		RAISE EXCEPTION 'tax_id "%" is not a Zoho Books tax id', tax_id
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Zoho Books tax ids are numbers: togai_zoho.zohobooks_call(''<connection>'', ''taxes'') lists them.';
	END IF;
	DELETE FROM togai_zoho.tax_mapping m
	 WHERE m.zohobooks_connection_id = c.id AND lower(m.togai_tax) = lower(btrim(map_tax.togai_tax))
	   AND m.rate IS NOT DISTINCT FROM map_tax.rate;
	IF tax_id IS NOT NULL THEN
		INSERT INTO togai_zoho.tax_mapping (zohobooks_connection_id, togai_tax, rate, tax_id)
		VALUES (c.id, btrim(map_tax.togai_tax), map_tax.rate, map_tax.tax_id);
	END IF;
END
$$;
COMMENT ON FUNCTION togai_zoho.map_tax(text, text, text, numeric) IS
'Maps a Togai tax (the description of its tax lines, and its rate in percent; NULL: any rate) to a Zoho Books tax_id of the connection; tax_id NULL removes the mapping';
REVOKE ALL ON FUNCTION togai_zoho.map_tax(text, text, text, numeric) FROM PUBLIC;

/*
 * The Togai taxes of an invoice row's tree: its TAX_AMOUNT lines (a
 * TOTAL_TAX_AMOUNT without them stands for one tax), each with its amount
 * rounded to the currency and its rate in percent: given in its metadata
 * (rate, taxRate or percentage), else its amount over its base (its
 * quantity, else the taxable lines' sum).
 */
CREATE FUNCTION togai_zoho.invoice_taxes(invoice jsonb, digits integer, base numeric)
	RETURNS jsonb
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
WITH RECURSIVE tree(node) AS (
	SELECT invoice -> 'revenue_info' WHERE jsonb_typeof(invoice -> 'revenue_info') = 'object'
	UNION ALL
	SELECT c FROM tree, jsonb_array_elements(CASE jsonb_typeof(tree.node -> 'lineItems')
											 WHEN 'array' THEN tree.node -> 'lineItems' ELSE '[]' END) c
	 WHERE jsonb_typeof(c) = 'object'
), taxes AS (
	SELECT t.node FROM tree t
	 WHERE t.node ->> 'type' = 'TAX_AMOUNT'
		OR (t.node ->> 'type' = 'TOTAL_TAX_AMOUNT'
			AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(CASE jsonb_typeof(t.node -> 'lineItems')
									WHEN 'array' THEN t.node -> 'lineItems' ELSE '[]' END) c
							 WHERE c ->> 'type' = 'TAX_AMOUNT'))
)
SELECT jsonb_agg(jsonb_build_object(
		'name', coalesce(nullif(btrim(x.node ->> 'description'), ''), 'Tax'),
		'amount', round(togai_zoho.json_numeric(x.node -> 'value'), digits),
		'rate', coalesce(togai_zoho.json_numeric(x.node #> '{metadata,rate}'),
						 togai_zoho.json_numeric(x.node #> '{metadata,taxRate}'),
						 togai_zoho.json_numeric(x.node #> '{metadata,percentage}'),
						 round(togai_zoho.json_numeric(x.node -> 'value') * 100
							   / nullif(coalesce(togai_zoho.json_numeric(x.node -> 'quantity'), base), 0), 2))))
  FROM taxes x
 WHERE togai_zoho.json_numeric(x.node -> 'value') IS NOT NULL
$$;
COMMENT ON FUNCTION togai_zoho.invoice_taxes(jsonb, integer, numeric) IS
'The Togai taxes of an invoice row: [{name, amount, rate}] from its TAX_AMOUNT lines, or NULL when it has none';
REVOKE ALL ON FUNCTION togai_zoho.invoice_taxes(jsonb, integer, numeric) FROM PUBLIC;

/*
 * How each Zoho Books connection taxes the invoice: the tax_id on every line
 * (one Zoho Books tax or tax group for all the invoice's Togai taxes), the
 * tax Zoho Books will work out (line by line, rounded half up), the
 * adjustment that keeps the total exact, and the difference from Togai's
 * tax when rounding makes one; or what is not mapped.
 */
CREATE FUNCTION togai_zoho.invoice_tax_plans(lines jsonb, taxes jsonb, total numeric, digits integer,
											 zohobooks_connections bigint[])
	RETURNS jsonb
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT jsonb_object_agg(z.id::text, jsonb_strip_nulls(CASE
		WHEN p.unmapped IS NOT NULL THEN jsonb_build_object('unmapped', p.unmapped)
		WHEN p.tax_ids > 1 THEN jsonb_build_object('unmapped', format(
			'%s together: map each of them to one Zoho Books tax group', p.names))
		ELSE jsonb_build_object('tax_id', p.tax_id, 'tax', l.tax,
			'adjustment', nullif(total - l.sum - l.tax, 0),
			'difference', nullif(p.togai_tax - l.tax, 0)) END))
  FROM unnest(zohobooks_connections) AS z(id)
 CROSS JOIN LATERAL (
	SELECT string_agg(format('%s (%s%%)', t.name, coalesce(t.rate::text, '?')), ', ')
			   FILTER (WHERE m.tax_id IS NULL) AS unmapped,
		   count(DISTINCT m.tax_id) AS tax_ids, min(m.tax_id) AS tax_id,
		   string_agg(t.name, ' + ') AS names, sum(t.rate) AS rate, sum(t.amount) AS togai_tax
	  FROM jsonb_to_recordset(taxes) AS t(name text, amount numeric, rate numeric)
	  LEFT JOIN LATERAL (
		SELECT m.tax_id FROM togai_zoho.tax_mapping m
		 WHERE m.zohobooks_connection_id = z.id AND lower(m.togai_tax) = lower(t.name)
		   AND (m.rate IS NULL OR abs(m.rate - t.rate) < 0.005)
		 ORDER BY m.rate IS NULL LIMIT 1) m ON true) p
 CROSS JOIN LATERAL (
	SELECT coalesce(sum(round(round(x.quantity * x.rate, digits) * p.rate / 100, digits)), 0) AS tax,
		   coalesce(sum(round(x.quantity * x.rate, digits)), 0) AS sum
	  FROM jsonb_to_recordset(lines) AS x(quantity numeric, rate numeric)) l
 WHERE jsonb_array_length(taxes) > 0
$$;
COMMENT ON FUNCTION togai_zoho.invoice_tax_plans(jsonb, jsonb, numeric, integer, bigint[]) IS
'Internal: per Zoho Books connection, the tax_id, tax, adjustment and rounding difference of an invoice''s lines, or the Togai taxes not mapped';
REVOKE ALL ON FUNCTION togai_zoho.invoice_tax_plans(jsonb, jsonb, numeric, integer, bigint[]) FROM PUBLIC;
