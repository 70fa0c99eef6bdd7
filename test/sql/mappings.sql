-- Id mappings and their look-ups both ways. Delivery writes them (delivery issue);
-- these tests insert them directly.
INSERT INTO togai_zoho.id_mapping (entity, togai_connection_id, zohobooks_connection_id, togai_id, togai_customer_id, zohobooks_id)
SELECT 'account', t.id, z.id, 'acc.1', 'cus.1', '4600000000001'
  FROM togai_zoho.connection t, togai_zoho.connection z WHERE t.name = 'togai' AND z.name = 'zoho';
INSERT INTO togai_zoho.id_mapping (entity, togai_connection_id, zohobooks_connection_id, togai_id, zohobooks_id)
SELECT 'invoice', t.id, z.id, 'inv.1', '4600000000777'
  FROM togai_zoho.connection t, togai_zoho.connection z WHERE t.name = 'togai' AND z.name = 'zoho';

SELECT togai_zoho.zohobooks_id('account', 'acc.1') AS contact,
	   togai_zoho.togai_id('account', '4600000000001') AS account,
	   togai_zoho.zohobooks_id('invoice', 'inv.1') AS zoho_invoice,
	   togai_zoho.togai_id('invoice', '4600000000777') AS togai_invoice,
	   togai_zoho.zohobooks_id('account', 'acc.unmapped') AS unmapped,
	   togai_zoho.zohobooks_id('account', NULL) AS null_id,
	   togai_zoho.zohobooks_id('account', 'acc.1', connection => 'zoho') AS by_connection;
SELECT entity, togai_id, togai_customer_id, zohobooks_id, togai_connection, zohobooks_connection,
       created_at <= now() AS created FROM togai_zoho.mappings ORDER BY entity, togai_id;

SELECT test.err($$SELECT togai_zoho.zohobooks_id(NULL, 'acc.1')$$);
SELECT test.err($$SELECT togai_zoho.zohobooks_id('customer', 'acc.1')$$);
SELECT test.err($$SELECT togai_zoho.togai_id('contact', '4600000000001')$$);
SELECT test.err($$SELECT togai_zoho.zohobooks_id('account', 'acc.1', connection => 'togai')$$);
SELECT test.err($$SELECT togai_zoho.togai_id('account', '1', connection => 'nope')$$);

-- one Togai object maps to at most one object per Zoho Books connection
SELECT test.err($$INSERT INTO togai_zoho.id_mapping (entity, togai_connection_id, zohobooks_connection_id, togai_id, zohobooks_id)
				 SELECT 'account', t.id, z.id, 'acc.1', '4600000000002'
				   FROM togai_zoho.connection t, togai_zoho.connection z WHERE t.name = 'togai' AND z.name = 'zoho'$$);
-- and the foreign keys check each side's app
SELECT test.err($$INSERT INTO togai_zoho.id_mapping (entity, togai_connection_id, zohobooks_connection_id, togai_id, zohobooks_id)
				 SELECT 'account', z.id, t.id, 'acc.9', '9'
				   FROM togai_zoho.connection t, togai_zoho.connection z WHERE t.name = 'togai' AND z.name = 'zoho'$$);

-- with two Zoho Books organizations, an unqualified look-up that is ambiguous says so
INSERT INTO togai_zoho.connection (name, app, base_url, organization_id)
VALUES ('zoho second org', 'zohobooks', 'https://www.zohoapis.com', '600002');
INSERT INTO togai_zoho.id_mapping (entity, togai_connection_id, zohobooks_connection_id, togai_id, zohobooks_id)
SELECT 'account', t.id, z.id, 'acc.1', '5500000000001'
  FROM togai_zoho.connection t, togai_zoho.connection z WHERE t.name = 'togai' AND z.name = 'zoho second org';
SELECT test.err($$SELECT togai_zoho.zohobooks_id('account', 'acc.1')$$);
SELECT togai_zoho.zohobooks_id('account', 'acc.1', 'zoho second org');

-- dropping a connection with mappings needs force: the mappings prevent duplicates
SELECT test.err($$SELECT togai_zoho.drop_connection('zoho second org')$$);
SELECT togai_zoho.drop_connection('zoho second org', force => true);
SELECT togai_zoho.zohobooks_id('account', 'acc.1');
