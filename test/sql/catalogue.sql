-- The library's catalogue and the install script's rows are the same: every trigger the SQL
-- lists is implemented in C with the same app and entity, every action with the same app,
-- and no other.
CREATE VIEW test.sql_catalogue AS
SELECT 'trigger' AS kind, name, app, entity FROM togai_zoho.trigger_def
UNION ALL
SELECT 'action', name, app, NULL FROM togai_zoho.action_def;
CREATE VIEW test.c_catalogue AS
SELECT kind, name, app, CASE kind WHEN 'trigger' THEN entity END AS entity
  FROM togai_zoho.library_catalogue();
(SELECT 'only in the library' AS side, * FROM test.c_catalogue
 EXCEPT SELECT 'only in the library', * FROM test.sql_catalogue)
UNION ALL
(SELECT 'only in the install script', * FROM test.sql_catalogue
 EXCEPT SELECT 'only in the install script', * FROM test.c_catalogue);
SELECT kind, count(*) FROM togai_zoho.library_catalogue() GROUP BY kind ORDER BY kind;

-- Which mapping each action writes (the delivery's rule, src/pure/catalogue.c)
SELECT name, app, entity AS writes_mapping FROM togai_zoho.library_catalogue()
 WHERE kind = 'action' ORDER BY name;

-- One rule of a generated invoice: not DRAFT, VOID or MERGED, in any case
SELECT s AS status, togai_zoho.invoice_is_generated(s) AS generated
  FROM unnest(ARRAY['DRAFT', 'draft', 'DUE', 'PAID', 'PARTIALLY_PAID', 'UN_COLLECTIBLE',
					'REFUND_INITIATED', 'REFUND_COMPLETED', 'VOID', 'Void', 'MERGED', '']) s;
SELECT togai_zoho.invoice_is_generated(NULL) IS NULL AS null_is_unknown;
