/* togai_zoho--0.1.0--0.2.0.sql: from the first release to 0.2.0 */

\echo Use "ALTER EXTENSION togai_zoho UPDATE TO '0.2.0'" to load this file. \quit

/*
 * A job waiting for an account whose own job died gives up too (the worker
 * looks for that job here), and keeps waiting_for so that retrying the
 * account brings it back.
 */
CREATE INDEX outbox_dead_source_idx ON togai_zoho.outbox (source_id) WHERE state = 'dead';

CREATE OR REPLACE FUNCTION togai_zoho.retry(job bigint)
	RETURNS void
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	j togai_zoho.outbox;
	newer bigint;
BEGIN
	IF retry.job IS NULL THEN
		RAISE EXCEPTION 'job must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	SELECT * INTO j FROM togai_zoho.outbox o WHERE o.id = retry.job FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'job % does not exist', retry.job
			USING ERRCODE = 'undefined_object',
				  HINT = 'Dead jobs are listed in togai_zoho.dead_jobs.';
	END IF;
	IF j.state = 'running' THEN
		RAISE EXCEPTION 'job % is running', j.id USING ERRCODE = 'object_in_use';
	ELSIF j.state = 'done' THEN
		RAISE EXCEPTION 'job % was delivered already', j.id
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'To send an object again, change its source row or use togai_zoho.backfill().';
	END IF;
	IF j.state = 'dead' THEN
		SELECT o.id INTO newer FROM togai_zoho.outbox o
		 WHERE o.flow_id = j.flow_id AND o.entity = j.entity AND o.source_id = j.source_id
		   AND o.state IN ('pending', 'running');
		IF FOUND THEN
			RAISE EXCEPTION 'job % has a newer job for the same object: %', j.id, newer
				USING ERRCODE = 'unique_violation',
					  HINT = 'The newer job carries the latest change; retry that one if it fails.';
		END IF;
	END IF;
	UPDATE togai_zoho.outbox o
	   SET state = 'pending', attempts = 0, due_at = now(), finished_at = NULL,
		   waiting_for = NULL, updated_at = now()
	 WHERE o.id = j.id;
	/* the jobs that died waiting for this account come back with it */
	IF j.entity = 'account' THEN
		UPDATE togai_zoho.outbox o
		   SET state = 'pending', attempts = 0, due_at = now(), finished_at = NULL, updated_at = now()
		 WHERE o.state = 'dead' AND o.waiting_for = j.source_id
		   AND NOT EXISTS (SELECT 1 FROM togai_zoho.outbox x
							WHERE x.flow_id = o.flow_id AND x.entity = o.entity
							  AND x.source_id = o.source_id AND x.state IN ('pending', 'running'));
	END IF;
	PERFORM togai_zoho.notify_worker();
END
$$;

/*
 * Names: a new connection or flow name is letters, digits, spaces and a few
 * marks (no quotes, semicolons or backslashes). Look-ups find any existing
 * name first, so names made before this rule still work.
 */
CREATE OR REPLACE FUNCTION togai_zoho.check_name(what text, value text, max_length integer DEFAULT 63)
	RETURNS text
	LANGUAGE plpgsql
	IMMUTABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
BEGIN
	IF value IS NULL THEN
		RAISE EXCEPTION '% must not be null', what
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF btrim(value) = '' THEN
		RAISE EXCEPTION '% must not be empty', what
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF length(value) > max_length THEN
		RAISE EXCEPTION '% is too long', what
			USING ERRCODE = 'name_too_long',
				  DETAIL = format('It has %s characters; at most %s are allowed.',
								  length(value), max_length);
	END IF;
	IF value ~ '[[:cntrl:]]' OR value <> btrim(value)
	   OR value ~ '[^A-Za-z0-9 _.,:/()&+@#\u0080-\U0010ffff-]' THEN
		RAISE EXCEPTION '% % is not a valid name', what, to_json(value)
			USING ERRCODE = 'invalid_name',
				  HINT = 'Names are made of letters, digits, spaces and _ - . , : / ( ) & + @ #, '
						 'and do not start or end with a space.';
	END IF;
	RETURN value;
END
$$;

CREATE OR REPLACE FUNCTION togai_zoho.find_connection(name text, app text DEFAULT NULL)
	RETURNS togai_zoho.connection
	LANGUAGE plpgsql
	STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	c togai_zoho.connection;
BEGIN
	SELECT * INTO c FROM togai_zoho.connection x WHERE x.name = find_connection.name;
	IF NOT FOUND THEN
		PERFORM togai_zoho.check_name('connection name', find_connection.name);
		RAISE EXCEPTION 'connection "%" does not exist', find_connection.name
			USING ERRCODE = 'undefined_object',
				  HINT = 'See togai_zoho.connections for the existing connections.';
	END IF;
	IF find_connection.app IS NOT NULL AND c.app <> find_connection.app THEN
		RAISE EXCEPTION 'connection "%" is a % connection, not a % connection',
				find_connection.name, c.app, find_connection.app
			USING ERRCODE = 'wrong_object_type';
	END IF;
	RETURN c;
END
$$;

CREATE OR REPLACE FUNCTION togai_zoho.find_flow(name text)
	RETURNS togai_zoho.flow
	LANGUAGE plpgsql
	STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	f togai_zoho.flow;
BEGIN
	SELECT * INTO f FROM togai_zoho.flow x WHERE x.name = find_flow.name;
	IF NOT FOUND THEN
		PERFORM togai_zoho.check_name('flow name', find_flow.name, 128);
		RAISE EXCEPTION 'flow "%" does not exist', find_flow.name
			USING ERRCODE = 'undefined_object',
				  HINT = 'See togai_zoho.flows for the existing flows.';
	END IF;
	RETURN f;
END
$$;

/* NULL arguments: null_value_not_allowed, like every other function. */
CREATE OR REPLACE FUNCTION togai_zoho.wait_for_idle(timeout interval DEFAULT '30 s')
	RETURNS boolean
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	deadline timestamptz;
BEGIN
	IF wait_for_idle.timeout IS NULL THEN
		RAISE EXCEPTION 'timeout must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF wait_for_idle.timeout < interval '0' THEN
		RAISE EXCEPTION 'timeout must be a non-negative interval'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	deadline := clock_timestamp() + wait_for_idle.timeout;
	LOOP
		/* busy: anything running, staged, or due before the deadline (waits for a mapping aside) */
		IF NOT EXISTS (SELECT 1 FROM togai_zoho.outbox o
						WHERE o.state = 'running'
						   OR (o.state = 'pending' AND o.waiting_for IS NULL
							   AND o.due_at <= greatest(deadline, clock_timestamp())))
		   AND NOT EXISTS (SELECT 1 FROM togai_zoho.outbox_stage) THEN
			RETURN true;
		END IF;
		IF clock_timestamp() >= deadline THEN
			RETURN false;
		END IF;
		PERFORM pg_sleep(0.02);
	END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION togai_zoho.poll_begin(connection text, app text, max_pages integer)
	RETURNS togai_zoho.connection
	LANGUAGE plpgsql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	c togai_zoho.connection := togai_zoho.find_connection(poll_begin.connection, poll_begin.app);
BEGIN
	IF max_pages IS NULL THEN
		RAISE EXCEPTION 'max_pages must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF max_pages < 1 THEN
		RAISE EXCEPTION 'max_pages must be at least 1' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF NOT pg_try_advisory_xact_lock(2029913117, c.id::integer) THEN
		RETURN NULL;
	END IF;
	RETURN c;
END
$$;

/*
 * The mirrors enqueue inserted rows a statement at a time (one outbox insert
 * for a whole poll page, backfill or bulk load, from the statement's
 * transition table) and updated rows a row at a time (an update that changes
 * nothing is skipped before any work).
 */
DROP TRIGGER enqueue_sync ON togai_zoho.customers;
DROP TRIGGER enqueue_sync ON togai_zoho.invoices;
DROP TRIGGER enqueue_sync ON togai_zoho.inbox;
CREATE TRIGGER enqueue_sync AFTER UPDATE ON togai_zoho.customers
	FOR EACH ROW EXECUTE FUNCTION togai_zoho.enqueue_sync('account');
CREATE TRIGGER enqueue_sync AFTER UPDATE ON togai_zoho.invoices
	FOR EACH ROW EXECUTE FUNCTION togai_zoho.enqueue_sync('invoice');
CREATE TRIGGER enqueue_sync AFTER UPDATE ON togai_zoho.inbox
	FOR EACH ROW EXECUTE FUNCTION togai_zoho.enqueue_sync('inbox');
CREATE TRIGGER enqueue_sync_inserted AFTER INSERT ON togai_zoho.customers
	REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION togai_zoho.enqueue_sync('account');
CREATE TRIGGER enqueue_sync_inserted AFTER INSERT ON togai_zoho.invoices
	REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION togai_zoho.enqueue_sync('invoice');
CREATE TRIGGER enqueue_sync_inserted AFTER INSERT ON togai_zoho.inbox
	REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION togai_zoho.enqueue_sync('inbox');

/*
 * One index less for every job written: per-flow listings (dead_jobs of a
 * flow, retry_dead, drop_flow) are rare and can scan.
 */
DROP INDEX togai_zoho.outbox_flow_state_idx;

/*
 * Jobs no longer check their flow by foreign key: the check locked the flow's
 * row in every writer's transaction (a WAL record and a dirtied page each
 * time, and multixacts once several writers enqueue for the same flow).  A
 * dropped flow's jobs go with it by this trigger instead; a job enqueued while
 * its flow was being dropped dies when claimed, saying so.
 */
ALTER TABLE togai_zoho.outbox DROP CONSTRAINT outbox_flow_id_fkey;

CREATE FUNCTION togai_zoho.drop_flow_jobs()
	RETURNS trigger
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
BEGIN
	DELETE FROM togai_zoho.outbox o WHERE o.flow_id = OLD.id;
	RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION togai_zoho.drop_flow_jobs() FROM PUBLIC;
COMMENT ON FUNCTION togai_zoho.drop_flow_jobs() IS
'Trigger: a dropped flow''s outbox jobs (and their attempts) go with it';

CREATE TRIGGER drop_flow_jobs AFTER DELETE ON togai_zoho.flow
	FOR EACH ROW EXECUTE FUNCTION togai_zoho.drop_flow_jobs();

/*
 * Bulk inserts stage their jobs: an insert of togai_zoho.stage_min_rows rows
 * or more writes one outbox_stage row per chunk of jobs instead of a job row
 * (with its index entries and its conflict check) per inserted row, and the
 * worker writes the jobs moments after the commit.  Chunk ids come from the
 * outbox's sequence and are kept with the jobs as payload_version, so a
 * chunk written out late never overwrites a job that holds a later change.
 */
ALTER TABLE togai_zoho.outbox ADD COLUMN payload_version bigint;
COMMENT ON COLUMN togai_zoho.outbox.payload_version IS
'Order of the change the payload came from, where not the job''s id: the staged chunk it was written from, or the last change folded in';

CREATE TABLE togai_zoho.outbox_stage (
	id             bigint PRIMARY KEY DEFAULT nextval('togai_zoho.outbox_id_seq'),
	jobs           integer NOT NULL,
	flow_ids       bigint[] NOT NULL,
	connection_ids bigint[] NOT NULL,
	entities       text[] NOT NULL,
	source_ids     text[] NOT NULL,
	payloads       json[] NOT NULL,
	coalesced      integer[] NOT NULL,
	created_at     timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON togai_zoho.outbox_stage FROM PUBLIC;
/* a chunk compresses to about a seventh with lz4, at a fraction of pglz's time */
DO $$
BEGIN
	ALTER TABLE togai_zoho.outbox_stage ALTER COLUMN flow_ids SET COMPRESSION lz4,
		ALTER COLUMN connection_ids SET COMPRESSION lz4, ALTER COLUMN entities SET COMPRESSION lz4,
		ALTER COLUMN source_ids SET COMPRESSION lz4, ALTER COLUMN payloads SET COMPRESSION lz4,
		ALTER COLUMN coalesced SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
	NULL;
END
$$;
SELECT pg_catalog.pg_extension_config_dump('togai_zoho.outbox_stage', '');

COMMENT ON TABLE togai_zoho.outbox_stage IS
'Jobs of bulk inserts not yet written to the outbox, a chunk per row; the worker and process_outbox() write them';
COMMENT ON COLUMN togai_zoho.outbox_stage.id IS 'Chunk id, from the outbox''s job id sequence';
COMMENT ON COLUMN togai_zoho.outbox_stage.jobs IS 'Number of jobs in the chunk';
COMMENT ON COLUMN togai_zoho.outbox_stage.flow_ids IS 'Flow of each job';
COMMENT ON COLUMN togai_zoho.outbox_stage.connection_ids IS 'Source connection of each job';
COMMENT ON COLUMN togai_zoho.outbox_stage.entities IS 'Kind of source object of each job';
COMMENT ON COLUMN togai_zoho.outbox_stage.source_ids IS 'Source object id of each job';
COMMENT ON COLUMN togai_zoho.outbox_stage.payloads IS 'Source row of each job, as json';
COMMENT ON COLUMN togai_zoho.outbox_stage.coalesced IS 'Repeats of each job folded in before staging';
COMMENT ON COLUMN togai_zoho.outbox_stage.created_at IS 'When the chunk was staged (its jobs are due from then)';

/* Staged jobs count as pending wherever the outbox's pending jobs are counted. */
CREATE OR REPLACE VIEW togai_zoho.sync_status AS
SELECT f.name AS flow, f.direction, f.trigger, f.enabled,
	   count(o.id) FILTER (WHERE o.state = 'pending') +
		(SELECT count(*) FROM togai_zoho.outbox_stage s, unnest(s.flow_ids) AS u(id) WHERE u.id = f.id) AS pending,
	   count(o.id) FILTER (WHERE o.state = 'running') AS running,
	   count(o.id) FILTER (WHERE o.state = 'done') AS done,
	   count(o.id) FILTER (WHERE o.state = 'dead') AS dead,
	   now() - least(min(o.due_at) FILTER (WHERE o.state = 'pending' AND o.due_at <= now()),
					 (SELECT min(s.created_at) FROM togai_zoho.outbox_stage s WHERE f.id = ANY (s.flow_ids)))
		   AS oldest_due_age,
	   max(o.finished_at) FILTER (WHERE o.state = 'done') AS last_delivered_at,
	   (SELECT e.last_error FROM togai_zoho.outbox e
		 WHERE e.flow_id = f.id AND e.last_error IS NOT NULL
		 ORDER BY e.updated_at DESC LIMIT 1) AS last_error
  FROM togai_zoho.flow f
  LEFT JOIN togai_zoho.outbox o ON o.flow_id = f.id
 GROUP BY f.id;

CREATE OR REPLACE FUNCTION togai_zoho.drop_flow(name text, force boolean DEFAULT false)
	RETURNS void
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	f      togai_zoho.flow;
	v_open bigint;
BEGIN
	IF force IS NULL THEN
		RAISE EXCEPTION 'force must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	f := togai_zoho.find_flow(drop_flow.name);
	PERFORM 1 FROM togai_zoho.flow x WHERE x.id = f.id FOR UPDATE;
	SELECT count(*) INTO v_open FROM togai_zoho.outbox o
	 WHERE o.flow_id = f.id AND o.state IN ('pending', 'running');
	v_open := v_open + (SELECT count(*) FROM togai_zoho.outbox_stage s, unnest(s.flow_ids) AS u(id)
						 WHERE u.id = f.id);
	IF v_open > 0 AND NOT force THEN
		RAISE EXCEPTION 'flow "%" has % jobs not yet delivered', f.name, v_open
			USING ERRCODE = 'dependent_objects_still_exist',
				  HINT = 'Disable it with togai_zoho.set_flow_enabled(flow, false) and let its jobs '
						 'finish (see togai_zoho.sync_status), or pass force => true to discard them.';
	END IF;
	/* its staged jobs are not written once the flow is gone */
	DELETE FROM togai_zoho.flow x WHERE x.id = f.id;
	IF v_open > 0 THEN
		RAISE NOTICE 'dropped flow "%" with % jobs not yet delivered', f.name, v_open;
	END IF;
END
$$;

COMMENT ON FUNCTION togai_zoho.process_outbox(integer) IS
'Writes the staged jobs of bulk inserts to the outbox, then delivers up to max_jobs due jobs in this session (for pg_cron, or installs without the worker); returns how many ended an attempt. Runs in the caller''s transaction and looks for each object before creating it';

/*
 * The outbox's rules as one check constraint on a C function: the seven CHECK
 * expressions were deserialized and planned again by every statement that
 * wrote a job, a third of a single-row enqueue's CPU time.
 */
CREATE FUNCTION togai_zoho.outbox_row_valid(entity text, state text, step integer, attempts integer,
											 coalesced integer, locked_until timestamptz,
											 finished_at timestamptz)
	RETURNS boolean
	LANGUAGE C
	IMMUTABLE
	PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'outbox_row_valid';
REVOKE ALL ON FUNCTION togai_zoho.outbox_row_valid(text, text, integer, integer, integer, timestamptz, timestamptz)
	FROM PUBLIC;
COMMENT ON FUNCTION togai_zoho.outbox_row_valid(text, text, integer, integer, integer, timestamptz, timestamptz) IS
'Check constraint of the outbox: a known entity and state, step >= 1, attempts and coalesced >= 0, a lease exactly when running, an end time exactly when done or dead';

ALTER TABLE togai_zoho.outbox
	DROP CONSTRAINT outbox_entity_check, DROP CONSTRAINT outbox_state_check,
	DROP CONSTRAINT outbox_step_check, DROP CONSTRAINT outbox_attempts_check,
	DROP CONSTRAINT outbox_coalesced_check, DROP CONSTRAINT outbox_check, DROP CONSTRAINT outbox_check1,
	ADD CONSTRAINT outbox_row_valid CHECK (togai_zoho.outbox_row_valid(entity, state, step, attempts, coalesced,
																	   locked_until, finished_at));

/*
 * ---------------------------------------------------------------------------
 * Zoho Books as it documents itself: items on every line, distinct contact
 * names, lists read only with their documented filters and sort columns.
 * ---------------------------------------------------------------------------
 */

UPDATE togai_zoho.action_def
   SET options = options || '{"contact_name_pattern": "string"}'
 WHERE name = 'contact_upsert';
UPDATE togai_zoho.action_def
   SET options = options || '{"item_account_id": "string", "togai_id_customfield_id": "string"}'
 WHERE name = 'invoice_create';

/* Zoho Books item ids by name, found or made for the lines of invoices. */
CREATE TABLE togai_zoho.zohobooks_item (
	connection_id bigint NOT NULL REFERENCES togai_zoho.connection (id) ON DELETE CASCADE,
	name          text NOT NULL CHECK (name <> '' AND length(name) <= 100),
	item_id       text NOT NULL CHECK (item_id <> ''),
	learnt_at     timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (connection_id, name)
);
SELECT pg_catalog.pg_extension_config_dump('togai_zoho.zohobooks_item', '');
COMMENT ON TABLE togai_zoho.zohobooks_item IS
'The Zoho Books item of each line name (a Togai rate card or line type), found by name or made once per organization; delete a row to have it looked up again';
COMMENT ON COLUMN togai_zoho.zohobooks_item.connection_id IS 'Zoho Books connection (organization)';
COMMENT ON COLUMN togai_zoho.zohobooks_item.name IS 'Item name: the line''s rate card or type, cut to Zoho''s 100 characters';
COMMENT ON COLUMN togai_zoho.zohobooks_item.item_id IS 'Zoho Books item_id';
COMMENT ON COLUMN togai_zoho.zohobooks_item.learnt_at IS 'When the item was found or made';

CREATE OR REPLACE FUNCTION togai_zoho.job_context(entity text, connection_id bigint, payload jsonb)
	RETURNS jsonb
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	app text;
	ctx jsonb;
BEGIN
	SELECT c.app INTO app FROM togai_zoho.connection c WHERE c.id = job_context.connection_id;
	IF app = 'togai' THEN
		IF entity = 'invoice' THEN
			ctx := togai_zoho.invoice_line_items(payload);
			/* the one line standing for a whole invoice bills the same item for every invoice */
			IF jsonb_array_length(ctx -> 'lines') = 1
			   AND ctx #>> '{lines,0,name}' = 'Togai invoice ' || coalesce(payload ->> 'sequence_id',
																	   payload ->> 'invoice_id', '') THEN
				ctx := jsonb_set(ctx, '{lines,0,item}', '"Togai invoice"');
			END IF;
			RETURN ctx || jsonb_build_object('item_ids',
				(SELECT jsonb_object_agg(z.connection_id::text, z.ids)
				   FROM (SELECT i.connection_id, jsonb_object_agg(i.name, i.item_id) AS ids
						   FROM togai_zoho.zohobooks_item i
						  WHERE i.name IN (SELECT left(coalesce(l ->> 'item', l ->> 'name'), 100)
											 FROM jsonb_array_elements(ctx -> 'lines') l)
						  GROUP BY i.connection_id) z));
		ELSIF entity = 'account' THEN
			RETURN jsonb_build_object('currency_ids',
				(SELECT jsonb_object_agg(z.connection_id::text, z.currency_id)
				   FROM togai_zoho.zohobooks_currency z
				  WHERE z.currency_code = payload ->> 'invoice_currency'));
		END IF;
		RETURN NULL;
	END IF;
	IF entity IN ('payment', 'invoice') THEN
		RETURN togai_zoho.payment_context(job_context.connection_id, entity, payload -> 'payload');
	ELSIF entity = 'contact' THEN
		RETURN jsonb_build_object('account_id',
			(SELECT m.togai_id FROM togai_zoho.id_mapping m
			  WHERE m.entity = 'account' AND m.zohobooks_connection_id = job_context.connection_id
				AND m.zohobooks_id = payload ->> 'remote_id'));
	END IF;
	RETURN NULL;
END
$$;

/* A time as Zoho Books' lists take it: 2026-11-23T10:15:00+0000. */
CREATE FUNCTION togai_zoho.zoho_time(t timestamptz)
	RETURNS text
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || '+0000'
$$;
COMMENT ON FUNCTION togai_zoho.zoho_time(timestamptz) IS 'A time in the form Zoho Books'' list filters take, in UTC';

/*
 * How far a one-page read has seen, given the newest change on it: all of
 * it once that change is a minute older than the read (nothing can still be
 * changing within its second); otherwise a second less, so that a change
 * made later in that same second is read again.
 */
CREATE FUNCTION togai_zoho.seen_through(newest timestamptz, read_at timestamptz)
	RETURNS timestamptz
	LANGUAGE sql IMMUTABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT CASE WHEN newest < read_at - interval '1 minute' THEN newest ELSE newest - interval '1 s' END
$$;
COMMENT ON FUNCTION togai_zoho.seen_through(timestamptz, timestamptz) IS
'The change time a one-page read has seen everything up to: its newest change, or a second less while that change is under a minute old';
REVOKE ALL ON FUNCTION togai_zoho.seen_through(timestamptz, timestamptz) FROM PUBLIC;

/*
 * The payments of an invoice that the inbox lacks, read whole (a payment's
 * list entries carry neither its invoices nor a modification time, and no
 * list of payments filters by change): how many were taken.
 */
CREATE FUNCTION togai_zoho.take_invoice_payments(c togai_zoho.connection, invoice_id text)
	RETURNS integer
	LANGUAGE plpgsql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	p jsonb;
	n integer := 0;
BEGIN
	FOR p IN SELECT e FROM jsonb_array_elements(coalesce(togai_zoho.zohobooks_call(c.name,
				'invoice_payments', jsonb_build_object('invoice_id', invoice_id)), '[]')) e LOOP
		CONTINUE WHEN EXISTS (SELECT 1 FROM togai_zoho.inbox i
							   WHERE i.connection_id = c.id AND i.entity = 'payment'
								 AND i.remote_id = p ->> 'payment_id');
		IF togai_zoho.mirror_inbox(c.id, 'payment', togai_zoho.zohobooks_call(c.name, 'payment_get',
				jsonb_build_object('payment_id', p ->> 'payment_id')), 'poll') THEN
			n := n + 1;
		END IF;
	END LOOP;
	RETURN n;
END
$$;
COMMENT ON FUNCTION togai_zoho.take_invoice_payments(togai_zoho.connection, text) IS
'Reads the payments applied to a Zoho Books invoice that the inbox lacks, each in full, into the inbox; returns how many';

/*
 * Zoho Books' lists as they are documented: invoices through their
 * last_modified_time filter (modified after the cursor); contacts sorted by
 * last_modified_time (no filter exists; the direction is not documented, so
 * both are followed); payments through the invoices whose balance or last
 * payment date moved.  The next walk starts a margin before this one began,
 * so objects changed while it ran are read again, never skipped.
 */
CREATE OR REPLACE FUNCTION togai_zoho.poll_zohobooks(connection text, max_pages integer DEFAULT 100)
	RETURNS jsonb
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	c togai_zoho.connection;
	stream text;
	cur jsonb;
	page jsonb;
	item jsonb;
	prev jsonb;
	pages integer := 0;
	page_no integer;
	since timestamptz;
	started timestamptz;
	high timestamptz;
	t timestamptz;
	first_high timestamptz;
	stream_pages integer;
	seen integer;
	changed integer;
	failed integer;
	payments integer := 0;
	more boolean;
	newest_first boolean;
	older_reached boolean;
	want_payments boolean;
	result jsonb := '{}';
	err text;
	err_state text;
	stream_err text;
	item_err text;
	margin constant interval := '1 minute';
BEGIN
	c := togai_zoho.poll_begin(poll_zohobooks.connection, 'zohobooks', max_pages);
	IF c.id IS NULL THEN
		RETURN jsonb_build_object('connection', poll_zohobooks.connection,
								  'skipped', 'another poll of this connection is running');
	END IF;
	/* payments are looked for only for a flow that records them */
	want_payments := EXISTS (SELECT 1 FROM togai_zoho.flow f
							  WHERE f.trigger_connection_id = c.id AND f.enabled
								AND f.trigger = 'payment_recorded');

	FOR stream IN SELECT togai_zoho.poll_order(c.id, ARRAY['invoices', 'contacts']) LOOP
		EXIT WHEN pages >= max_pages;
		cur := togai_zoho.get_cursor(c.id, stream);
		since := togai_zoho.remote_time(cur ->> 'since');
		started := coalesce((cur ->> 'walk_started')::timestamptz, clock_timestamp());
		high := togai_zoho.remote_time(cur ->> 'high');
		page_no := coalesce((cur ->> 'page')::integer, 1);
		seen := 0; changed := 0; failed := 0; more := true; older_reached := false; stream_err := NULL;
		stream_pages := 0; first_high := NULL;
		LOOP
			BEGIN
				IF stream = 'invoices' THEN
					page := togai_zoho.zohobooks_call(c.name, 'list_changed', jsonb_strip_nulls(
						jsonb_build_object('list', 'invoices', 'since', togai_zoho.zoho_time(since),
										   'page', page_no)));
				ELSE
					page := togai_zoho.zohobooks_call(c.name, 'list_changed',
						jsonb_build_object('list', 'contacts', 'page', page_no));
				END IF;
			EXCEPTION WHEN OTHERS THEN
				GET STACKED DIAGNOSTICS stream_err = MESSAGE_TEXT, err_state = RETURNED_SQLSTATE;
				RAISE WARNING 'togai_zoho: polling % of connection "%" stopped: %', stream, c.name, stream_err
					USING HINT = 'The next poll resumes from the same page; togai_zoho.poll_status shows it.';
				err := coalesce(err, stream || ': ' || stream_err);
				EXIT;
			END;
			pages := pages + 1;
			stream_pages := stream_pages + 1;
			/* Zoho does not document the direction of a sort: read it from the page */
			newest_first := stream <> 'contacts' OR coalesce(page #>> '{page_context,sort_order}' = 'D',
				togai_zoho.remote_time(page #>> '{contacts,0,last_modified_time}') >=
				togai_zoho.remote_time(page -> 'contacts' -> -1 ->> 'last_modified_time'), true);
			FOR item IN SELECT e FROM jsonb_array_elements(coalesce(page -> stream, '[]')) e LOOP
				t := togai_zoho.remote_time(item ->> 'last_modified_time');
				/* contacts are not filtered: those not changed after the cursor were taken before */
				IF stream = 'contacts' AND since IS NOT NULL AND t <= since THEN
					older_reached := older_reached OR newest_first;
					CONTINUE;
				END IF;
				seen := seen + 1;
				high := greatest(high, t);
				IF stream_pages = 1 THEN
					first_high := greatest(first_high, t);
				END IF;
				BEGIN
					IF stream = 'invoices' THEN
						SELECT i.payload INTO prev FROM togai_zoho.inbox i
						 WHERE i.connection_id = c.id AND i.entity = 'invoice'
						   AND i.remote_id = item ->> 'invoice_id';
					END IF;
					IF togai_zoho.mirror_inbox(c.id, rtrim(stream, 's'), item, 'poll') THEN
						changed := changed + 1;
					END IF;
					/* money applied to a synced invoice: read the payments it got */
					IF stream = 'invoices' AND want_payments
					   AND (prev ->> 'balance' IS DISTINCT FROM item ->> 'balance'
							OR prev ->> 'last_payment_date' IS DISTINCT FROM item ->> 'last_payment_date')
					   AND coalesce(togai_zoho.json_numeric(item -> 'balance'), 0)
						   < coalesce(togai_zoho.json_numeric(item -> 'total'), 0)
					   AND EXISTS (SELECT 1 FROM togai_zoho.id_mapping m
									WHERE m.entity = 'invoice' AND m.zohobooks_connection_id = c.id
									  AND m.zohobooks_id = item ->> 'invoice_id') THEN
						payments := payments + togai_zoho.take_invoice_payments(c, item ->> 'invoice_id');
					END IF;
				EXCEPTION WHEN OTHERS THEN
					GET STACKED DIAGNOSTICS item_err = MESSAGE_TEXT;
					failed := failed + 1;
					RAISE WARNING 'togai_zoho: Zoho Books % % of connection "%" not taken: %',
						rtrim(stream, 's'), item ->> (rtrim(stream, 's') || '_id'), c.name, item_err;
				END;
			END LOOP;
			more := coalesce((page #>> '{page_context,has_more_page}')::boolean, false)
					AND NOT older_reached;
			EXIT WHEN NOT more;
			page_no := page_no + 1;
			EXIT WHEN pages >= max_pages;
		END LOOP;
		IF stream_err IS NULL AND NOT more THEN
			/*
			 * The next walk reads what changed after this one could see (see
			 * seen_through).  Contacts sorted by change: after the newest on
			 * the page where the newest stand (the first, or the last when
			 * oldest come first), since a contact changed during the walk
			 * moves there.  Invoices: after the newest of a walk of one page;
			 * after a longer walk, from before it began (less a margin for the
			 * clocks), so that an invoice changed meanwhile is read again.
			 */
			PERFORM togai_zoho.set_cursor(c.id, stream, jsonb_strip_nulls(jsonb_build_object(
				'since', togai_zoho.zoho_time(coalesce(CASE
					WHEN stream = 'contacts' AND newest_first THEN togai_zoho.seen_through(first_high, started)
					WHEN stream = 'contacts' OR (stream_pages = 1 AND (cur ->> 'page') IS NULL)
						THEN togai_zoho.seen_through(high, started)
					ELSE least(high, started - margin) END, since, started - margin)),
				'high', togai_zoho.zoho_time(high),
				/* oldest first: the next walk starts at the last page, where changes go */
				'page', CASE WHEN stream = 'contacts' AND NOT newest_first THEN page_no END,
				'last_full_walk', clock_timestamp(), 'last_poll_at', clock_timestamp())));
		ELSE
			PERFORM togai_zoho.set_cursor(c.id, stream, jsonb_strip_nulls(jsonb_build_object(
				'since', togai_zoho.zoho_time(since), 'high', togai_zoho.zoho_time(high),
				'page', page_no, 'walk_started', started,
				'last_full_walk', cur -> 'last_full_walk', 'last_poll_at', clock_timestamp(),
				'last_error', stream_err, 'last_error_sqlstate', err_state,
				'last_error_at', CASE WHEN stream_err IS NOT NULL THEN clock_timestamp() END)));
		END IF;
		result := result || jsonb_build_object(stream, jsonb_build_object(
			'seen', seen, 'changed', changed, 'failed', failed,
			'complete', stream_err IS NULL AND NOT more));
		/* a stream that fails does not stop the others; a walk cut short by max_pages does */
		EXIT WHEN stream_err IS NULL AND more;
	END LOOP;
	RETURN jsonb_build_object('connection', c.name, 'pages', pages, 'payments', payments) || result
		|| jsonb_strip_nulls(jsonb_build_object('error', err));
END
$$;

/* Where each poll stream stands, and what stopped it last. */
CREATE VIEW togai_zoho.poll_status AS
SELECT c.name AS connection, c.app, s.stream,
	   (s.cursor::jsonb ->> 'last_poll_at')::timestamptz AS last_poll_at,
	   (s.cursor::jsonb ->> 'last_full_walk')::timestamptz AS last_complete_walk_at,
	   s.cursor::jsonb ->> 'last_error' AS last_error,
	   (s.cursor::jsonb ->> 'last_error_at')::timestamptz AS last_error_at,
	   s.cursor::jsonb ->> 'since' AS changed_since
  FROM togai_zoho.sync_cursor s
  JOIN togai_zoho.connection c ON c.id = s.connection_id;
COMMENT ON VIEW togai_zoho.poll_status IS
'Each polled stream of each connection: when it was last polled and last walked to its end, the error that stopped it (until a walk completes), and the change time the next poll reads from';

/*
 * A poll for pg_cron: CALL togai_zoho.poll('zoho') commits what the poll
 * took, then fails when a stream failed, so that cron.job_run_details shows
 * the error (a SELECT's result never reaches it).  No SET clause: a
 * procedure with one cannot commit; every name is qualified instead.
 */
CREATE PROCEDURE togai_zoho.poll(connection text, max_pages integer DEFAULT 100)
	LANGUAGE plpgsql
	AS $$
DECLARE
	c togai_zoho.connection := togai_zoho.find_connection(poll.connection);
	r jsonb;
BEGIN
	IF c.app = 'togai' THEN
		r := togai_zoho.poll_togai(c.name, max_pages);
	ELSE
		r := togai_zoho.poll_zohobooks(c.name, max_pages);
	END IF;
	COMMIT;
	IF r OPERATOR(pg_catalog.?) 'error' THEN
		RAISE EXCEPTION 'togai_zoho: polling connection "%" stopped at %', c.name,
			r OPERATOR(pg_catalog.->>) 'error'
			USING ERRCODE = 'external_routine_exception',
				  DETAIL = pg_catalog.format('The poll took: %s', r),
				  HINT = 'What it took is kept; togai_zoho.poll_status shows each stream.';
	END IF;
END
$$;
REVOKE ALL ON PROCEDURE togai_zoho.poll(text, integer) FROM PUBLIC;
COMMENT ON PROCEDURE togai_zoho.poll(text, integer) IS
'Polls a connection (poll_togai or poll_zohobooks), commits what it took, then fails naming the stream that stopped: schedule it with pg_cron as CALL togai_zoho.poll(''<connection>'')';

/* Backfilled jobs look for their remote objects before they create them. */
CREATE OR REPLACE FUNCTION togai_zoho.backfill(flow text)
	RETURNS bigint
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	f togai_zoho.flow;
	t togai_zoho.trigger_def;
	zoho_connections bigint[];
	src record;
	n bigint := 0;
	every constant integer := 5000;
BEGIN
	f := togai_zoho.find_flow(backfill.flow);
	IF NOT f.enabled THEN
		RAISE EXCEPTION 'flow "%" is disabled', f.name
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Enable it first with set_flow_enabled(); a disabled flow sends nothing.';
	END IF;
	SELECT * INTO t FROM togai_zoho.trigger_def d WHERE d.name = f.trigger;
	SELECT array_agg(a.connection_id) INTO zoho_connections
	  FROM togai_zoho.flow_action a JOIN togai_zoho.connection c ON c.id = a.connection_id
	 WHERE a.flow_id = f.id AND c.app = 'zohobooks';

	FOR src IN
		/* accounts without a contact */
		SELECT 'account' AS entity, x.account_id AS source_id, to_jsonb(x) AS payload
		  FROM togai_zoho.customers x
		 WHERE t.entity = 'account' AND x.connection_id = f.trigger_connection_id
		   AND NOT EXISTS (SELECT 1 FROM togai_zoho.id_mapping m
							WHERE m.entity = 'account' AND m.togai_connection_id = x.connection_id
							  AND m.togai_id = x.account_id
							  AND m.zohobooks_connection_id = ANY (zoho_connections))
		UNION ALL
		/* generated invoices without a Zoho invoice; voided ones that have one */
		SELECT 'invoice', x.invoice_id, to_jsonb(x)
		  FROM togai_zoho.invoices x
		 WHERE t.entity = 'invoice' AND t.app = 'togai' AND x.connection_id = f.trigger_connection_id
		   AND CASE f.trigger
				   WHEN 'invoice_generated' THEN x.status NOT IN ('DRAFT', 'VOID', 'MERGED')
						AND NOT EXISTS (SELECT 1 FROM togai_zoho.id_mapping m
										 WHERE m.entity = 'invoice' AND m.togai_connection_id = x.connection_id
										   AND m.togai_id = x.invoice_id
										   AND m.zohobooks_connection_id = ANY (zoho_connections))
				   ELSE x.status = 'VOID'
						AND EXISTS (SELECT 1 FROM togai_zoho.id_mapping m
									 WHERE m.entity = 'invoice' AND m.togai_connection_id = x.connection_id
									   AND m.togai_id = x.invoice_id) END
		UNION ALL
		/* Zoho Books objects of the flow's kind not recorded in Togai yet */
		SELECT x.entity, x.remote_id, to_jsonb(x)
		  FROM togai_zoho.inbox x
		 WHERE t.app = 'zohobooks' AND x.connection_id = f.trigger_connection_id
		   AND x.entity = t.entity
		   AND (f.trigger <> 'invoice_paid' OR x.status = 'paid')
		   AND NOT EXISTS (SELECT 1 FROM togai_zoho.id_mapping m
							WHERE m.entity = 'payment' AND m.zohobooks_connection_id = x.connection_id
							  AND m.zohobooks_id = CASE x.entity WHEN 'invoice' THEN 'invoice:' || x.remote_id
														 ELSE x.remote_id END)
	LOOP
		/*
		 * may_exist: what existed before the flow may have a remote object
		 * already (a connection added again after its mappings went): each
		 * job looks for it, by reading, before it creates one.
		 */
		INSERT INTO togai_zoho.outbox AS o (flow_id, connection_id, entity, source_id, payload, may_exist)
		VALUES (f.id, f.trigger_connection_id, src.entity, src.source_id, src.payload, true)
		ON CONFLICT (flow_id, entity, source_id) WHERE state IN ('pending', 'running')
		DO UPDATE SET payload = EXCLUDED.payload, coalesced = o.coalesced + 1, may_exist = true,
					  rerun = o.rerun OR o.state = 'running', updated_at = now();
		n := n + 1;
		IF n % every = 0 THEN
			RAISE NOTICE 'backfill of flow "%": % rows enqueued so far', f.name, n;
		END IF;
	END LOOP;
	PERFORM togai_zoho.notify_worker();
	RAISE NOTICE 'backfill of flow "%": % rows enqueued', f.name, n
		USING HINT = 'sync_status shows them being delivered.';
	RETURN n;
END
$$;
COMMENT ON COLUMN togai_zoho.poll_status.connection IS 'Polled connection';
COMMENT ON COLUMN togai_zoho.poll_status.app IS 'togai or zohobooks';
COMMENT ON COLUMN togai_zoho.poll_status.stream IS 'What is polled (invoices, contacts, accounts, customers)';
COMMENT ON COLUMN togai_zoho.poll_status.last_poll_at IS 'When a poll last read the stream';
COMMENT ON COLUMN togai_zoho.poll_status.last_complete_walk_at IS 'When a poll last read the stream to its end';
COMMENT ON COLUMN togai_zoho.poll_status.last_error IS 'What stopped the stream''s last walk (NULL once a walk completes)';
COMMENT ON COLUMN togai_zoho.poll_status.last_error_at IS 'When that happened';
COMMENT ON COLUMN togai_zoho.poll_status.changed_since IS 'The change time the next walk reads from (Zoho Books)';
REVOKE ALL ON FUNCTION togai_zoho.zoho_time(timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION togai_zoho.take_invoice_payments(togai_zoho.connection, text) FROM PUBLIC;
