"""Bad input catalogue: every public function, called with each kind of bad argument, fails
with its own SQLSTATE and a clear message, and leaves every table of the extension as it was.

The table below is the catalogue: (call, SQLSTATE, words the message, detail or hint must hold).
"""

from harness import DatabaseCase, literal, remember_secret, sql

TOKEN = "tok_bad_input_catalogue"
LONG = "n" * 200
INJECTION = "x'); DROP TABLE togai_zoho.outbox; --"
T = "togai_zoho."

CASES = [
    # connections
    ("add_togai_connection(NULL, 'tok_bad_input_x')", "22004", "connection name must not be null"),
    ("add_togai_connection('', 'tok_bad_input_x')", "22023", "connection name must not be empty"),
    ("add_togai_connection(%s, 'tok_bad_input_x')" % literal(LONG), "42622", "connection name is too long"),
    ("add_togai_connection(E'a\\nb', 'tok_bad_input_x')", "42602", "not a valid name"),
    ("add_togai_connection(%s, 'tok_bad_input_x')" % literal(INJECTION), "42602", "not a valid name"),
    ("add_togai_connection('new', NULL)", "22004", "api_token must not be null"),
    ("add_togai_connection('new', '')", "22023", "api_token must not be empty"),
    ("add_togai_connection('new', 'tok with space')", "22023", "api_token contains spaces"),
    ("add_togai_connection('new', repeat('t', 5000))", "22001", "api_token is too long"),
    ("add_togai_connection('new', 'tok_bad_input_x', 'ftp://example.com')", "22023", "base_url"),
    ("add_togai_connection('new', 'tok_bad_input_x', 'not a url')", "22023", "base_url"),
    ("add_togai_connection('new', 'tok_bad_input_x', NULL)", "22004", "base_url"),
    ("add_togai_connection('togai', 'tok_bad_input_x')", "42710", 'connection "togai" already exists'),
    ("add_zohobooks_connection(NULL, 'cid', 'csecret', code => 'c1')", "22004", "connection name must not be null"),
    ("add_zohobooks_connection('z2', NULL, 'csecret', code => 'c1')", "22004", "client_id must not be null"),
    ("add_zohobooks_connection('z2', 'cid', '', code => 'c1')", "22023", "client_secret must not be empty"),
    ("add_zohobooks_connection('z2', 'cid', 'csecret')", "22023", "give either code or refresh_token"),
    ("add_zohobooks_connection('z2', 'cid', 'csecret', code => 'c1', refresh_token => 'r1')", "22023",
     "give either code or refresh_token"),
    ("add_zohobooks_connection('z2', 'cid', 'csecret', code => 'c 1')", "22023", "code contains spaces"),
    ("add_zohobooks_connection('z2', 'cid', 'csecret', code => 'c1', region => 'mars')", "22023", "unknown Zoho data centre"),
    ("add_zohobooks_connection('z2', 'cid', 'csecret', code => 'c1', region => NULL)", "22004", "region"),
    ("add_zohobooks_connection('z2', 'cid', 'csecret', code => 'c1', accounts_url => 'gopher://x')", "22023",
     "accounts_url"),
    ("add_zohobooks_connection('z2', 'cid', 'csecret', code => 'c1', organization_id => '')", "22023",
     "organization_id must not be empty"),
    ("add_zohobooks_connection('zoho', 'cid', 'csecret', code => 'c1')", "42710", 'connection "zoho" already exists'),
    ("check_connection(NULL)", "22004", "connection name must not be null"),
    ("check_connection('nope')", "42704", 'connection "nope" does not exist'),
    ("check_connection(%s)" % literal(INJECTION), "42704", "does not exist"),
    ("drop_connection('nope')", "42704", 'connection "nope" does not exist'),
    ("drop_connection('togai', NULL)", "22004", "force must not be null"),
    ("drop_connection('togai')", "2BP01", "is used by flows"),
    # flows
    ("create_flow(NULL, 'outbound', 'togai', 'account_created')", "22004", "flow name must not be null"),
    ("create_flow('', 'outbound', 'togai', 'account_created')", "22023", "flow name must not be empty"),
    ("create_flow(%s, 'outbound', 'togai', 'account_created')" % literal("f" * 129), "42622",
     "flow name is too long"),
    ("create_flow(%s, 'outbound', 'togai', 'account_created')" % literal(INJECTION), "42602",
     "not a valid name"),
    ("create_flow('f', NULL, 'togai', 'account_created')", "22004", "direction must not be null"),
    ("create_flow('f', 'sideways', 'togai', 'account_created')", "22023", "direction must be"),
    ("create_flow('f', 'outbound', 'nope', 'account_created')", "42704", 'connection "nope" does not exist'),
    ("create_flow('f', 'outbound', 'togai', NULL)", "22004", "trigger must not be null"),
    ("create_flow('f', 'outbound', 'togai', 'account_exploded')", "42704", 'trigger "account_exploded" does not exist'),
    ("create_flow('f', 'outbound', 'zoho', 'account_created')", "42809", "is a togai trigger"),
    ("create_flow('f', 'inbound', 'togai', 'account_created')", "22023", "starts an outbound flow"),
    ("create_flow('f', 'outbound', 'togai', 'account_created', repeat('d', 1001))", "22001",
     "description is too long"),
    ("create_flow(%s, 'outbound', 'togai', 'account_created')"
     % literal("Sync accounts created from Togai to ZohoBooks"), "42710", "already exists"),
    ("add_flow_action('nope', 'zoho', 'contact_upsert')", "42704", 'flow "nope" does not exist'),
    ("add_flow_action(NULL, 'zoho', 'contact_upsert')", "22004", "flow name must not be null"),
    ("add_flow_action('empty', 'nope', 'contact_upsert')", "42704", 'connection "nope" does not exist'),
    ("add_flow_action('empty', 'zoho', NULL)", "22004", "action must not be null"),
    ("add_flow_action('empty', 'zoho', 'contact_explode')", "42704", 'action "contact_explode" does not exist'),
    ("add_flow_action('empty', 'togai', 'contact_upsert')", "42809", "is a zohobooks action"),
    ("add_flow_action('empty', 'zoho', 'invoice_create')", "22023", "cannot follow trigger"),
    ("add_flow_action('empty', 'zoho', 'contact_upsert', NULL)", "22004", "options must not be null"),
    ("add_flow_action('empty', 'zoho', 'contact_upsert', '[1]')", "22023", "options must be a JSON object"),
    ("add_flow_action('empty', 'zoho', 'contact_upsert', '{\"colour\": \"red\"}')", "22023", "has no option"),
    ("add_flow_action('empty', 'zoho', 'contact_upsert', '{bad json')", "22P02", "invalid input syntax for type json"),
    ("set_flow_enabled('nope')", "42704", 'flow "nope" does not exist'),
    ("set_flow_enabled('empty', NULL)", "22004", "enabled must not be null"),
    ("set_flow_enabled('empty')", "55000", "has no actions"),
    ("drop_flow('nope')", "42704", 'flow "nope" does not exist'),
    ("drop_flow(%s)" % literal(INJECTION), "42602", "is not a valid name"),
    ("drop_flow('empty', NULL)", "22004", "force must not be null"),
    ("drop_flow('Sync accounts created from Togai to ZohoBooks')", "2BP01", "jobs not yet delivered"),
    ("install_default_flows(NULL, 'zoho')", "22004", "connection name must not be null"),
    ("install_default_flows('nope', 'zoho')", "42704", 'connection "nope" does not exist'),
    ("install_default_flows('zoho', 'togai')", "42809", "not a togai connection"),
    ("install_default_flows('togai', 'togai')", "42809", "not a zohobooks connection"),
    ("backfill(NULL)", "22004", "flow name must not be null"),
    ("backfill('nope')", "42704", 'flow "nope" does not exist'),
    ("backfill('empty')", "55000", "is disabled"),
    ("preview_flow('nope')", "42704", 'flow "nope" does not exist'),
    ("preview_flow('Sync accounts created from Togai to ZohoBooks', '[1, 2]')", "22023", "sample"),
    ("preview_flow('Sync accounts created from Togai to ZohoBooks', '\"text\"')", "22023", "sample"),
    # mappings
    ("zohobooks_id(NULL, 'acc.1')", "22004", "entity must not be null"),
    ("zohobooks_id('planet', 'acc.1')", "22023", 'entity "planet" is not mapped'),
    ("zohobooks_id('account', 'acc.1', 'nope')", "42704", 'connection "nope" does not exist'),
    ("zohobooks_id('account', 'acc.1', 'togai')", "42809", "not a zohobooks connection"),
    ("togai_id('invoice', 'z.1', %s)" % literal(INJECTION), "42602", "is not a valid name"),
    # calls to the apps
    ("togai_call('nope', 'accounts_list')", "42704", 'connection "nope" does not exist'),
    ("togai_call('zoho', 'accounts_list')", "42809", "not a togai connection"),
    ("togai_call('togai', 'accounts_explode')", "42704", 'Togai has no operation "accounts_explode"'),
    ("togai_call('togai', NULL)", "22004", "operation must not be null"),
    ("togai_call('togai', 'account_get', '[]')", "22023", "must be a JSON object"),
    ("togai_call('togai', 'account_get', '{}')", "22023", "id"),
    ("zohobooks_call('togai', 'organizations')", "42809", "not a zohobooks connection"),
    ("zohobooks_call('zoho', 'contacts_explode')", "42704", 'Zoho Books has no operation "contacts_explode"'),
    # delivery
    ("process_outbox(NULL)", "22004", "max_jobs must not be null"),
    ("process_outbox(-5)", "22023", "max_jobs must not be negative"),
    ("take_over_delivery(NULL)", "22004", "look_first must not be null"),
    ("take_over_delivery('-1 s')", "22023", "look_first must be a non-negative interval"),
    ("wait_for_idle(NULL)", "22004", "timeout must not be null"),
    ("wait_for_idle('-1 s')", "22023", "timeout"),
    ("retry(NULL)", "22004", "job must not be null"),
    ("retry(987654321)", "42704", "job 987654321 does not exist"),
    ("retry_dead('nope')", "42704", 'flow "nope" does not exist'),
    ("set_rate_limit('nope', 60)", "42704", 'connection "nope" does not exist'),
    ("set_rate_limit('zoho', 0)", "22023", "per_minute"),
    ("set_rate_limit('zoho', -1)", "22023", "per_minute"),
    ("set_rate_limit(NULL, 60)", "22004", "connection name must not be null"),
    # polling and webhooks
    ("poll_togai('nope')", "42704", 'connection "nope" does not exist'),
    ("poll_togai('zoho')", "42809", "not a togai connection"),
    ("poll_togai('togai', 0)", "22023", "max_pages must be at least 1"),
    ("poll_togai('togai', NULL)", "22004", "max_pages must not be null"),
    ("poll_zohobooks('togai')", "42809", "not a zohobooks connection"),
    ("poll_zohobooks('zoho', -1)", "22023", "max_pages must be at least 1"),
    ("receive_webhook('nope', '{}')", "42704", 'connection "nope" does not exist'),
    ("receive_webhook('togai', NULL)", "22004", "payload must not be null"),
    ("receive_webhook('togai', '[]')", "22023", "must be a JSON object"),
    ("receive_webhook('togai', '{\"eventType\": \"ACCOUNT_CREATED\"}')", "22023", "carries no account or invoice"),
    ("receive_webhook('togai', '{oops')", "22P02", "invalid input syntax for type json"),
    ("receive_webhook('zoho', '{\"payment\": 42}')", "22023", "payment"),
]

# Statements that are not function calls: the triggers and the mirrors.
STATEMENTS = [
    ("INSERT INTO togai_zoho.customers (account_id, customer_id, name) VALUES (NULL, 'c', 'n')", "23502",
     "account_id"),
    ("INSERT INTO togai_zoho.customers (account_id, customer_id, name, connection_id) "
     "VALUES ('a', 'c', 'n', 987654)", "23503", "connection"),
    ("INSERT INTO togai_zoho.invoices (invoice_id, account_id, status) VALUES (NULL, 'a', 'DUE')", "23502",
     "invoice_id"),
    ("INSERT INTO bad_source VALUES ('acc.t', 'cus.t', 'Triggered')", "39P01", "unknown source kind"),
]


class BadInput(DatabaseCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        remember_secret(TOKEN)
        togai = cls.mock("togai", "--token", TOKEN)
        sql("SELECT togai_zoho.add_togai_connection('togai', %s, %s)" % (literal(TOKEN), literal(togai.url)), cls.db)
        sql("INSERT INTO togai_zoho.connection (name, app, base_url, organization_id) "
            "VALUES ('zoho', 'zohobooks', 'https://www.zohoapis.com', '1')", cls.db)
        sql("SELECT togai_zoho.install_default_flows('togai', 'zoho')", cls.db)
        sql("SELECT togai_zoho.create_flow('empty', 'outbound', 'togai', 'account_created')", cls.db)
        # a pending job, so that dropping the accounts flow is refused
        sql("INSERT INTO togai_zoho.customers (account_id, customer_id, name) VALUES ('acc.1', 'cus.1', 'One')",
            cls.db)
        sql("CREATE TABLE bad_source (account_id text, customer_id text, name text); "
            "CREATE TRIGGER to_zoho AFTER INSERT ON bad_source FOR EACH ROW "
            "EXECUTE FUNCTION togai_zoho.enqueue_sync('planet')", cls.db)

    def snapshot(self):
        """A digest of every row of every table of the extension."""
        return self.value(
            "SELECT string_agg(format('%s=%s', c.relname, (xpath('/row/d/text()', query_to_xml(format("
            "'SELECT md5(coalesce(string_agg(t::text, ''|'' ORDER BY t::text), '''')) AS d "
            "FROM togai_zoho.%I t', c.relname), false, true, '')))[1]::text), ',' ORDER BY c.relname) "
            "FROM pg_class c WHERE c.relnamespace = 'togai_zoho'::regnamespace AND c.relkind = 'r'")

    def test_catalogue(self):
        rows = [("SELECT " + T + call, state, words) for call, state, words in CASES] + STATEMENTS
        before = self.snapshot()
        failures = []
        table = []
        for statement, state, words in rows:
            try:
                err = self.error(statement)
            except AssertionError:
                failures.append("%s: succeeded" % statement)
                before = self.snapshot()
                continue
            text = " ".join(x for x in (err.message, err.detail or "", err.hint or ""))
            table.append((statement[7:] if statement.startswith("SELECT ") else statement, err.sqlstate,
                          err.message))
            if err.sqlstate != state or words not in text:
                failures.append("%s: got %s %r, expected %s with %r" % (statement, err.sqlstate, text, state,
                                                                         words))
            after = self.snapshot()
            if after != before:
                failures.append("%s: left rows behind" % statement)
                before = after
        print("\n    bad input catalogue: %d cases" % len(table))
        for statement, state, message in table:
            print("      %-5s  %-70.70s  %s" % (state, statement, message[:90]))
        self.assertEqual(failures, [], "\n".join(failures))
        self.assertGreaterEqual(len(table), 100)
