-- create_flow: flows start disabled; trigger, connection and direction must agree
SELECT togai_zoho.create_flow('Sync accounts created from Togai to ZohoBooks', 'outbound', 'togai',
							  'account_changed', 'New and changed Togai accounts become Zoho Books contacts');
SELECT togai_zoho.create_flow('invoices', 'outbound', 'togai', 'invoice_generated');
SELECT togai_zoho.create_flow('payments', 'inbound', 'zoho', 'payment_recorded');
SELECT name, direction, trigger_app, trigger_connection, trigger, enabled, actions FROM togai_zoho.flows ORDER BY id;

SELECT test.err($$SELECT togai_zoho.create_flow(NULL, 'outbound', 'togai', 'account_created')$$);
SELECT test.err($$SELECT togai_zoho.create_flow('', 'outbound', 'togai', 'account_created')$$);
SELECT test.err($$SELECT togai_zoho.create_flow(repeat('f', 129), 'outbound', 'togai', 'account_created')$$);
SELECT test.err($$SELECT togai_zoho.create_flow('invoices', 'outbound', 'togai', 'invoice_generated')$$);
SELECT test.err($$SELECT togai_zoho.create_flow('f', NULL, 'togai', 'account_created')$$);
SELECT test.err($$SELECT togai_zoho.create_flow('f', 'sideways', 'togai', 'account_created')$$);
SELECT test.err($$SELECT togai_zoho.create_flow('f', 'outbound', NULL, 'account_created')$$);
SELECT test.err($$SELECT togai_zoho.create_flow('f', 'outbound', 'nope', 'account_created')$$);
SELECT test.err($$SELECT togai_zoho.create_flow('f', 'outbound', 'togai', NULL)$$);
SELECT test.err($$SELECT togai_zoho.create_flow('f', 'outbound', 'togai', 'customer_deleted')$$);
SELECT test.err($$SELECT togai_zoho.create_flow('f', 'inbound', 'togai', 'payment_recorded')$$);
SELECT test.err($$SELECT togai_zoho.create_flow('f', 'inbound', 'togai', 'account_created')$$);
SELECT test.err($$SELECT togai_zoho.create_flow('f', 'outbound', 'zoho', 'contact_updated')$$);
SELECT test.err($$SELECT togai_zoho.create_flow('f', 'outbound', 'togai', 'account_created', repeat('d', 1001))$$);
-- an injection attempt is only ever a name
SELECT test.err($$SELECT togai_zoho.create_flow('x''); DROP TABLE togai_zoho.flow; --', 'outbound', 'nope''; --', 'account_created')$$);
SELECT test.err($$SELECT togai_zoho.set_flow_enabled('x''); DROP TABLE togai_zoho.flow; --')$$);
SELECT count(*) AS flows FROM togai_zoho.flow;

-- add_flow_action: the action must exist, suit the connection's app and follow the trigger
SELECT togai_zoho.add_flow_action('Sync accounts created from Togai to ZohoBooks', 'zoho', 'contact_upsert');
SELECT togai_zoho.add_flow_action('Sync accounts created from Togai to ZohoBooks', 'togai', 'account_write_back',
								  '{"metadata_key": "zohobooks_contact_id"}');
SELECT togai_zoho.add_flow_action('invoices', 'zoho', 'invoice_create', '{"item_id": "4600001", "mark_sent": true}');
SELECT togai_zoho.add_flow_action('payments', 'togai', 'payment_record');
SELECT name, actions FROM togai_zoho.flows ORDER BY id;
SELECT f.name, a.position, c.name AS connection, a.action, a.options
  FROM togai_zoho.flow_action a JOIN togai_zoho.flow f ON f.id = a.flow_id
  JOIN togai_zoho.connection c ON c.id = a.connection_id ORDER BY f.id, a.position;

SELECT test.err($$SELECT togai_zoho.add_flow_action(NULL, 'zoho', 'contact_upsert')$$);
SELECT test.err($$SELECT togai_zoho.add_flow_action('nope', 'zoho', 'contact_upsert')$$);
SELECT test.err($$SELECT togai_zoho.add_flow_action('invoices', NULL, 'invoice_create')$$);
SELECT test.err($$SELECT togai_zoho.add_flow_action('invoices', 'nope', 'invoice_create')$$);
SELECT test.err($$SELECT togai_zoho.add_flow_action('invoices', 'zoho', NULL)$$);
SELECT test.err($$SELECT togai_zoho.add_flow_action('invoices', 'zoho', 'invoice_delete')$$);
SELECT test.err($$SELECT togai_zoho.add_flow_action('invoices', 'togai', 'invoice_create')$$);
SELECT test.err($$SELECT togai_zoho.add_flow_action('invoices', 'zoho', 'contact_upsert')$$);
SELECT test.err($$SELECT togai_zoho.add_flow_action('invoices', 'zoho', 'invoice_create', NULL)$$);
SELECT test.err($$SELECT togai_zoho.add_flow_action('invoices', 'zoho', 'invoice_create', '[1, 2]')$$);
SELECT test.err($$SELECT togai_zoho.add_flow_action('invoices', 'zoho', 'invoice_create', '{"colour": "red"}')$$);
SELECT test.err($$SELECT togai_zoho.add_flow_action('invoices', 'zoho', 'invoice_create', '{"mark_sent": "yes"}')$$);
SELECT test.err($$SELECT togai_zoho.add_flow_action('payments', 'togai', 'payment_record', '{"nothing": 1}')$$);
SELECT test.err($$SELECT togai_zoho.add_flow_action('invoices', 'zoho', 'invoice_create', '{not json')$$);
SELECT count(*) AS actions FROM togai_zoho.flow_action;

-- set_flow_enabled: a flow without actions cannot be enabled
SELECT togai_zoho.create_flow('empty', 'outbound', 'togai', 'invoice_voided');
SELECT test.err($$SELECT togai_zoho.set_flow_enabled('empty')$$);
SELECT test.err($$SELECT togai_zoho.set_flow_enabled('invoices', NULL)$$);
SELECT test.err($$SELECT togai_zoho.set_flow_enabled(NULL)$$);
SELECT togai_zoho.set_flow_enabled('Sync accounts created from Togai to ZohoBooks');
SELECT togai_zoho.set_flow_enabled('invoices');
SELECT togai_zoho.set_flow_enabled('invoices', false);
SELECT togai_zoho.set_flow_enabled('invoices', true);
SELECT name, enabled FROM togai_zoho.flows ORDER BY id;

-- drop_flow, and connections still used by flows
SELECT test.err($$SELECT togai_zoho.drop_flow('nope')$$);
SELECT test.err($$SELECT togai_zoho.drop_flow('empty', NULL)$$);
SELECT togai_zoho.drop_flow('empty');
SELECT test.err($$SELECT togai_zoho.drop_connection('zoho')$$);
SELECT test.err($$SELECT togai_zoho.drop_connection('togai')$$);
SELECT togai_zoho.drop_connection('zoho eu');
SELECT name, flows FROM togai_zoho.connections ORDER BY id;
