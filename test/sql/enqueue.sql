-- enqueue_sync(): one outbox job per enabled flow the change fires, written in the
-- same transaction, coalesced with the pending job for the same object.  By default
-- the jobs are staged and the worker writes them moments later (the end of this file);
-- with togai_zoho.stage_min_rows = 0 every change writes its jobs itself.
SET togai_zoho.stage_min_rows = 0;
CREATE VIEW test.jobs AS
SELECT f.name AS flow, o.entity, o.source_id, o.state, o.coalesced,
	   o.payload ->> 'name' AS name, o.payload ->> 'status' AS status
  FROM togai_zoho.outbox o JOIN togai_zoho.flow f ON f.id = o.flow_id
 ORDER BY o.id;

-- with a single Togai connection the mirrors' connection_id defaults to it
SELECT togai_zoho.drop_connection('togai-mock');

-- an account appears: one job for the enabled account flow
INSERT INTO togai_zoho.customers (account_id, customer_id, name, customer_name, primary_email, invoice_currency)
VALUES ('acc.1', 'cus.1', 'Acme Main', 'Acme Inc', 'billing@acme.test', 'USD');
SELECT * FROM test.jobs;

-- later edits fold into the pending job and refresh its payload
UPDATE togai_zoho.customers SET name = 'Acme Main Account' WHERE account_id = 'acc.1';
UPDATE togai_zoho.customers SET primary_email = 'ap@acme.test' WHERE account_id = 'acc.1';
SELECT * FROM test.jobs;
SELECT payload ->> 'primary_email' AS email, payload ->> 'customer_id' AS customer FROM togai_zoho.outbox;

-- an update that changes nothing (a repeated poll) costs nothing
UPDATE togai_zoho.customers SET name = name WHERE account_id = 'acc.1';
SELECT coalesced FROM togai_zoho.outbox;

-- a rolled-back change leaves no job
BEGIN;
INSERT INTO togai_zoho.customers (account_id, customer_id, name) VALUES ('acc.rollback', 'cus.9', 'Gone');
SELECT count(*) AS jobs_inside FROM togai_zoho.outbox;
ROLLBACK;
SELECT count(*) AS jobs_after FROM togai_zoho.outbox;

-- a change during delivery folds into the running job and marks it to run once more
UPDATE togai_zoho.outbox SET state = 'running', locked_until = now() + interval '1 minute';
UPDATE togai_zoho.customers SET name = 'Acme Renamed' WHERE account_id = 'acc.1';
SELECT * FROM test.jobs;
SELECT rerun FROM togai_zoho.outbox;

-- invoices: nothing while DRAFT (ongoing), one job when generated, nothing more after
DELETE FROM togai_zoho.outbox;
INSERT INTO togai_zoho.invoices (invoice_id, account_id, customer_id, status, sequence_id, currency, total_amount)
VALUES ('inv.1', 'acc.1', 'cus.1', 'DRAFT', 'INV-0001', 'USD', 0);
UPDATE togai_zoho.invoices SET total_amount = 12.5 WHERE invoice_id = 'inv.1';
SELECT count(*) AS jobs_while_draft FROM togai_zoho.outbox;
UPDATE togai_zoho.invoices SET status = 'DUE', total_amount = 120.75 WHERE invoice_id = 'inv.1';
SELECT * FROM test.jobs;
UPDATE togai_zoho.invoices SET status = 'PAID', paid_amount = 120.75 WHERE invoice_id = 'inv.1';
SELECT * FROM test.jobs;
-- an invoice first seen already generated fires at once; one that goes DRAFT -> VOID never does
INSERT INTO togai_zoho.invoices (invoice_id, account_id, status) VALUES ('inv.2', 'acc.1', 'DUE');
INSERT INTO togai_zoho.invoices (invoice_id, account_id, status) VALUES ('inv.3', 'acc.1', 'DRAFT');
UPDATE togai_zoho.invoices SET status = 'VOID' WHERE invoice_id = 'inv.3';
SELECT * FROM test.jobs;

-- invoice_voided fires on a move to VOID, for a flow that listens to it
SELECT togai_zoho.create_flow('voids', 'outbound', 'togai', 'invoice_voided');
SELECT togai_zoho.add_flow_action('voids', 'zoho', 'invoice_void');
SELECT togai_zoho.set_flow_enabled('voids');
UPDATE togai_zoho.invoices SET status = 'VOID' WHERE invoice_id = 'inv.2';
SELECT * FROM test.jobs WHERE flow = 'voids';

-- a disabled flow enqueues nothing; enabling it again takes effect in the same session
DELETE FROM togai_zoho.outbox;
SELECT togai_zoho.set_flow_enabled('Sync accounts created from Togai to ZohoBooks', false);
INSERT INTO togai_zoho.customers (account_id, customer_id, name) VALUES ('acc.2', 'cus.2', 'Beta');
SELECT count(*) AS jobs_with_flow_disabled FROM togai_zoho.outbox;
SELECT togai_zoho.set_flow_enabled('Sync accounts created from Togai to ZohoBooks');
UPDATE togai_zoho.customers SET name = 'Beta GmbH' WHERE account_id = 'acc.2';
SELECT * FROM test.jobs;

-- two flows fired by one change: one job each; an account_created flow ignores updates
SELECT togai_zoho.create_flow('created only', 'outbound', 'togai', 'account_created');
SELECT togai_zoho.add_flow_action('created only', 'togai', 'account_write_back');
SELECT togai_zoho.set_flow_enabled('created only');
DELETE FROM togai_zoho.outbox;
INSERT INTO togai_zoho.customers (account_id, customer_id, name) VALUES ('acc.3', 'cus.3', 'Gamma');
UPDATE togai_zoho.customers SET name = 'Gamma Ltd' WHERE account_id = 'acc.3';
SELECT * FROM test.jobs;

-- inbox rows fire inbound flows; a repeated payment is ignored
DELETE FROM togai_zoho.outbox;
SELECT togai_zoho.set_flow_enabled('payments');
INSERT INTO togai_zoho.inbox (connection_id, entity, remote_id, payload)
SELECT id, 'payment', '460000000012345', '{"payment_id": "460000000012345", "amount": 120.75}'
  FROM togai_zoho.connection WHERE name = 'zoho';
INSERT INTO togai_zoho.inbox (connection_id, entity, remote_id, payload)
SELECT id, 'payment', '460000000012345', '{"payment_id": "460000000012345", "amount": 120.75}'
  FROM togai_zoho.connection WHERE name = 'zoho'
ON CONFLICT (connection_id, entity, remote_id) DO UPDATE SET payload = EXCLUDED.payload;
SELECT flow, entity, source_id, state, coalesced FROM test.jobs;

-- a row that was mirrored before this transaction (a restore from pg_dump, whose outbox rows
-- come back beside it) enqueues nothing; the default mirrored_at is the new row's own time
DELETE FROM togai_zoho.outbox;
INSERT INTO togai_zoho.invoices (invoice_id, account_id, status, mirrored_at)
VALUES ('inv.restored', 'acc.1', 'DUE', now() - interval '1 day');
INSERT INTO togai_zoho.inbox (connection_id, entity, remote_id, payload, received_at)
SELECT id, 'payment', '460000000077', '{}', now() - interval '1 day' FROM togai_zoho.connection WHERE name = 'zoho';
SELECT count(*) AS jobs_for_restored_rows FROM togai_zoho.outbox;
UPDATE togai_zoho.invoices SET status = 'VOID' WHERE invoice_id = 'inv.restored';
SELECT flow, source_id, status FROM test.jobs;

-- a change that matches no flow costs no outbox row
DELETE FROM togai_zoho.outbox;
SELECT togai_zoho.add_togai_connection('togai-mock', 'tok_mock', 'http://127.0.0.1:8080/api/') > 0 AS added;
INSERT INTO togai_zoho.inbox (connection_id, entity, remote_id, status, payload)
SELECT id, 'invoice', '460000000099', 'sent', '{}' FROM togai_zoho.connection WHERE name = 'zoho';
INSERT INTO togai_zoho.customers (account_id, customer_id, name, connection_id)
SELECT 'acc.mock', 'cus.mock', 'Mock', id FROM togai_zoho.connection WHERE name = 'togai-mock';
SELECT count(*) AS jobs FROM togai_zoho.outbox;

-- your own tables: name the Togai connection, name the columns as in the mirrors
CREATE TABLE public.crm_accounts (account_id text PRIMARY KEY, customer_id text, name text, region text);
CREATE TRIGGER to_zoho AFTER INSERT OR UPDATE ON public.crm_accounts
	FOR EACH ROW EXECUTE FUNCTION togai_zoho.enqueue_sync('account', 'togai');
INSERT INTO public.crm_accounts VALUES ('acc.crm', 'cus.crm', 'From CRM', 'emea');
SELECT f.name AS flow, o.entity, o.source_id, o.payload ->> 'name' AS name, o.payload ->> 'region' AS region
  FROM togai_zoho.outbox o JOIN togai_zoho.flow f ON f.id = o.flow_id;

-- misuse of the trigger gets clear errors
CREATE TABLE public.bad_source (id text, name text);
CREATE TRIGGER t AFTER INSERT ON public.bad_source
	FOR EACH ROW EXECUTE FUNCTION togai_zoho.enqueue_sync('account', 'togai');
SELECT test.err($$INSERT INTO public.bad_source VALUES ('x', 'y')$$);
DROP TRIGGER t ON public.bad_source;
CREATE TRIGGER t AFTER INSERT ON public.bad_source
	FOR EACH ROW EXECUTE FUNCTION togai_zoho.enqueue_sync('account', 'no such connection');
SELECT test.err($$INSERT INTO public.bad_source VALUES ('x', 'y')$$);
DROP TRIGGER t ON public.bad_source;
CREATE TRIGGER t AFTER INSERT ON public.bad_source
	FOR EACH ROW EXECUTE FUNCTION togai_zoho.enqueue_sync('account', 'zoho');
SELECT test.err($$INSERT INTO public.bad_source VALUES ('x', 'y')$$);
DROP TRIGGER t ON public.bad_source;
CREATE TRIGGER t AFTER INSERT ON public.bad_source
	FOR EACH ROW EXECUTE FUNCTION togai_zoho.enqueue_sync('customer', 'togai');
SELECT test.err($$INSERT INTO public.bad_source VALUES ('x', 'y')$$);
DROP TRIGGER t ON public.bad_source;
CREATE TRIGGER t AFTER INSERT ON public.bad_source
	FOR EACH ROW EXECUTE FUNCTION togai_zoho.enqueue_sync();
SELECT test.err($$INSERT INTO public.bad_source VALUES ('x', 'y')$$);
DROP TRIGGER t ON public.bad_source;
CREATE TRIGGER t BEFORE INSERT ON public.bad_source
	FOR EACH ROW EXECUTE FUNCTION togai_zoho.enqueue_sync('account', 'togai');
SELECT test.err($$INSERT INTO public.bad_source VALUES ('x', 'y')$$);
DROP TRIGGER t ON public.bad_source;
CREATE TRIGGER t AFTER DELETE ON public.bad_source
	FOR EACH ROW EXECUTE FUNCTION togai_zoho.enqueue_sync('account', 'togai');
INSERT INTO public.bad_source VALUES ('x', 'y');
SELECT test.err($$DELETE FROM public.bad_source$$);
SELECT test.err($$SELECT togai_zoho.enqueue_sync()$$);
SELECT count(*) AS rows_kept FROM public.bad_source;
DROP TABLE public.bad_source;

-- the mirrors need a Togai connection when there are several
SELECT test.err($$INSERT INTO togai_zoho.customers (account_id, customer_id, name) VALUES ('acc.x', 'cus.x', 'X')$$);
-- and a row's connection must be a Togai one
SELECT test.err($$INSERT INTO togai_zoho.customers (account_id, customer_id, name, connection_id)
				 SELECT 'acc.x', 'cus.x', 'X', id FROM togai_zoho.connection WHERE name = 'zoho'$$);
-- mirror constraints
SELECT test.err($$INSERT INTO togai_zoho.invoices (invoice_id, account_id, status, connection_id) VALUES ('i', 'a', 'SENT', 1)$$, false);
SELECT test.err($$INSERT INTO togai_zoho.customers (account_id, customer_id, name, invoice_currency, connection_id) VALUES ('a', 'c', 'n', 'usd', 1)$$, false);

-- the outbox's own rules (one check constraint): a known entity and state, a lease exactly
-- while running, an end time exactly when done or dead, no step 0, no negative counts
SELECT test.err($$INSERT INTO togai_zoho.outbox (flow_id, connection_id, entity, source_id, payload) VALUES (1, 1, 'customer', 'x', '{}')$$, false);
SELECT test.err($$INSERT INTO togai_zoho.outbox (flow_id, connection_id, entity, source_id, payload, state) VALUES (1, 1, 'account', 'x', '{}', 'sent')$$, false);
SELECT test.err($$INSERT INTO togai_zoho.outbox (flow_id, connection_id, entity, source_id, payload, state) VALUES (1, 1, 'account', 'x', '{}', 'running')$$, false);
SELECT test.err($$INSERT INTO togai_zoho.outbox (flow_id, connection_id, entity, source_id, payload, locked_until) VALUES (1, 1, 'account', 'x', '{}', now())$$, false);
SELECT test.err($$INSERT INTO togai_zoho.outbox (flow_id, connection_id, entity, source_id, payload, state) VALUES (1, 1, 'account', 'x', '{}', 'done')$$, false);
SELECT test.err($$INSERT INTO togai_zoho.outbox (flow_id, connection_id, entity, source_id, payload, step) VALUES (1, 1, 'account', 'x', '{}', 0)$$, false);
SELECT test.err($$INSERT INTO togai_zoho.outbox (flow_id, connection_id, entity, source_id, payload, attempts) VALUES (1, 1, 'account', 'x', '{}', -1)$$, false);
SELECT count(*) AS written FROM togai_zoho.outbox WHERE source_id = 'x';

-- a dropped flow takes its jobs with it (no foreign key holds them; a trigger does)
BEGIN;
CREATE TEMP TABLE busiest AS
	SELECT f.id, f.name FROM togai_zoho.flow f
	 ORDER BY (SELECT count(*) FROM togai_zoho.outbox o WHERE o.flow_id = f.id) DESC, f.id LIMIT 1;
SELECT count(*) > 0 AS had_jobs FROM togai_zoho.outbox o JOIN busiest b ON o.flow_id = b.id;
SELECT togai_zoho.drop_flow(name, force => true) FROM busiest;
SELECT count(*) AS jobs_left FROM togai_zoho.outbox o JOIN busiest b ON o.flow_id = b.id;
ROLLBACK;

-- a bulk insert (togai_zoho.stage_min_rows rows or more) stages its jobs, a row per chunk,
-- and the worker or process_outbox writes them to the outbox
SET togai_zoho.stage_min_rows = 3;
DELETE FROM togai_zoho.outbox;
INSERT INTO togai_zoho.customers (account_id, customer_id, name, connection_id)
SELECT 'acc.bulk' || g, 'cus.bulk' || g, 'Bulk ' || g, c.id
  FROM generate_series(1, 4) g, togai_zoho.connection c WHERE c.name = 'togai';
SELECT count(*) AS jobs FROM togai_zoho.outbox;
SELECT jobs, cardinality(payloads) AS payloads, source_ids FROM togai_zoho.outbox_stage;
SELECT flow, pending FROM togai_zoho.sync_status WHERE pending > 0 ORDER BY flow;
-- an update behind the bulk insert goes straight to the outbox, and the chunk's older
-- payload for that account does not overwrite it when the chunk is written
UPDATE togai_zoho.customers SET name = 'Bulk 2 renamed' WHERE account_id = 'acc.bulk2';
SELECT * FROM test.jobs;
SELECT togai_zoho.process_outbox(0);
SELECT count(*) AS chunks_left FROM togai_zoho.outbox_stage;
SELECT * FROM test.jobs;
-- staged payloads are the rows as to_jsonb() makes them (the created-only job of the renamed
-- account keeps the row as inserted)
SELECT count(*) AS payloads, count(*) FILTER (WHERE o.payload = to_jsonb(c)) AS same_as_the_row
  FROM togai_zoho.outbox o JOIN togai_zoho.customers c ON c.account_id = o.source_id;
-- a table of every kind of column: each staged payload is what to_jsonb() makes of the row
CREATE TYPE public.pair AS (a integer, b text);
CREATE DOMAIN public.positive AS integer CHECK (VALUE > 0);
CREATE TABLE public.typed (account_id text PRIMARY KEY, gone integer, i2 smallint, i4 integer, i8 bigint,
	f4 real, f8 double precision, n numeric, b boolean, t text, v varchar(10), c char(4), d date,
	ts timestamp, tz timestamptz, j json, jb jsonb, texts text[], ints integer[], u uuid, iv interval,
	p public.pair, pos public.positive, "odd ""key""" text);
ALTER TABLE public.typed DROP COLUMN gone;
CREATE TRIGGER to_zoho AFTER INSERT ON public.typed REFERENCING NEW TABLE AS inserted
	FOR EACH STATEMENT EXECUTE FUNCTION togai_zoho.enqueue_sync('account', 'togai');
INSERT INTO public.typed VALUES
	('typed.1', 1, 2, 9007199254740993, 1.5, 0.1, 12.50, true, E'quote " back \\ tab \t é', 'short', 'ab',
	 '2026-12-02', '2026-12-02 10:11:12.5', '2026-12-02 10:11:12.123456+02', '{"b": [1, 2], "a": null}',
	 '{"x": {"y": "z"}}', ARRAY['a', NULL, 'c"d'], ARRAY[1, 2], 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
	 '1 day 2 hours', ROW(1, 'x'), 7, 'k'),
	('typed.2', -1, -2, -3, 'NaN', '-Infinity', 'NaN', false, '', '', '', 'infinity', '-infinity',
	 'infinity', '[]', '[]', '{}', '{}', NULL, '0', ROW(NULL, NULL), NULL, NULL),
	('typed.3', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	 NULL, NULL, NULL, NULL, NULL, NULL, NULL);
SELECT jobs AS staged FROM togai_zoho.outbox_stage;
SELECT togai_zoho.process_outbox(0);
SELECT r.account_id, count(*) AS jobs, count(*) FILTER (WHERE o.payload = to_jsonb(r)) AS same_as_the_row
  FROM public.typed r JOIN togai_zoho.outbox o ON o.source_id = r.account_id
 GROUP BY r.account_id ORDER BY r.account_id;
SELECT o.payload, to_jsonb(r) AS row
  FROM public.typed r JOIN togai_zoho.outbox o ON o.source_id = r.account_id WHERE o.payload <> to_jsonb(r);
DELETE FROM togai_zoho.outbox WHERE source_id LIKE 'typed.%';
DROP TABLE public.typed;
DROP DOMAIN public.positive;
DROP TYPE public.pair;
-- fewer rows: written at once
INSERT INTO togai_zoho.customers (account_id, customer_id, name, connection_id)
SELECT 'acc.small' || g, 'cus.small' || g, 'Small ' || g, c.id
  FROM generate_series(1, 2) g, togai_zoho.connection c WHERE c.name = 'togai';
SELECT count(*) AS chunks FROM togai_zoho.outbox_stage;
SELECT count(*) AS jobs FROM togai_zoho.outbox WHERE source_id LIKE 'acc.small%';
-- a flow with staged jobs is not dropped unless forced, and its staged jobs are never written
BEGIN;
INSERT INTO togai_zoho.customers (account_id, customer_id, name, connection_id)
SELECT 'acc.late' || g, 'cus.late' || g, 'Late ' || g, c.id
  FROM generate_series(1, 3) g, togai_zoho.connection c WHERE c.name = 'togai';
DELETE FROM togai_zoho.outbox;
SELECT test.err($$SELECT togai_zoho.drop_flow('Sync accounts created from Togai to ZohoBooks')$$);
SELECT togai_zoho.drop_flow('Sync accounts created from Togai to ZohoBooks', force => true);
SELECT togai_zoho.process_outbox(0);
SELECT flow, count(*) AS jobs FROM test.jobs GROUP BY flow ORDER BY flow;
SELECT count(*) AS chunks_left FROM togai_zoho.outbox_stage;
ROLLBACK;

-- jobs staged for a flow that is disabled before they are written wait (never due), as the
-- flow's queued jobs do, and are due again once it is enabled; backfill's jobs go the same way
BEGIN;
INSERT INTO togai_zoho.customers (account_id, customer_id, name, connection_id)
SELECT 'acc.paused' || g, 'cus.paused' || g, 'Paused ' || g, c.id
  FROM generate_series(1, 3) g, togai_zoho.connection c WHERE c.name = 'togai';
SELECT count(*) AS chunks FROM togai_zoho.outbox_stage;
SELECT togai_zoho.set_flow_enabled('created only', false);
SELECT togai_zoho.process_outbox(0);
SELECT f.name AS flow, count(*) AS jobs, bool_and(o.due_at = 'infinity') AS wait
  FROM togai_zoho.outbox o JOIN togai_zoho.flow f ON f.id = o.flow_id
 WHERE o.source_id LIKE 'acc.paused%' GROUP BY f.name ORDER BY f.name;
SELECT f.name AS flow, count(*) FILTER (WHERE o.state = 'pending' AND o.due_at = 'infinity') AS waiting
  FROM togai_zoho.outbox o JOIN togai_zoho.flow f ON f.id = o.flow_id
 WHERE o.source_id LIKE 'acc.paused%' AND f.name = 'created only' GROUP BY f.name;
SELECT togai_zoho.set_flow_enabled('created only', true);
SELECT count(*) FILTER (WHERE o.due_at <= now()) AS due
  FROM togai_zoho.outbox o JOIN togai_zoho.flow f ON f.id = o.flow_id
 WHERE o.source_id LIKE 'acc.paused%' AND f.name = 'created only';
ROLLBACK;

-- by default (togai_zoho.stage_min_rows = 1) every change stages its jobs, a single row too:
-- the writer adds one staged row, and writing them folds repeats of an object into one job
-- with the latest payload
RESET togai_zoho.stage_min_rows;
SHOW togai_zoho.stage_min_rows;
DELETE FROM togai_zoho.outbox;
INSERT INTO togai_zoho.customers (account_id, customer_id, name, connection_id)
SELECT 'acc.one', 'cus.one', 'One', c.id FROM togai_zoho.connection c WHERE c.name = 'togai';
UPDATE togai_zoho.customers SET name = 'One, renamed' WHERE account_id = 'acc.one';
UPDATE togai_zoho.customers SET name = 'One, final' WHERE account_id = 'acc.one';
-- an update that changes nothing stages nothing; a rolled-back change leaves nothing staged
UPDATE togai_zoho.customers SET name = name WHERE account_id = 'acc.one';
BEGIN;
INSERT INTO togai_zoho.customers (account_id, customer_id, name, connection_id)
SELECT 'acc.gone', 'cus.gone', 'Gone', c.id FROM togai_zoho.connection c WHERE c.name = 'togai';
SELECT count(*) AS chunks_inside FROM togai_zoho.outbox_stage;
ROLLBACK;
SELECT jobs, source_ids FROM togai_zoho.outbox_stage ORDER BY id;
SELECT count(*) AS jobs FROM togai_zoho.outbox;
SELECT flow, pending FROM togai_zoho.sync_status WHERE pending > 0 ORDER BY flow;
SELECT togai_zoho.process_outbox(0);
SELECT count(*) AS chunks_left FROM togai_zoho.outbox_stage;
SELECT * FROM test.jobs;
-- a change staged while its job runs folds into the running job, which runs once more
UPDATE togai_zoho.outbox SET state = 'running', locked_until = now() + interval '1 minute'
 WHERE source_id = 'acc.one' AND flow_id = (SELECT id FROM togai_zoho.flow WHERE trigger = 'account_changed');
UPDATE togai_zoho.customers SET name = 'One, again' WHERE account_id = 'acc.one';
SELECT togai_zoho.process_outbox(0);
SELECT o.state, o.coalesced, o.rerun, o.payload ->> 'name' AS name
  FROM togai_zoho.outbox o WHERE o.source_id = 'acc.one' AND o.state = 'running';
-- many small transactions: each stages a row, and all of them are written, about 1,000 jobs
-- per statement (here 1,500 inserts, two flows each)
DELETE FROM togai_zoho.outbox;
DO $$
BEGIN
	FOR i IN 1..1500 LOOP
		INSERT INTO togai_zoho.customers (account_id, customer_id, name, connection_id)
		SELECT 'acc.many' || i, 'cus.many', 'Many ' || i, c.id FROM togai_zoho.connection c WHERE c.name = 'togai';
	END LOOP;
END
$$;
SELECT count(*) AS chunks, sum(jobs) AS jobs FROM togai_zoho.outbox_stage;
SELECT togai_zoho.process_outbox(0);
SELECT count(*) AS chunks_left FROM togai_zoho.outbox_stage;
SELECT flow, count(*) AS jobs, count(DISTINCT source_id) AS accounts, max(coalesced) AS coalesced
  FROM test.jobs WHERE source_id LIKE 'acc.many%' GROUP BY flow ORDER BY flow;
-- one statement changing many rows through a row trigger stages them together, a chunk per
-- about 1,000 jobs, not a staged row per changed row
UPDATE togai_zoho.customers SET name = name || ' (renamed)' WHERE account_id LIKE 'acc.many%';
SELECT count(*) AS chunks, sum(jobs) AS jobs FROM togai_zoho.outbox_stage;
SELECT togai_zoho.process_outbox(0);
SELECT flow, count(*) AS jobs, count(*) FILTER (WHERE name LIKE '%(renamed)') AS renamed, max(coalesced) AS coalesced
  FROM test.jobs WHERE source_id LIKE 'acc.many%' GROUP BY flow ORDER BY flow;
-- a statement's rows in two tables (partitions): each table's rows staged apart, each payload its row
CREATE TABLE public.parted (account_id text, customer_id text, name text, region text) PARTITION BY LIST (region);
CREATE TABLE public.parted_eu PARTITION OF public.parted FOR VALUES IN ('eu');
CREATE TABLE public.parted_us (region text, name text, customer_id text, account_id text);
ALTER TABLE public.parted ATTACH PARTITION public.parted_us FOR VALUES IN ('us');
CREATE TRIGGER to_zoho AFTER INSERT ON public.parted
	FOR EACH ROW EXECUTE FUNCTION togai_zoho.enqueue_sync('account', 'togai');
INSERT INTO public.parted VALUES ('p.1', 'c.1', 'One', 'eu'), ('p.2', 'c.2', 'Two', 'eu'),
	('p.3', 'c.3', 'Three', 'us'), ('p.4', 'c.4', 'Four', 'eu');
SELECT jobs, source_ids FROM togai_zoho.outbox_stage ORDER BY id;
SELECT togai_zoho.process_outbox(0);
SELECT r.account_id, count(*) AS jobs, count(*) FILTER (WHERE o.payload = to_jsonb(r)) AS same_as_the_row
  FROM public.parted r JOIN togai_zoho.outbox o ON o.source_id = r.account_id
 GROUP BY r.account_id ORDER BY r.account_id;
DROP TABLE public.parted;
-- a deferred row trigger runs at commit, outside any statement: each row stages its own jobs
CREATE TABLE public.deferred_accounts (account_id text, customer_id text, name text);
CREATE CONSTRAINT TRIGGER to_zoho AFTER INSERT ON public.deferred_accounts DEFERRABLE INITIALLY DEFERRED
	FOR EACH ROW EXECUTE FUNCTION togai_zoho.enqueue_sync('account', 'togai');
DELETE FROM togai_zoho.outbox;
BEGIN;
INSERT INTO public.deferred_accounts VALUES ('d.1', 'c.1', 'Deferred 1'), ('d.2', 'c.2', 'Deferred 2');
SELECT count(*) AS chunks_before_commit FROM togai_zoho.outbox_stage;
COMMIT;
SELECT jobs, source_ids FROM togai_zoho.outbox_stage ORDER BY id;
SELECT togai_zoho.process_outbox(0);
SELECT * FROM test.jobs;
DROP TABLE public.deferred_accounts;
