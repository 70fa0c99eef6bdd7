-- The extension installs into a cluster that preloads it (and pg_cron), and every
-- name of the public interface is there and documented.
SHOW shared_preload_libraries;
CREATE EXTENSION togai_zoho;
SELECT extname, extversion, extrelocatable, extnamespace::regnamespace
  FROM pg_extension WHERE extname = 'togai_zoho';

-- test.err(sql) runs a statement and reports its SQLSTATE, message, detail and hint
-- (the detail left out when it holds row data with timestamps).
CREATE SCHEMA test;
GRANT USAGE ON SCHEMA test TO PUBLIC;
CREATE FUNCTION test.err(q text, with_detail boolean DEFAULT true) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	s text; m text; d text; h text;
BEGIN
	EXECUTE q;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT,
							d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
	RETURN s || ': ' || m || CASE WHEN with_detail THEN coalesce(' | detail: ' || nullif(d, ''), '') ELSE '' END
		|| coalesce(' | hint: ' || nullif(h, ''), '');
END
$$;

-- Public functions of the interface
SELECT p.oid::regprocedure AS function
  FROM pg_proc p
 WHERE p.pronamespace = 'togai_zoho'::regnamespace
 ORDER BY p.proname, 1::text;

-- Tables and views
SELECT c.relname, c.relkind
  FROM pg_class c
 WHERE c.relnamespace = 'togai_zoho'::regnamespace AND c.relkind IN ('r', 'v')
 ORDER BY c.relkind, c.relname;

-- Nothing undocumented: every function, table, view and column has a comment
SELECT 'function ' || p.oid::regprocedure AS undocumented
  FROM pg_proc p
 WHERE p.pronamespace = 'togai_zoho'::regnamespace
   AND obj_description(p.oid, 'pg_proc') IS NULL
UNION ALL
SELECT 'relation ' || c.relname
  FROM pg_class c
 WHERE c.relnamespace = 'togai_zoho'::regnamespace AND c.relkind IN ('r', 'v')
   AND obj_description(c.oid, 'pg_class') IS NULL
UNION ALL
SELECT 'column ' || c.relname || '.' || a.attname
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
 WHERE c.relnamespace = 'togai_zoho'::regnamespace AND c.relkind IN ('r', 'v')
   AND a.attnum > 0 AND NOT a.attisdropped
   AND col_description(c.oid, a.attnum) IS NULL;

-- pg_dump keeps the user's configuration and state
SELECT unnest(extconfig)::regclass::text COLLATE "C" AS dumped FROM pg_extension WHERE extname = 'togai_zoho' ORDER BY 1;

-- The hot queries are index scans: claiming due jobs and looking mappings up
SET enable_seqscan = off;
EXPLAIN (COSTS OFF)
SELECT id FROM togai_zoho.outbox WHERE state = 'pending' AND due_at <= now()
 ORDER BY due_at LIMIT 10 FOR UPDATE SKIP LOCKED;
EXPLAIN (COSTS OFF)
SELECT id FROM togai_zoho.outbox WHERE state = 'running' AND locked_until < now();
EXPLAIN (COSTS OFF)
SELECT zohobooks_id FROM togai_zoho.id_mapping WHERE entity = 'account' AND togai_id = 'a';
EXPLAIN (COSTS OFF)
SELECT togai_id FROM togai_zoho.id_mapping WHERE entity = 'account' AND zohobooks_id = 'z';
RESET enable_seqscan;
