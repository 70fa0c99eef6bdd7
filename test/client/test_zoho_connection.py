"""add_zohobooks_connection, check_connection and the Zoho token life cycle, against the mock."""

import time

from harness import (DatabaseCase, add_zoho, literal, remember_issued_tokens, remember_secret,
                     zoho_seed)


class ZohoConnection(DatabaseCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.zoho = cls.mock("zohobooks")
        cls.zoho.seed(zoho_seed(codes=["code.one", "code.two", "code.three", "code.four"]))

    @classmethod
    def tearDownClass(cls):
        remember_issued_tokens(cls.zoho)
        super().tearDownClass()

    def test_1_exchange_picks_the_only_organization(self):
        conn_id = add_zoho(self, self.zoho, name="zoho", code="code.one")
        self.assertGreater(int(conn_id), 0)
        row = self.sql("SELECT app, base_url, accounts_url, organization_id, client_id, has_credentials, "
                       "access_token_expires_at > now() + interval '50 minutes' "
                       "FROM togai_zoho.connections WHERE name = 'zoho'")[0]
        self.assertEqual(row, ("zohobooks", self.zoho.url, self.zoho.url, "600001", "cid.test", "t", "t"))
        # the secrets are stored apart, and the refresh token is kept
        secrets = self.sql("SELECT client_secret, refresh_token IS NOT NULL, access_token IS NOT NULL "
                           "FROM togai_zoho.connection_secret s JOIN togai_zoho.connection c "
                           "ON c.id = s.connection_id WHERE c.name = 'zoho'")[0]
        self.assertEqual(secrets, ("csecret.test", "t", "t"))
        view = self.value("SELECT string_agg(v::text, ' ') FROM togai_zoho.connections v")
        for t in self.zoho.state()["refresh_tokens"]:
            self.assertNotIn(t, view)
        self.assertNotIn("csecret.test", view)
        # the exchange was one form POST, the organization list one GET with the token header
        token_calls = self.zoho.requests("/oauth/v2/token")
        self.assertEqual(len(token_calls), 1)
        self.assertIn("grant_type=authorization_code", token_calls[0]["body"])
        orgs = self.zoho.requests("/books/v3/organizations")[-1]
        self.assertTrue(orgs["headers"]["authorization"].startswith("Zoho-oauthtoken 1000."))
        self.assertTrue(orgs["headers"]["user-agent"].startswith("togai_zoho/"))

    def test_2_used_code_is_refused_and_nothing_stored(self):
        err = self.error("SELECT togai_zoho.add_zohobooks_connection('again', 'cid.test', 'csecret.test', "
                         "code => 'code.one', accounts_url => %s, api_url => %s)"
                         % (literal(self.zoho.url), literal(self.zoho.url)))
        self.assertSQLState(err, "TZ401", "invalid_code", "Grant codes work once")
        self.assertEqual(self.value("SELECT count(*) FROM togai_zoho.connection WHERE name = 'again'"), "0")

    def test_3_wrong_client_secret(self):
        remember_secret("wrong.secret")
        err = self.error("SELECT togai_zoho.add_zohobooks_connection('bad', 'cid.test', 'wrong.secret', "
                         "code => 'code.two', accounts_url => %s)" % literal(self.zoho.url))
        self.assertSQLState(err, "TZ401", "invalid_client_secret")
        self.assertNotIn("wrong.secret", str(err) + (err.detail or "") + (err.hint or ""))
        self.assertEqual(self.value("SELECT count(*) FROM togai_zoho.connection WHERE name = 'bad'"), "0")

    def test_4_oauth_errors_under_http_400_too(self):
        self.zoho.config(oauth_error_status=400)
        try:
            err = self.error("SELECT togai_zoho.add_zohobooks_connection('bad', 'nobody', 'x.secret', "
                             "code => 'nope.code', accounts_url => %s)" % literal(self.zoho.url))
            self.assertSQLState(err, "TZ401", "invalid_client")
        finally:
            self.zoho.config(oauth_error_status=200)

    def test_5_refresh_token_path_and_given_organization(self):
        refresh = self.zoho.state()["refresh_tokens"][0]
        remember_secret(refresh)
        self.value("SELECT togai_zoho.add_zohobooks_connection('by refresh', 'cid.test', 'csecret.test', "
                   "refresh_token => %s, organization_id => '600001', accounts_url => %s)"
                   % (literal(refresh), literal(self.zoho.url)))
        self.assertEqual(self.value("SELECT organization_id FROM togai_zoho.connections "
                                    "WHERE name = 'by refresh'"), "600001")
        self.assertEqual(self.value("SELECT refresh_token = %s FROM togai_zoho.connection_secret s "
                                    "JOIN togai_zoho.connection c ON c.id = s.connection_id "
                                    "WHERE c.name = 'by refresh'" % literal(refresh)), "t")

    def test_6_check_connection(self):
        result = self.json("SELECT togai_zoho.check_connection('zoho')")
        self.assertTrue(result["ok"], result)
        self.assertEqual(result["http_status"], 200)
        self.assertEqual(result["app"], "zohobooks")
        # a cached token: repeated checks mint nothing
        self.zoho.clear_requests()
        for _ in range(3):
            self.assertTrue(self.json("SELECT togai_zoho.check_connection('zoho')")["ok"])
        self.assertEqual(len(self.zoho.requests("/oauth/v2/token")), 0)
        checks = self.zoho.requests("/books/v3/organizations")
        self.assertEqual(len(checks), 3)

    def test_7_refresh_before_expiry_and_on_401(self):
        # expiring soon: the next call refreshes once, first
        self.sql("UPDATE togai_zoho.connection_secret SET access_token_expires_at = now() + interval '30 s' "
                 "WHERE connection_id = (SELECT id FROM togai_zoho.connection WHERE name = 'zoho')")
        self.zoho.clear_requests()
        self.assertTrue(self.json("SELECT togai_zoho.check_connection('zoho')")["ok"])
        self.assertTrue(self.json("SELECT togai_zoho.check_connection('zoho')")["ok"])
        refreshes = self.zoho.requests("/oauth/v2/token")
        self.assertEqual(len(refreshes), 1)
        self.assertIn("grant_type=refresh_token", refreshes[0]["body"])
        # the refresh answer carried no refresh token: the stored one stays
        self.assertEqual(self.value("SELECT refresh_token IS NOT NULL FROM togai_zoho.connection_secret s "
                                    "JOIN togai_zoho.connection c ON c.id = s.connection_id "
                                    "WHERE c.name = 'zoho'"), "t")
        # a token refused with 401: one refresh, then success
        self.zoho.clear_requests()
        self.zoho.faults({"kind": "expired_token", "count": 1, "match": {"path_prefix": "/books/v3/"}})
        self.assertTrue(self.json("SELECT togai_zoho.check_connection('zoho')")["ok"])
        self.assertEqual(len(self.zoho.requests("/oauth/v2/token")), 1)
        self.assertEqual([r["status"] for r in self.zoho.requests("/books/v3/")], [401, 200])

    def test_8_token_expires_at_the_mock(self):
        self.zoho.config(token_ttl_seconds=1)
        try:
            self.value("SELECT togai_zoho.add_zohobooks_connection('short', 'cid.test', 'csecret.test', "
                       "code => 'code.three', accounts_url => %s, api_url => %s)"
                       % (literal(self.zoho.url), literal(self.zoho.url)))
            time.sleep(1.2)
            self.zoho.clear_requests()
            self.assertTrue(self.json("SELECT togai_zoho.check_connection('short')")["ok"])
            self.assertEqual(len(self.zoho.requests("/oauth/v2/token")), 1)
        finally:
            self.zoho.config(token_ttl_seconds=3600)

    def test_9_mint_limit_is_reported(self):
        self.zoho.config(mint_limit=0)
        try:
            self.sql("UPDATE togai_zoho.connection_secret SET access_token_expires_at = now() "
                     "WHERE connection_id = (SELECT id FROM togai_zoho.connection WHERE name = 'by refresh')")
            result = self.json("SELECT togai_zoho.check_connection('by refresh')")
            self.assertFalse(result["ok"])
            self.assertEqual(result["sqlstate"], "TZ429")
            self.assertIn("Access Denied", result["error"])
        finally:
            self.zoho.config(mint_limit=10)


class ZohoOrganizations(DatabaseCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.zoho = cls.mock("zohobooks")
        cls.zoho.seed(zoho_seed(codes=["c.1", "c.2", "c.3"], organizations=[
            {"organization_id": "700001", "name": "Books US"},
            {"organization_id": "700002", "name": "Books EU", "currency_code": "EUR"}]))

    @classmethod
    def tearDownClass(cls):
        remember_issued_tokens(cls.zoho)
        super().tearDownClass()

    def test_several_organizations_are_listed(self):
        err = self.error("SELECT togai_zoho.add_zohobooks_connection('z', 'cid.test', 'csecret.test', "
                         "code => 'c.1', accounts_url => %s)" % literal(self.zoho.url))
        self.assertSQLState(err, "22023", "2 organizations", "700001 (Books US)", "700002 (Books EU)")
        self.assertEqual(self.value("SELECT count(*) FROM togai_zoho.connection WHERE name = 'z'"), "0")

    def test_unknown_organization(self):
        err = self.error("SELECT togai_zoho.add_zohobooks_connection('z', 'cid.test', 'csecret.test', "
                         "code => 'c.2', organization_id => '999', accounts_url => %s)"
                         % literal(self.zoho.url))
        self.assertSQLState(err, "22023", "999", "700002 (Books EU)")

    def test_chosen_organization(self):
        self.value("SELECT togai_zoho.add_zohobooks_connection('eu', 'cid.test', 'csecret.test', "
                   "code => 'c.3', organization_id => '700002', accounts_url => %s)"
                   % literal(self.zoho.url))
        self.assertEqual(self.value("SELECT organization_id FROM togai_zoho.connections WHERE name = 'eu'"),
                         "700002")
        # api_domain from the token answer is used when no api_url is given
        self.assertEqual(self.value("SELECT base_url FROM togai_zoho.connections WHERE name = 'eu'"),
                         self.zoho.url)
        self.assertTrue(self.json("SELECT togai_zoho.check_connection('eu')")["ok"])
