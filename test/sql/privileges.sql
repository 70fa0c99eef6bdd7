-- Nothing is granted to PUBLIC, and only the owner reads secrets.
SELECT c.relname, a.privilege_type
  FROM pg_class c, aclexplode(c.relacl) a
 WHERE c.relnamespace = 'togai_zoho'::regnamespace AND a.grantee = 0;
SELECT p.proname
  FROM pg_proc p, aclexplode(p.proacl) a
 WHERE p.pronamespace = 'togai_zoho'::regnamespace AND a.grantee = 0;
SELECT n.nspname FROM pg_namespace n, aclexplode(n.nspacl) a
 WHERE n.nspname = 'togai_zoho' AND a.grantee = 0;
SELECT count(*) AS functions_without_acl FROM pg_proc
 WHERE pronamespace = 'togai_zoho'::regnamespace AND proacl IS NULL;
-- every function that touches configuration runs as the owner with a pinned search_path
SELECT p.proname, p.prosecdef, p.proconfig
  FROM pg_proc p
 WHERE p.pronamespace = 'togai_zoho'::regnamespace AND p.prolang <> 13
 ORDER BY p.proname;

-- The roles of the operations guide
CREATE ROLE regress_plain;
CREATE ROLE regress_operator;
CREATE ROLE regress_reader;

-- operator: manages connections and flows, feeds the mirrors
GRANT USAGE ON SCHEMA togai_zoho TO regress_operator;
GRANT EXECUTE ON FUNCTION
	togai_zoho.add_togai_connection(text, text, text),
	togai_zoho.add_zohobooks_connection(text, text, text, text, text, text, text, text, text),
	togai_zoho.check_connection(text),
	togai_zoho.check_connections(),
	togai_zoho.drop_connection(text, boolean),
	togai_zoho.create_flow(text, text, text, text, text),
	togai_zoho.add_flow_action(text, text, text, jsonb),
	togai_zoho.set_flow_enabled(text, boolean),
	togai_zoho.drop_flow(text, boolean),
	togai_zoho.zohobooks_id(text, text, text),
	togai_zoho.togai_id(text, text, text),
	togai_zoho.default_togai_connection(),
	togai_zoho.enqueue_sync(),
	togai_zoho.process_outbox(integer),
	togai_zoho.wait_for_idle(interval),
	togai_zoho.retry(bigint),
	togai_zoho.retry_dead(text),
	togai_zoho.set_rate_limit(text, integer),
	togai_zoho.set_api_budget(text, integer, integer, text),
	togai_zoho.api_budget_live(bigint),
	togai_zoho.api_day(text),
	togai_zoho.install_default_flows(text, text),
	togai_zoho.preview_flow(text, jsonb),
	togai_zoho.backfill(text),
	togai_zoho.poll_togai(text, integer),
	togai_zoho.poll_zohobooks(text, integer),
	togai_zoho.sweep_now(text),
	togai_zoho.receive_webhook(text, jsonb)
	TO regress_operator;
GRANT SELECT ON togai_zoho.connections, togai_zoho.flows, togai_zoho.available_triggers,
	togai_zoho.available_actions, togai_zoho.sync_status, togai_zoho.dead_jobs, togai_zoho.mappings,
	togai_zoho.job_attempts, togai_zoho.api_usage
	TO regress_operator;
GRANT SELECT, INSERT, UPDATE ON togai_zoho.customers, togai_zoho.invoices TO regress_operator;
GRANT CREATE ON SCHEMA public TO regress_operator;  -- for its own source table below

-- reader: status and mappings only
GRANT USAGE ON SCHEMA togai_zoho TO regress_reader;
GRANT SELECT ON togai_zoho.sync_status, togai_zoho.dead_jobs, togai_zoho.job_attempts, togai_zoho.mappings,
	togai_zoho.flows, togai_zoho.connections TO regress_reader;
GRANT EXECUTE ON FUNCTION togai_zoho.zohobooks_id(text, text, text), togai_zoho.togai_id(text, text, text)
	TO regress_reader;

-- no role but the owner can read connection_secret, by any privilege
SELECT r.rolname, has_table_privilege(r.rolname, 'togai_zoho.connection_secret', 'SELECT') AS can_select,
	   has_any_column_privilege(r.rolname, 'togai_zoho.connection_secret', 'SELECT') AS any_column
  FROM pg_roles r WHERE r.rolname LIKE 'regress_%' ORDER BY 1;

-- a plain role gets nothing
SET ROLE regress_plain;
SELECT test.err($$SELECT * FROM togai_zoho.connection_secret$$);
SELECT test.err($$SELECT * FROM togai_zoho.connections$$);
SELECT test.err($$SELECT * FROM togai_zoho.outbox$$);
SELECT test.err($$SELECT togai_zoho.add_togai_connection('evil', 'tok')$$);
SELECT test.err($$SELECT togai_zoho.drop_flow('invoices')$$);
SELECT test.err($$SELECT togai_zoho.preview_flow('invoices')$$);
SELECT test.err($$SELECT togai_zoho.poll_togai('togai')$$);
SELECT test.err($$SELECT togai_zoho.receive_webhook('zoho', '{}')$$);
RESET ROLE;

-- the reader sees status and mappings, never a secret, and changes nothing
SET ROLE regress_reader;
SELECT flow, pending, dead FROM togai_zoho.sync_status ORDER BY flow;
SELECT entity, togai_id, zohobooks_id FROM togai_zoho.mappings ORDER BY 1, 2;
SELECT togai_zoho.zohobooks_id('account', 'acc.1');
SELECT name, has_credentials FROM togai_zoho.connections ORDER BY id;
SELECT test.err($$SELECT * FROM togai_zoho.connection_secret$$);
SELECT test.err($$SELECT api_token FROM togai_zoho.connection_secret$$);
SELECT test.err($$SELECT * FROM togai_zoho.connection$$);
SELECT test.err($$SELECT togai_zoho.set_flow_enabled('invoices', false)$$);
SELECT test.err($$UPDATE togai_zoho.outbox SET state = 'done'$$);
RESET ROLE;

-- the operator manages flows and connections without seeing secrets
SET ROLE regress_operator;
SELECT togai_zoho.add_togai_connection('ops togai', 'tok_ops_secret', 'https://sandbox-api.togai.com') > 0 AS added;
SELECT togai_zoho.create_flow('ops flow', 'outbound', 'ops togai', 'account_created') > 0 AS created;
SELECT togai_zoho.add_flow_action('ops flow', 'zoho', 'contact_upsert');
SELECT togai_zoho.set_flow_enabled('ops flow');
-- an operator sets a budget and reads the usage
SELECT connection, per_day, concurrent, calls_today
  FROM togai_zoho.set_api_budget('ops togai', per_day => 500, concurrent => 4);
SELECT connection, per_day, concurrent, calls_today FROM togai_zoho.api_usage WHERE connection = 'ops togai';
-- a preview shows what would be sent, never the token
SELECT r ->> 'method' AS method, r ->> 'url' AS url, r -> 'headers' AS headers
  FROM jsonb_array_elements(togai_zoho.preview_flow('ops flow',
		'{"account_id": "acc.pre", "customer_id": "cus.pre", "name": "Preview"}') -> 'requests') r;
SELECT test.err($$SELECT * FROM togai_zoho.connection_secret$$);
SELECT test.err($$SELECT * FROM togai_zoho.outbox$$);
SELECT test.err($$SELECT togai_zoho.zohobooks_call('zoho', 'organizations')$$);
SELECT test.err($$SELECT togai_zoho.togai_call('togai', 'accounts_list')$$);
SELECT test.err($$SELECT togai_zoho.zoho_authorize('a', 'b', 'c', 'd', 'e', 'f', 'g')$$);
SELECT test.err($$SET togai_zoho.allow_http = on$$);
SELECT test.err($$SET togai_zoho.ca_bundle = '/tmp/evil.pem'$$);
-- feeding a mirror enqueues jobs, though the operator has no right on the outbox
INSERT INTO togai_zoho.customers (connection_id, account_id, customer_id, name)
SELECT id, 'acc.ops', 'cus.ops', 'Ops Account' FROM togai_zoho.connections WHERE name = 'ops togai';
-- so does the operator's own table carrying the trigger
CREATE TABLE public.ops_accounts (account_id text, customer_id text, name text);
CREATE TRIGGER to_zoho AFTER INSERT ON public.ops_accounts
	FOR EACH ROW EXECUTE FUNCTION togai_zoho.enqueue_sync('account', 'ops togai');
INSERT INTO public.ops_accounts VALUES ('acc.ops2', 'cus.ops2', 'Ops Own Table');
-- and a bulk insert; the jobs are staged, and process_outbox writes them out for the operator too
INSERT INTO togai_zoho.customers (connection_id, account_id, customer_id, name)
SELECT c.id, 'acc.ops.bulk' || g, 'cus.ops', 'Ops Bulk ' || g
  FROM togai_zoho.connections c, generate_series(1, 3) g WHERE c.name = 'ops togai';
SELECT flow, pending FROM togai_zoho.sync_status WHERE flow = 'ops flow';
SELECT togai_zoho.process_outbox(0);
SELECT flow, pending FROM togai_zoho.sync_status WHERE flow = 'ops flow';
RESET ROLE;
SELECT o.source_id, o.payload ->> 'name' AS name FROM togai_zoho.outbox o
 WHERE o.source_id LIKE 'acc.ops%' ORDER BY 1;
SET ROLE regress_operator;
SELECT togai_zoho.set_flow_enabled('ops flow', false);
SELECT togai_zoho.drop_flow('ops flow', force => true);
SELECT togai_zoho.drop_connection('ops togai');
DROP TABLE public.ops_accounts;
RESET ROLE;

DROP OWNED BY regress_plain, regress_operator, regress_reader;
DROP ROLE regress_plain, regress_operator, regress_reader;
