-- add_togai_connection stores the token apart, checks names, tokens and URLs
SELECT togai_zoho.add_togai_connection('togai', 'tok_live_1234');
SELECT togai_zoho.add_togai_connection('togai sandbox', 'tok_sbx_5678', 'https://sandbox-api.togai.com/');
SELECT togai_zoho.add_togai_connection('togai-mock', 'tok_mock', 'http://127.0.0.1:8080/api/');
SELECT name, app, base_url, has_credentials, flows FROM togai_zoho.connections ORDER BY id;

-- the token is in connection_secret only, and the view has no secret column
SELECT c.name, s.api_token FROM togai_zoho.connection c
  JOIN togai_zoho.connection_secret s ON s.connection_id = c.id ORDER BY c.id;
SELECT count(*) AS view_columns_holding_secrets
  FROM information_schema.columns
 WHERE table_schema = 'togai_zoho' AND table_name = 'connections'
   AND column_name ~ '^(api_token|client_secret|refresh_token|access_token|code|grant_code)$';
SELECT count(*) AS view_rows_showing_a_token FROM togai_zoho.connections v
 WHERE v::text ~ '(tok_live|tok_sbx|tok_mock)';

-- names
SELECT test.err($$SELECT togai_zoho.add_togai_connection(NULL, 'tok')$$);
SELECT test.err($$SELECT togai_zoho.add_togai_connection('', 'tok')$$);
SELECT test.err($$SELECT togai_zoho.add_togai_connection('   ', 'tok')$$);
SELECT test.err($$SELECT togai_zoho.add_togai_connection(repeat('x', 64), 'tok')$$);
SELECT test.err($$SELECT togai_zoho.add_togai_connection(' padded', 'tok')$$);
SELECT test.err($$SELECT togai_zoho.add_togai_connection(E'line\nbreak', 'tok')$$);
SELECT test.err($$SELECT togai_zoho.add_togai_connection('togai', 'tok')$$);

-- tokens: errors never echo the token
SELECT test.err($$SELECT togai_zoho.add_togai_connection('t2', NULL)$$);
SELECT test.err($$SELECT togai_zoho.add_togai_connection('t2', '')$$);
SELECT test.err($$SELECT togai_zoho.add_togai_connection('t2', 'tok with space')$$);
SELECT test.err($$SELECT togai_zoho.add_togai_connection('t2', repeat('k', 4097))$$);

-- base URLs
SELECT test.err($$SELECT togai_zoho.add_togai_connection('t2', 'tok', NULL)$$);
SELECT test.err($$SELECT togai_zoho.add_togai_connection('t2', 'tok', '')$$);
SELECT test.err($$SELECT togai_zoho.add_togai_connection('t2', 'tok', 'api.togai.com')$$);
SELECT test.err($$SELECT togai_zoho.add_togai_connection('t2', 'tok', 'ftp://api.togai.com')$$);
SELECT test.err($$SELECT togai_zoho.add_togai_connection('t2', 'tok', 'javascript:alert(1)')$$);
SELECT test.err($$SELECT togai_zoho.add_togai_connection('t2', 'tok', 'http://api.togai.com')$$);
SELECT test.err($$SELECT togai_zoho.add_togai_connection('t2', 'tok', 'https://user:pw@api.togai.com')$$);
SELECT test.err($$SELECT togai_zoho.add_togai_connection('t2', 'tok', 'https://api.togai.com/?x=1')$$);
SELECT test.err($$SELECT togai_zoho.add_togai_connection('t2', 'tok', 'https://api.togai.com/#frag')$$);
SELECT test.err($$SELECT togai_zoho.add_togai_connection('t2', 'tok', 'https://')$$);
SELECT test.err($$SELECT togai_zoho.add_togai_connection('t2', 'tok', 'https://api.togai.com/' || repeat('a', 2100))$$);
-- loopback over plain http is fine; other hosts only with the superuser-only allow_http
SELECT togai_zoho.normalize_url('http://localhost:9000', 'url');
SELECT togai_zoho.normalize_url('http://[::1]:9000/x/', 'url');
SELECT togai_zoho.normalize_url('http://127.1.2.3', 'url');
SELECT test.err($$SELECT togai_zoho.normalize_url('http://127.0.0.1.evil.example', 'url')$$);
SET togai_zoho.allow_http = on;
SELECT togai_zoho.normalize_url('http://togai.internal:8080/', 'url');
RESET togai_zoho.allow_http;

-- a failed call leaves nothing behind
SELECT count(*) AS connections, (SELECT count(*) FROM togai_zoho.connection_secret) AS secrets
  FROM togai_zoho.connection;
SELECT togai_zoho.add_togai_connection('t3', 'tok_never_logged_42', 'http://api.togai.com');
SELECT count(*) AS connections, (SELECT count(*) FROM togai_zoho.connection_secret) AS secrets
  FROM togai_zoho.connection;

-- drop_connection
SELECT test.err($$SELECT togai_zoho.drop_connection(NULL)$$);
SELECT test.err($$SELECT togai_zoho.drop_connection('nope')$$);
SELECT test.err($$SELECT togai_zoho.drop_connection('togai sandbox', NULL)$$);
SELECT togai_zoho.drop_connection('togai sandbox');
SELECT name FROM togai_zoho.connections ORDER BY id;
SELECT count(*) AS orphan_secrets FROM togai_zoho.connection_secret s
 WHERE NOT EXISTS (SELECT 1 FROM togai_zoho.connection c WHERE c.id = s.connection_id);

-- add_zohobooks_connection() checks its arguments before any network call (the exchange
-- itself is tested against the mock servers in test/integration)
SELECT test.err($$SELECT togai_zoho.add_zohobooks_connection(NULL, 'cid', 'secret', code => 'c')$$);
SELECT test.err($$SELECT togai_zoho.add_zohobooks_connection('z', NULL, 'secret', code => 'c')$$);
SELECT test.err($$SELECT togai_zoho.add_zohobooks_connection('z', 'cid', NULL, code => 'c')$$);
SELECT test.err($$SELECT togai_zoho.add_zohobooks_connection('z', 'cid', 'secret')$$);
SELECT test.err($$SELECT togai_zoho.add_zohobooks_connection('z', 'cid', 'secret', code => 'c', refresh_token => 'r')$$);
SELECT test.err($$SELECT togai_zoho.add_zohobooks_connection('z', 'cid', 'secret', code => '')$$);
SELECT test.err($$SELECT togai_zoho.add_zohobooks_connection('z', 'cid', 'sec ret', code => 'c')$$);
SELECT test.err($$SELECT togai_zoho.add_zohobooks_connection('z', 'cid', 'secret', code => 'c', region => 'mars')$$);
SELECT test.err($$SELECT togai_zoho.add_zohobooks_connection('z', 'cid', 'secret', code => 'c', region => NULL)$$);
SELECT test.err($$SELECT togai_zoho.add_zohobooks_connection('z', 'cid', 'secret', code => 'c', accounts_url => 'http://accounts.zoho.eu')$$);
SELECT test.err($$SELECT togai_zoho.add_zohobooks_connection('z', 'cid', 'secret', code => 'c', api_url => 'ftp://x')$$);
SELECT test.err($$SELECT togai_zoho.add_zohobooks_connection('togai', 'cid', 'secret', code => 'c')$$);
SELECT togai_zoho.zoho_region_urls('eu'), togai_zoho.zoho_region_urls('ca');
-- check_connection and the call seams need a connection that exists, of the right app
SELECT test.err($$SELECT togai_zoho.check_connection('nope')$$);
SELECT test.err($$SELECT togai_zoho.check_connection(NULL)$$);
SELECT test.err($$SELECT togai_zoho.zohobooks_call('togai', 'organizations')$$);
SELECT test.err($$SELECT togai_zoho.togai_call('togai', 'no_such_operation')$$);
SELECT test.err($$SELECT togai_zoho.togai_call('togai', 'account_get', '{}')$$);
SELECT test.err($$SELECT togai_zoho.togai_call('togai', 'account_get', '[1]')$$);
SELECT test.err($$SELECT togai_zoho.togai_call(NULL, 'account_get')$$);

-- Zoho Books connections need a live grant-code exchange; the rest of these tests insert
-- them directly.
INSERT INTO togai_zoho.connection (name, app, base_url, accounts_url, region, organization_id, client_id)
VALUES ('zoho', 'zohobooks', 'https://www.zohoapis.com', 'https://accounts.zoho.com', 'com', '600001', '1000.CLIENT'),
	   ('zoho eu', 'zohobooks', 'https://www.zohoapis.eu', 'https://accounts.zoho.eu', 'eu', '700001', '1000.CLIENT');
SELECT name, app, region, organization_id, has_credentials FROM togai_zoho.connections ORDER BY id;
