/*
 * mappings.sql
 *	  Which Zoho Books object corresponds to which Togai object, and the look-ups.
 */

CREATE TABLE togai_zoho.id_mapping (
	entity                  text NOT NULL CHECK (entity IN ('account', 'invoice', 'payment')),
	togai_connection_id     bigint NOT NULL,
	togai_app               text NOT NULL DEFAULT 'togai' CHECK (togai_app = 'togai'),
	zohobooks_connection_id bigint NOT NULL,
	zohobooks_app           text NOT NULL DEFAULT 'zohobooks' CHECK (zohobooks_app = 'zohobooks'),
	togai_id                text NOT NULL CHECK (togai_id <> ''),
	togai_customer_id       text,
	zohobooks_id            text NOT NULL CHECK (zohobooks_id <> ''),
	created_at              timestamptz NOT NULL DEFAULT now(),
	updated_at              timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (entity, togai_id, zohobooks_connection_id),
	UNIQUE (entity, zohobooks_id, zohobooks_connection_id),
	FOREIGN KEY (togai_connection_id, togai_app)
		REFERENCES togai_zoho.connection (id, app) ON DELETE CASCADE,
	FOREIGN KEY (zohobooks_connection_id, zohobooks_app)
		REFERENCES togai_zoho.connection (id, app) ON DELETE CASCADE
);
COMMENT ON TABLE togai_zoho.id_mapping IS 'Which Zoho Books object corresponds to which Togai object, per pair of connections';
COMMENT ON COLUMN togai_zoho.id_mapping.entity IS 'account (Zoho Books contact), invoice or payment';
COMMENT ON COLUMN togai_zoho.id_mapping.togai_connection_id IS 'Togai connection';
COMMENT ON COLUMN togai_zoho.id_mapping.togai_app IS 'Always togai: lets a foreign key check the connection''s app';
COMMENT ON COLUMN togai_zoho.id_mapping.zohobooks_connection_id IS 'Zoho Books connection';
COMMENT ON COLUMN togai_zoho.id_mapping.zohobooks_app IS 'Always zohobooks: lets a foreign key check the connection''s app';
COMMENT ON COLUMN togai_zoho.id_mapping.togai_id IS 'Togai id (account id, invoice id or payment id)';
COMMENT ON COLUMN togai_zoho.id_mapping.togai_customer_id IS 'Togai customer id of the account, for account mappings';
COMMENT ON COLUMN togai_zoho.id_mapping.zohobooks_id IS 'Zoho Books id (contact_id, invoice_id or payment_id)';
COMMENT ON COLUMN togai_zoho.id_mapping.created_at IS 'When the mapping was made';
COMMENT ON COLUMN togai_zoho.id_mapping.updated_at IS 'When the mapping last changed';
CREATE INDEX id_mapping_togai_connection_idx ON togai_zoho.id_mapping (togai_connection_id);
CREATE INDEX id_mapping_zohobooks_connection_idx ON togai_zoho.id_mapping (zohobooks_connection_id);
SELECT pg_catalog.pg_extension_config_dump('togai_zoho.id_mapping', '');

CREATE FUNCTION togai_zoho.check_mapping_entity(entity text)
	RETURNS text
	LANGUAGE plpgsql
	IMMUTABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
BEGIN
	IF entity IS NULL THEN
		RAISE EXCEPTION 'entity must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF entity NOT IN ('account', 'invoice', 'payment') THEN
		RAISE EXCEPTION 'entity "%" is not mapped', entity
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Mapped entities are ''account'' (Zoho Books contact), ''invoice'' and ''payment''.';
	END IF;
	RETURN entity;
END
$$;
COMMENT ON FUNCTION togai_zoho.check_mapping_entity(text) IS
'Internal: raises a clear error unless the value is a mapped entity';

/* Looks an id up on one side of the mappings; to_zohobooks says which way. */
CREATE FUNCTION togai_zoho.lookup_mapping(entity text, id text, to_zohobooks boolean, connection text)
	RETURNS text
	LANGUAGE plpgsql
	STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	v_conn bigint;
	v_ids  text[];
BEGIN
	PERFORM togai_zoho.check_mapping_entity(entity);
	IF connection IS NOT NULL THEN
		v_conn := (togai_zoho.find_connection(connection, 'zohobooks')).id;
	END IF;
	IF id IS NULL THEN
		RETURN NULL;
	END IF;
	SELECT array_agg(CASE WHEN to_zohobooks THEN m.zohobooks_id ELSE m.togai_id END) INTO v_ids
	  FROM togai_zoho.id_mapping m
	 WHERE m.entity = lookup_mapping.entity
	   AND id = CASE WHEN to_zohobooks THEN m.togai_id ELSE m.zohobooks_id END
	   AND (v_conn IS NULL OR m.zohobooks_connection_id = v_conn);
	IF cardinality(v_ids) > 1 THEN
		RAISE EXCEPTION '% "%" is mapped in % Zoho Books connections', entity, id, cardinality(v_ids)
			USING ERRCODE = 'cardinality_violation',
				  HINT = 'Name the Zoho Books connection: connection => ''...''.';
	END IF;
	RETURN v_ids[1];
END
$$;
COMMENT ON FUNCTION togai_zoho.lookup_mapping(text, text, boolean, text) IS
'Internal: the id mapped to id, towards Zoho Books or towards Togai; NULL when unmapped';

CREATE FUNCTION togai_zoho.zohobooks_id(entity text, togai_id text, connection text DEFAULT NULL)
	RETURNS text
	LANGUAGE sql
	STABLE
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	RETURN togai_zoho.lookup_mapping(entity, togai_id, true, connection);
COMMENT ON FUNCTION togai_zoho.zohobooks_id(text, text, text) IS
'Zoho Books id mapped to a Togai id: zohobooks_id(''account'' | ''invoice'' | ''payment'', togai_id, connection => NULL). NULL when unmapped';

CREATE FUNCTION togai_zoho.togai_id(entity text, zohobooks_id text, connection text DEFAULT NULL)
	RETURNS text
	LANGUAGE sql
	STABLE
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	RETURN togai_zoho.lookup_mapping(entity, zohobooks_id, false, connection);
COMMENT ON FUNCTION togai_zoho.togai_id(text, text, text) IS
'Togai id mapped to a Zoho Books id: togai_id(''account'' | ''invoice'' | ''payment'', zohobooks_id, connection => NULL). NULL when unmapped';
