/*
 * togai_zoho--0.1.0--0.2.0.sql: from the first release to 0.2.0.
 *
 * A migration only: the current definition of every object is in sql/install/
 * (the upgrade test holds this script's result equal to a fresh install of it).
 * A function redefined here is restated whole, as an upgrade script must.
 */

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
		   AND NOT EXISTS (SELECT 1 FROM togai_zoho.outbox_stage)
		   AND NOT EXISTS (SELECT 1 FROM togai_zoho.zohobooks_unsent u WHERE u.attempts < 5) THEN
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
	/* the lock is named by what it guards: the connection's rows of sync_cursor */
	IF NOT pg_try_advisory_xact_lock('togai_zoho.sync_cursor'::regclass::oid::integer, c.id::integer) THEN
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
ALTER TABLE togai_zoho.flow
	ADD COLUMN backfill_calls bigint,
	ADD COLUMN backfill_days numeric,
	ADD COLUMN backfill_at timestamptz;
COMMENT ON COLUMN togai_zoho.flow.backfill_calls IS 'Zoho Books calls the last backfill needs (an estimate)';
COMMENT ON COLUMN togai_zoho.flow.backfill_days IS 'Days those calls take within the daily budget, less the polls'' share';
COMMENT ON COLUMN togai_zoho.flow.backfill_at IS 'When the last backfill ran';

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
		 ORDER BY e.updated_at DESC LIMIT 1) AS last_error,
	   f.backfill_calls, f.backfill_days
  FROM togai_zoho.flow f
  LEFT JOIN togai_zoho.outbox o ON o.flow_id = f.id
 GROUP BY f.id;
COMMENT ON COLUMN togai_zoho.sync_status.backfill_calls IS 'Zoho Books calls the flow''s last backfill needs (an estimate)';
COMMENT ON COLUMN togai_zoho.sync_status.backfill_days IS 'Days those calls take within the daily budget, less the polls'' share (NULL: no daily budget)';

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
'Delivers up to max_jobs due jobs (staged jobs of bulk inserts written first) and waits; returns how many ended an attempt. A helper process does it, each claim committed before its calls, so no rollback or cancel of this transaction forgets a request sent; max_jobs 0 only writes the staged jobs, in this transaction';

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
REVOKE ALL ON togai_zoho.zohobooks_item FROM PUBLIC;
COMMENT ON TABLE togai_zoho.zohobooks_item IS
'The Zoho Books item of each line name (a Togai rate card or line type), found by name or made once per organization; delete a row to have it looked up again';
COMMENT ON COLUMN togai_zoho.zohobooks_item.connection_id IS 'Zoho Books connection (organization)';
COMMENT ON COLUMN togai_zoho.zohobooks_item.name IS 'Item name: the line''s rate card or type, cut to Zoho''s 100 characters';
COMMENT ON COLUMN togai_zoho.zohobooks_item.item_id IS 'Zoho Books item_id';
COMMENT ON COLUMN togai_zoho.zohobooks_item.learnt_at IS 'When the item was found or made';

/*
 * What a job following a Togai invoice (a write-off, refund or update)
 * waits for: the invoice on its way to Zoho Books or not marked sent yet
 * ("waiting"), or stops at: the invoice's own job dead ("blocked").
 * zoho_invoice_ids: its Zoho Books invoices by connection, NULL if none.
 */
CREATE FUNCTION togai_zoho.invoice_waits(togai_invoice_id text, zoho_invoice_ids jsonb)
	RETURNS jsonb
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	job record;
BEGIN
	SELECT * INTO job FROM togai_zoho.invoice_job(togai_invoice_id);
	RETURN jsonb_strip_nulls(jsonb_build_object('waiting', coalesce(
		(SELECT format('Zoho Books invoice %s is not marked sent yet', u.invoice_id)
		   FROM togai_zoho.zohobooks_unsent u
		  WHERE u.invoice_id IN (SELECT e.value FROM jsonb_each_text(zoho_invoice_ids) e)
		  LIMIT 1),
		CASE WHEN job.state IN ('pending', 'running')
			 THEN format('invoice %s is on its way to Zoho Books', togai_invoice_id) END),
		'blocked', CASE WHEN job.state = 'dead' AND zoho_invoice_ids IS NULL
			THEN format('the invoice did not reach Zoho Books (its job %s is dead): '
						'retry that job, then this one', job.id) END));
END
$$;
COMMENT ON FUNCTION togai_zoho.invoice_waits(text, jsonb) IS
'Internal: what a job following a Togai invoice waits for (its invoice on its way or unsent) or stops at (the invoice''s job dead)';
REVOKE ALL ON FUNCTION togai_zoho.invoice_waits(text, jsonb) FROM PUBLIC;

CREATE OR REPLACE FUNCTION togai_zoho.job_context(entity text, connection_id bigint, payload jsonb)
	RETURNS jsonb
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	app text;
	ctx jsonb;
	mappings jsonb;
	organizations bigint[];
	digits integer := togai_zoho.currency_digits(coalesce(payload ->> 'currency',
														   payload #>> '{revenue_info,units}'));
BEGIN
	SELECT c.app INTO app FROM togai_zoho.connection c WHERE c.id = job_context.connection_id;
	IF app = 'togai' THEN
		/*
		 * The Zoho Books objects the account (and the invoice) map to, per Zoho
		 * Books connection.  Two primary-key look-ups: written as one OR, the
		 * generic plan scanned every mapping of the connection.
		 */
		SELECT jsonb_object_agg(x.entity, x.ids) INTO mappings
		  FROM (SELECT m.entity, jsonb_object_agg(m.zohobooks_connection_id::text, m.zohobooks_id) AS ids
				  FROM (SELECT a.entity, a.zohobooks_connection_id, a.zohobooks_id FROM togai_zoho.id_mapping a
						 WHERE a.entity = 'account' AND a.togai_id = payload ->> 'account_id'
						   AND a.togai_connection_id = job_context.connection_id
						UNION ALL
						SELECT i.entity, i.zohobooks_connection_id, i.zohobooks_id FROM togai_zoho.id_mapping i
						 WHERE i.entity = 'invoice' AND job_context.entity = 'invoice'
						   AND i.togai_id = payload ->> 'invoice_id'
						   AND i.togai_connection_id = job_context.connection_id) m
				 GROUP BY m.entity) x;
		/* and the unique custom fields the creates upsert by */
		mappings := jsonb_build_object('mappings', coalesce(mappings, '{}'))
			|| togai_zoho.zohobooks_unique_fields();
		/* the organizations the account is in: each bills the invoice its own way */
		organizations := ARRAY(SELECT k::bigint FROM jsonb_object_keys(coalesce(
							 mappings #> '{mappings,account}', '{}')) k);
		IF entity = 'invoice' THEN
			ctx := togai_zoho.invoice_line_items(payload);
			/* the one line standing for a whole invoice bills the same item for every invoice */
			IF jsonb_array_length(ctx -> 'lines') = 1
			   AND ctx #>> '{lines,0,name}' = 'Togai invoice ' || coalesce(payload ->> 'sequence_id',
																	   payload ->> 'invoice_id', '') THEN
				ctx := jsonb_set(ctx, '{lines,0,item}', '"Togai invoice"');
			END IF;
			IF ctx ? 'taxes' THEN
				ctx := ctx || jsonb_build_object('tax_plans', togai_zoho.invoice_tax_plans(
					ctx -> 'lines', ctx -> 'taxes',
					round(togai_zoho.json_numeric(payload -> 'total_amount'), digits), digits,
					organizations));
			END IF;
			IF payload ->> 'status' IN ('UN_COLLECTIBLE', 'REFUND_COMPLETED')
			   OR NOT mappings #> '{mappings}' ? 'invoice' THEN
				/*
				 * a write-off, refund or update follows the invoice: waits while it
				 * is on its way or unsent
				 */
				ctx := ctx || togai_zoho.invoice_waits(payload ->> 'invoice_id',
													   mappings #> '{mappings,invoice}');
			END IF;
			/*
			 * credits are applied once the invoice is sent, from the advances of
			 * the account's credit purchases first
			 */
			IF ctx ? 'credits' AND mappings #> '{mappings}' ? 'invoice' THEN
				ctx := ctx || jsonb_strip_nulls(jsonb_build_object('unsent',
					(SELECT jsonb_agg(u.invoice_id) FROM togai_zoho.zohobooks_unsent u
					  WHERE u.invoice_id IN (SELECT jsonb_each_text.value
											   FROM jsonb_each_text(mappings #> '{mappings,invoice}')))))
					|| togai_zoho.customer_advances(job_context.connection_id, payload ->> 'account_id',
													organizations);
			END IF;
			IF payload ->> 'status' = 'REFUND_COMPLETED' OR ctx ? 'credits' THEN
				/* credit notes and refunds are dated today in each organization */
				ctx := ctx || jsonb_build_object('digits', digits, 'credit_note_dates',
					(SELECT jsonb_object_agg(c.id::text, to_char(now() AT TIME ZONE coalesce(c.time_zone, 'UTC'),
																 'YYYY-MM-DD'))
					   FROM togai_zoho.connection c WHERE c.id = ANY (organizations)));
			END IF;
			ctx := ctx || jsonb_strip_nulls(jsonb_build_object('exchange', togai_zoho.exchange_plans(
				coalesce(payload ->> 'currency', payload #>> '{revenue_info,units}'),
				left(payload ->> 'invoice_date', 10),
				togai_zoho.json_numeric(payload #> '{raw,exchangeRate}'),
				organizations)));
			RETURN ctx || mappings || jsonb_build_object('item_ids',
				(SELECT jsonb_object_agg(z.connection_id::text, z.ids)
				   FROM (SELECT i.connection_id, jsonb_object_agg(i.name, i.item_id) AS ids
						   FROM togai_zoho.zohobooks_item i
						  WHERE i.name IN (SELECT left(coalesce(l ->> 'item', l ->> 'name'), 100)
											 FROM jsonb_array_elements(ctx -> 'lines') l)
						  GROUP BY i.connection_id) z));
		ELSIF entity = 'payment' THEN
			ctx := togai_zoho.togai_payment_context(job_context.connection_id, payload);
			RETURN ctx || mappings || jsonb_strip_nulls(jsonb_build_object('exchange',
				togai_zoho.exchange_plans(payload ->> 'currency',
					(SELECT min(x.value #>> '{body,date}') FROM jsonb_each(ctx -> 'apply') x(key, value)),
					togai_zoho.json_numeric(payload #> '{raw,exchangeRate}'),
					ARRAY(SELECT k::bigint FROM jsonb_object_keys(ctx -> 'apply') k))));
		ELSIF entity = 'account' THEN
			RETURN mappings || jsonb_build_object('currency_ids',
				(SELECT jsonb_object_agg(z.connection_id::text, z.currency_id)
				   FROM togai_zoho.zohobooks_currency z
				  WHERE z.currency_code = payload ->> 'invoice_currency'));
		END IF;
		RETURN mappings;
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
COMMENT ON FUNCTION togai_zoho.job_context(text, bigint, jsonb) IS
'What a delivery job needs besides its source row, worked out when it is claimed';

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
 * What a Zoho Books payment says that a flow uses: a payment read from an
 * invoice's list of payments and the same payment read whole differ in
 * fields nobody reads, and must not count as a change.
 */
CREATE FUNCTION togai_zoho.payment_essence(p jsonb)
	RETURNS jsonb
	LANGUAGE sql IMMUTABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT jsonb_build_object('payment_id', p ->> 'payment_id', 'payment_mode', p ->> 'payment_mode',
		'date', p ->> 'date', 'amount', togai_zoho.json_numeric(p -> 'amount'),
		'reference_number', nullif(p ->> 'reference_number', ''),
		'invoices', (SELECT jsonb_agg(jsonb_build_object('invoice_id', x ->> 'invoice_id',
						'amount_applied', togai_zoho.json_numeric(x -> 'amount_applied'))
						ORDER BY x ->> 'invoice_id')
					   FROM jsonb_array_elements(CASE jsonb_typeof(p -> 'invoices')
							WHEN 'array' THEN p -> 'invoices' ELSE '[]' END) x))
$$;
REVOKE ALL ON FUNCTION togai_zoho.payment_essence(jsonb) FROM PUBLIC;
COMMENT ON FUNCTION togai_zoho.payment_essence(jsonb) IS
'The fields of a Zoho Books payment the flows use, to tell a change from the same payment read another way';

/* Upserts a Zoho Books object into the inbox; true when the row changed. */
CREATE OR REPLACE FUNCTION togai_zoho.mirror_inbox(connection_id bigint, entity text, object jsonb,
												   source text)
	RETURNS boolean
	LANGUAGE plpgsql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	changed boolean;
BEGIN
	INSERT INTO togai_zoho.inbox AS t (connection_id, entity, remote_id, status, payload,
									   remote_modified_at, source)
	VALUES (mirror_inbox.connection_id, mirror_inbox.entity,
			object ->> (mirror_inbox.entity || '_id'), object ->> 'status', object,
			togai_zoho.remote_time(object ->> 'last_modified_time'), mirror_inbox.source)
	ON CONFLICT ON CONSTRAINT inbox_connection_id_entity_remote_id_key DO UPDATE SET
		status = EXCLUDED.status, payload = EXCLUDED.payload,
		remote_modified_at = EXCLUDED.remote_modified_at, source = EXCLUDED.source
	WHERE CASE WHEN t.entity = 'payment'
			   THEN togai_zoho.payment_essence(t.payload) IS DISTINCT FROM
					togai_zoho.payment_essence(EXCLUDED.payload)
			   ELSE t.payload IS DISTINCT FROM EXCLUDED.payload END
	RETURNING true INTO changed;
	RETURN coalesce(changed, false);
END
$$;

/*
 * The payments of an invoice that the inbox lacks (a payment's list entries
 * carry neither its invoices nor a modification time, and no list of
 * payments filters by change): how many were taken.  A payment of this
 * invoice alone is whole in the invoice's list of payments; one that pays
 * several invoices is read whole (GET /customerpayments/{id}).
 */
CREATE FUNCTION togai_zoho.take_invoice_payments(c togai_zoho.connection, invoice jsonb)
	RETURNS integer
	LANGUAGE plpgsql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	p jsonb;
	whole jsonb;
	n integer := 0;
BEGIN
	FOR p IN SELECT e FROM jsonb_array_elements(coalesce(togai_zoho.zohobooks_call(c.name,
				'invoice_payments', jsonb_build_object('invoice_id', invoice ->> 'invoice_id')), '[]')) e LOOP
		CONTINUE WHEN EXISTS (SELECT 1 FROM togai_zoho.inbox i
							   WHERE i.connection_id = c.id AND i.entity = 'payment'
								 AND i.remote_id = p ->> 'payment_id')
			/* one the extension made for a Togai payment: known, nothing to read */
			OR EXISTS (SELECT 1 FROM togai_zoho.id_mapping m
						WHERE m.entity = 'payment' AND m.zohobooks_connection_id = c.id
						  AND m.zohobooks_id = p ->> 'payment_id');
		IF p ->> 'is_single_invoice_payment' = 'true' THEN
			whole := jsonb_strip_nulls(jsonb_build_object(
				'payment_id', p ->> 'payment_id', 'payment_number', p ->> 'payment_number',
				'payment_mode', p ->> 'payment_mode', 'date', p ->> 'date',
				'reference_number', p ->> 'reference_number', 'description', p ->> 'description',
				'amount', p -> 'amount', 'exchange_rate', p -> 'exchange_rate',
				'customer_id', invoice ->> 'customer_id', 'currency_code', invoice ->> 'currency_code',
				'invoices', jsonb_build_array(jsonb_build_object(
					'invoice_id', invoice ->> 'invoice_id', 'invoice_number', invoice ->> 'invoice_number',
					'amount_applied', p -> 'amount'))));
		ELSE
			whole := togai_zoho.zohobooks_call(c.name, 'payment_get',
				jsonb_build_object('payment_id', p ->> 'payment_id'));
		END IF;
		IF togai_zoho.mirror_inbox(c.id, 'payment', whole, 'poll') THEN
			n := n + 1;
		END IF;
	END LOOP;
	RETURN n;
END
$$;
COMMENT ON FUNCTION togai_zoho.take_invoice_payments(togai_zoho.connection, jsonb) IS
'Reads the payments applied to a Zoho Books invoice (its list entry) that the inbox lacks into the inbox, a payment of several invoices read whole; returns how many';
REVOKE ALL ON FUNCTION togai_zoho.take_invoice_payments(togai_zoho.connection, jsonb) FROM PUBLIC;

/*
 * Whether a poll of the connection may read now, its streams paying from
 * the day's budget: the shortest spacing of its streams' polls (see
 * api_poll_spacing), or, when the budget, the polls' share or a pause of
 * the remote holds them, the poll's result saying so and when the next
 * poll runs.  Togai publishes no limit: a budget set with
 * set_api_budget() holds its polls too.
 */
CREATE FUNCTION togai_zoho.poll_budget_held(c togai_zoho.connection, streams integer,
											OUT spacing double precision, OUT held jsonb)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	paused_until timestamptz;
	why text;
BEGIN
	PERFORM togai_zoho.api_budget_refresh(c.id, false);
	spacing := togai_zoho.api_poll_spacing(c.id, streams, false);
	IF spacing IS NOT NULL AND spacing >= 0 THEN
		RETURN;
	END IF;
	SELECT l.paused_until INTO paused_until FROM togai_zoho.api_budget_live(c.id) l;
	why := CASE WHEN paused_until > now() AND c.app = 'togai'
				THEN 'Togai refused the connection for rate (HTTP 429)'
				WHEN paused_until > now()
				THEN 'Zoho Books refused the connection for the rest of its day (its daily API cap)'
				WHEN spacing IS NULL THEN 'the polls'' share of the day''s API budget is spent'
				ELSE 'the day''s API budget is spent' END;
	IF paused_until IS NULL OR paused_until <= now() THEN
		paused_until := (togai_zoho.api_day(c.time_zone)).ends_at;
	END IF;
	RAISE NOTICE 'togai_zoho: connection "%" is not polled now: %; the next poll runs at %',
		c.name, why, paused_until
		USING HINT = 'togai_zoho.api_usage shows the day''s calls; togai_zoho.poll_share sets the polls'' share; set_api_budget() changes the budget and lifts a pause.';
	held := jsonb_build_object('connection', c.name, 'pages', 0, 'next_poll_at', paused_until,
							   'skipped', why);
END
$$;
COMMENT ON FUNCTION togai_zoho.poll_budget_held(togai_zoho.connection, integer) IS
'Internal: the spacing of a connection''s polls, or the skipped result when its budget, the polls'' share or a pause holds them';
REVOKE ALL ON FUNCTION togai_zoho.poll_budget_held(togai_zoho.connection, integer) FROM PUBLIC;

/* The Zoho Books lists an enabled flow of the connection needs: payments come through invoices. */
CREATE FUNCTION togai_zoho.zohobooks_poll_streams(c togai_zoho.connection)
	RETURNS text[]
	LANGUAGE sql
	STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT ARRAY(SELECT s FROM unnest(ARRAY['invoices', 'contacts']) s
	WHERE EXISTS (SELECT 1 FROM togai_zoho.flow f
				   WHERE f.trigger_connection_id = c.id AND f.enabled
					 AND f.trigger = ANY (CASE s WHEN 'invoices'
						 THEN ARRAY['payment_recorded', 'invoice_paid']
						 ELSE ARRAY['contact_updated'] END)))
$$;
COMMENT ON FUNCTION togai_zoho.zohobooks_poll_streams(togai_zoho.connection) IS
'Internal: the Zoho Books lists (invoices, contacts) an enabled flow of the connection needs polled';
REVOKE ALL ON FUNCTION togai_zoho.zohobooks_poll_streams(togai_zoho.connection) FROM PUBLIC;

/*
 * Takes one entry of a Zoho Books list into the inbox and, for an invoice
 * whose money moved while a flow records payments, the payments it got.
 * An entry that fails is named in a warning and counted; the walk goes on.
 */
CREATE FUNCTION togai_zoho.zohobooks_take_listed(c togai_zoho.connection, stream text, item jsonb,
												 want_payments boolean, OUT changed boolean,
												 OUT payments integer, OUT failed boolean)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	prev jsonb;
	item_err text;
BEGIN
	payments := 0;
	failed := false;
	IF stream = 'invoices' THEN
		SELECT i.payload INTO prev FROM togai_zoho.inbox i
		 WHERE i.connection_id = c.id AND i.entity = 'invoice' AND i.remote_id = item ->> 'invoice_id';
	END IF;
	changed := togai_zoho.mirror_inbox(c.id, rtrim(stream, 's'), item, 'poll');
	/* money applied to a synced invoice: read the payments it got */
	IF stream = 'invoices' AND want_payments
	   AND (prev ->> 'balance' IS DISTINCT FROM item ->> 'balance'
			OR prev ->> 'last_payment_date' IS DISTINCT FROM item ->> 'last_payment_date')
	   AND coalesce(togai_zoho.json_numeric(item -> 'balance'), 0)
		   < coalesce(togai_zoho.json_numeric(item -> 'total'), 0)
	   AND togai_zoho.zohobooks_paid_unexplained(c.id, item) THEN
		payments := togai_zoho.take_invoice_payments(c, item);
	END IF;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS item_err = MESSAGE_TEXT;
	changed := false;
	payments := 0;
	failed := true;
	RAISE WARNING 'togai_zoho: Zoho Books % % of connection "%" not taken: %',
		rtrim(stream, 's'), item ->> (rtrim(stream, 's') || '_id'), c.name, item_err;
END
$$;
COMMENT ON FUNCTION togai_zoho.zohobooks_take_listed(togai_zoho.connection, text, jsonb, boolean) IS
'Internal: one entry of a Zoho Books list into the inbox, with the payments of an invoice whose money moved';
REVOKE ALL ON FUNCTION togai_zoho.zohobooks_take_listed(togai_zoho.connection, text, jsonb, boolean) FROM PUBLIC;

/*
 * Where a walk of a Zoho Books list leaves its cursor.  A walk that ended:
 * the next poll of the stream at once after a change (while the polls are
 * not ahead of their budget's pace), after a quiet one twice as long each
 * time, up to togai_zoho.poll_idle_max, never sooner than the budget's even
 * spread; with webhooks, a slow sweep.  It reads what changed after this
 * walk could see (see seen_through).  Contacts sorted by change: after the
 * newest on the page where the newest stand (the first, or the last when
 * oldest come first), since a contact changed during the walk moves there.
 * Invoices: after the newest of a walk of one page; after a longer walk,
 * from before it began (less a margin for the clocks), so that an invoice
 * changed meanwhile is read again.  A walk cut short (max_pages, an error)
 * goes on from its page at the next poll.
 */
CREATE FUNCTION togai_zoho.zohobooks_walk_settle(c togai_zoho.connection, stream text, cur jsonb,
												 walk jsonb, spacing double precision,
												 streams integer)
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	margin constant interval := '1 minute';
	since timestamptz := togai_zoho.remote_time(cur ->> 'since');
	started timestamptz := (walk ->> 'started')::timestamptz;
	high timestamptz := (walk ->> 'high')::timestamptz;
	newest_first boolean := coalesce((walk ->> 'newest_first')::boolean, true);
	idle integer;
	next_at timestamptz;
BEGIN
	IF walk ? 'error' OR (walk ->> 'more')::boolean THEN
		PERFORM togai_zoho.set_cursor(c.id, stream, jsonb_strip_nulls(jsonb_build_object(
			'since', togai_zoho.zoho_time(since), 'high', togai_zoho.zoho_time(high),
			'page', walk -> 'page', 'walk_started', started,
			'last_full_walk', cur -> 'last_full_walk', 'last_poll_at', clock_timestamp(),
			'last_error', walk -> 'error', 'last_error_sqlstate', walk -> 'sqlstate',
			'last_error_at', CASE WHEN walk ? 'error' THEN clock_timestamp() END)));
		RETURN;
	END IF;
	idle := CASE WHEN (walk ->> 'changed')::integer > 0 THEN 0
				 ELSE coalesce((cur ->> 'idle_polls')::integer, 0) + 1 END;
	next_at := clock_timestamp() + make_interval(secs => CASE
		WHEN c.webhook_url IS NOT NULL
		THEN greatest(extract(epoch FROM current_setting('togai_zoho.poll_sweep')::interval), spacing)
		WHEN idle = 0
		THEN coalesce(togai_zoho.api_poll_spacing(c.id, streams, true), spacing)
		ELSE greatest(least(extract(epoch FROM current_setting('togai_zoho.poll_idle_max')::interval),
							30 * 2 ^ least(idle, 20)), spacing) END);
	PERFORM togai_zoho.set_cursor(c.id, stream, jsonb_strip_nulls(jsonb_build_object(
		'since', togai_zoho.zoho_time(coalesce(CASE
			WHEN stream = 'contacts' AND newest_first
				THEN togai_zoho.seen_through((walk ->> 'first_high')::timestamptz, started)
			WHEN stream = 'contacts' OR ((walk ->> 'pages')::integer = 1 AND (cur ->> 'page') IS NULL)
				THEN togai_zoho.seen_through(high, started)
			ELSE least(high, started - margin) END, since, started - margin)),
		'high', togai_zoho.zoho_time(high),
		/* oldest first: the next walk starts at the last page, where changes go */
		'page', CASE WHEN stream = 'contacts' AND NOT newest_first THEN walk -> 'page' END,
		'last_full_walk', clock_timestamp(), 'last_poll_at', clock_timestamp(),
		'idle_polls', idle, 'next_poll_at', next_at)));
END
$$;
COMMENT ON FUNCTION togai_zoho.zohobooks_walk_settle(togai_zoho.connection, text, jsonb, jsonb, double precision, integer) IS
'Internal: where a walk of a Zoho Books list leaves its cursor, and when the list is polled next';
REVOKE ALL ON FUNCTION togai_zoho.zohobooks_walk_settle(togai_zoho.connection, text, jsonb, jsonb, double precision, integer) FROM PUBLIC;

/*
 * Zoho Books' lists as they are documented: invoices through their
 * last_modified_time filter (modified after the cursor); contacts sorted by
 * last_modified_time (no filter exists; the direction is not documented, so
 * both are followed); payments through the invoices whose balance or last
 * payment date moved.  The next walk starts a margin before this one began,
 * so objects changed while it ran are read again, never skipped.
 */
CREATE FUNCTION togai_zoho.poll_zohobooks_run(connection text, max_pages integer, done text[])
	RETURNS jsonb
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	SET togai_zoho.call_purpose = 'poll'
	AS $$
DECLARE
	c togai_zoho.connection;
	stream text;
	cur jsonb;
	page jsonb;
	item jsonb;
	took record;
	walk jsonb;
	pages integer := 0;
	since timestamptz;
	t timestamptz;
	seen integer;
	failed integer;
	payments integer := 0;
	older_reached boolean;
	want_payments boolean;
	result jsonb := '{}';
	err text;
	streams text[];
	budget record;
	next_at timestamptz;
	polled integer := 0;
BEGIN
	c := togai_zoho.poll_begin(poll_zohobooks_run.connection, 'zohobooks', max_pages);
	IF c.id IS NULL THEN
		RETURN jsonb_build_object('connection', poll_zohobooks_run.connection,
								  'skipped', 'another poll of this connection is running');
	END IF;
	/* payments are looked for only for a flow that records them */
	want_payments := EXISTS (SELECT 1 FROM togai_zoho.flow f
							  WHERE f.trigger_connection_id = c.id AND f.enabled
								AND f.trigger = 'payment_recorded');
	streams := togai_zoho.zohobooks_poll_streams(c);
	IF cardinality(streams) = 0 THEN
		RETURN jsonb_build_object('connection', c.name, 'pages', 0,
								  'skipped', 'no enabled flow needs a Zoho Books list');
	END IF;
	SELECT * INTO budget FROM togai_zoho.poll_budget_held(c, cardinality(streams));
	IF budget.held IS NOT NULL THEN
		RETURN budget.held;
	END IF;

	FOR stream IN SELECT togai_zoho.poll_order(c.id, ARRAY(SELECT s FROM unnest(streams) s
													 WHERE s <> ALL (done))) LOOP
		EXIT WHEN pages >= max_pages;
		cur := togai_zoho.get_cursor(c.id, stream);
		/* a quiet stream waits its turn; a walk under way goes on */
		CONTINUE WHEN (cur ->> 'next_poll_at')::timestamptz > clock_timestamp()
					  AND NOT cur ? 'walk_started';
		polled := polled + 1;
		since := togai_zoho.remote_time(cur ->> 'since');
		walk := jsonb_build_object('started', coalesce((cur ->> 'walk_started')::timestamptz, clock_timestamp()),
			'high', togai_zoho.remote_time(cur ->> 'high'), 'page', coalesce((cur ->> 'page')::integer, 1),
			'pages', 0, 'changed', 0, 'more', true);
		seen := 0; failed := 0; older_reached := false;
		LOOP
			BEGIN
				page := togai_zoho.zohobooks_call(c.name, 'list_changed', jsonb_strip_nulls(
					jsonb_build_object('list', stream, 'page', walk -> 'page', 'since',
									   CASE WHEN stream = 'invoices' THEN togai_zoho.zoho_time(since) END)));
			EXCEPTION WHEN OTHERS THEN
				walk := walk || jsonb_build_object('error', SQLERRM, 'sqlstate', SQLSTATE);
				RAISE WARNING 'togai_zoho: polling % of connection "%" stopped: %', stream, c.name, SQLERRM
					USING HINT = 'The next poll resumes from the same page; togai_zoho.poll_status shows it.';
				err := coalesce(err, stream || ': ' || SQLERRM);
				EXIT;
			END;
			pages := pages + 1;
			walk := walk || jsonb_build_object('pages', (walk ->> 'pages')::integer + 1,
				/* Zoho does not document the direction of a sort: read it from the page */
				'newest_first', stream <> 'contacts' OR coalesce(page #>> '{page_context,sort_order}' = 'D',
					togai_zoho.remote_time(page #>> '{contacts,0,last_modified_time}') >=
					togai_zoho.remote_time(page -> 'contacts' -> -1 ->> 'last_modified_time'), true));
			FOR item IN SELECT e FROM jsonb_array_elements(coalesce(page -> stream, '[]')) e LOOP
				t := togai_zoho.remote_time(item ->> 'last_modified_time');
				/* contacts are not filtered: those not changed after the cursor were taken before */
				IF stream = 'contacts' AND since IS NOT NULL AND t <= since THEN
					older_reached := older_reached OR (walk ->> 'newest_first')::boolean;
					CONTINUE;
				END IF;
				seen := seen + 1;
				walk := walk || jsonb_strip_nulls(jsonb_build_object(
					'high', greatest((walk ->> 'high')::timestamptz, t),
					'first_high', CASE WHEN (walk ->> 'pages')::integer = 1
									   THEN greatest((walk ->> 'first_high')::timestamptz, t) END));
				SELECT * INTO took FROM togai_zoho.zohobooks_take_listed(c, stream, item, want_payments);
				walk := jsonb_set(walk, '{changed}', to_jsonb((walk ->> 'changed')::integer + took.changed::integer));
				failed := failed + took.failed::integer;
				payments := payments + took.payments;
			END LOOP;
			walk := jsonb_set(walk, '{more}', to_jsonb(coalesce((page #>> '{page_context,has_more_page}')::boolean, false)
													   AND NOT older_reached));
			EXIT WHEN NOT (walk ->> 'more')::boolean;
			walk := jsonb_set(walk, '{page}', to_jsonb((walk ->> 'page')::integer + 1));
			EXIT WHEN pages >= max_pages;
		END LOOP;
		PERFORM togai_zoho.zohobooks_walk_settle(c, stream, cur, walk, budget.spacing, cardinality(streams));
		result := result || jsonb_build_object(stream, jsonb_strip_nulls(jsonb_build_object(
			'seen', seen, 'changed', walk -> 'changed', 'failed', failed,
			'complete', NOT walk ? 'error' AND NOT (walk ->> 'more')::boolean, 'error', walk -> 'error')));
		/* a stream that fails does not stop the others; a walk cut short by max_pages does */
		EXIT WHEN NOT walk ? 'error' AND (walk ->> 'more')::boolean;
	END LOOP;
	SELECT min((s.cursor::jsonb ->> 'next_poll_at')::timestamptz) INTO next_at
	  FROM togai_zoho.sync_cursor s
	 WHERE s.connection_id = c.id AND s.stream = ANY (streams);
	IF polled = 0 AND cardinality(done) > 0 THEN
		/* a CALL of poll() has walked every list that was due */
		RETURN jsonb_build_object('connection', c.name, 'pages', 0, 'next_poll_at', next_at);
	END IF;
	IF polled = 0 THEN
		RAISE NOTICE 'togai_zoho: no list of connection "%" is due; the next poll runs at %', c.name, next_at
			USING HINT = 'Quiet lists are polled less often (togai_zoho.poll_idle_max); a change brings them back to every poll.';
		RETURN jsonb_build_object('connection', c.name, 'pages', 0, 'next_poll_at', next_at,
								  'skipped', 'no list is due');
	END IF;
	RETURN jsonb_build_object('connection', c.name, 'pages', pages, 'payments', payments) || result
		|| jsonb_strip_nulls(jsonb_build_object('error', err, 'next_poll_at', next_at));
END
$$;
COMMENT ON FUNCTION togai_zoho.poll_zohobooks_run(text, integer, text[]) IS
'Internal: a poll of Zoho Books of up to max_pages pages, the lists in done left out; poll_zohobooks() and poll() call it';
REVOKE ALL ON FUNCTION togai_zoho.poll_zohobooks_run(text, integer, text[]) FROM PUBLIC;

CREATE OR REPLACE FUNCTION togai_zoho.poll_zohobooks(connection text, max_pages integer DEFAULT 100)
	RETURNS jsonb
	LANGUAGE sql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT togai_zoho.poll_zohobooks_run(connection, max_pages, '{}')
$$;
COMMENT ON FUNCTION togai_zoho.poll_zohobooks(text, integer) IS
'Reads Zoho Books payments, invoices and contacts changed since the stored cursor (all pages) into the inbox, which fires the inbound flows; returns counts. Safe from pg_cron every minute and twice at once; CALL poll() does the same a page per transaction';

/* Where each poll stream stands, and what stopped it last. */
CREATE VIEW togai_zoho.poll_status AS
SELECT c.name AS connection, c.app, s.stream,
	   (s.cursor::jsonb ->> 'last_poll_at')::timestamptz AS last_poll_at,
	   (s.cursor::jsonb ->> 'last_full_walk')::timestamptz AS last_complete_walk_at,
	   s.cursor::jsonb ->> 'last_error' AS last_error,
	   (s.cursor::jsonb ->> 'last_error_at')::timestamptz AS last_error_at,
	   s.cursor::jsonb ->> 'since' AS changed_since,
	   (s.cursor::jsonb ->> 'next_poll_at')::timestamptz AS next_poll_at,
	   (s.cursor::jsonb ->> 'idle_polls')::integer AS quiet_polls
  FROM togai_zoho.sync_cursor s
  JOIN togai_zoho.connection c ON c.id = s.connection_id;
REVOKE ALL ON togai_zoho.poll_status FROM PUBLIC;
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
	took jsonb := '{}';
	done text[] := '{}';
	names jsonb := '{}';
	pages integer := 0;
	stream text;
	errors text[] := '{}';
BEGIN
	IF max_pages IS NULL OR max_pages < 1 THEN
		/* the poll functions say what is wrong with it */
		PERFORM togai_zoho.poll_begin(c.name, c.app, max_pages);
	END IF;
	LOOP
		IF c.app = 'togai' THEN
			r := togai_zoho.poll_togai_run(c.name, 1, done, names);
			names := r OPERATOR(pg_catalog.->) 'names';
		ELSE
			r := togai_zoho.poll_zohobooks_run(c.name, 1, done);
		END IF;
		COMMIT;
		pages := pages OPERATOR(pg_catalog.+) coalesce((r OPERATOR(pg_catalog.->>) 'pages')::integer, 0);
		FOR stream IN SELECT k FROM pg_catalog.jsonb_object_keys(r) k
					   WHERE pg_catalog.jsonb_typeof(r OPERATOR(pg_catalog.->) k) = 'object'
						 AND k OPERATOR(pg_catalog.<>) 'names' LOOP
			took := took OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(stream,
				r OPERATOR(pg_catalog.->) stream);
			IF (r OPERATOR(pg_catalog.#>>) ARRAY[stream, 'complete'])::boolean THEN
				done := done OPERATOR(pg_catalog.||) stream;
			ELSIF r OPERATOR(pg_catalog.->) stream OPERATOR(pg_catalog.?) 'error' THEN
				done := done OPERATOR(pg_catalog.||) stream;
				errors := errors OPERATOR(pg_catalog.||) (stream OPERATOR(pg_catalog.||) ': '
					OPERATOR(pg_catalog.||) (r OPERATOR(pg_catalog.#>>) ARRAY[stream, 'error']));
			END IF;
		END LOOP;
		EXIT WHEN r OPERATOR(pg_catalog.?) 'skipped' OR pages OPERATOR(pg_catalog.>=) max_pages
			OR coalesce((r OPERATOR(pg_catalog.->>) 'pages')::integer, 0) OPERATOR(pg_catalog.=) 0;
	END LOOP;
	IF c.app = 'togai' THEN
		took := togai_zoho.poll_summary(took);
	END IF;
	took := pg_catalog.jsonb_build_object('connection', c.name, 'pages', pages)
		OPERATOR(pg_catalog.||) took OPERATOR(pg_catalog.||)
		pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('skipped', r OPERATOR(pg_catalog.->) 'skipped',
			'next_poll_at', r OPERATOR(pg_catalog.->) 'next_poll_at'));
	IF pg_catalog.cardinality(errors) OPERATOR(pg_catalog.>) 0 THEN
		RAISE EXCEPTION 'togai_zoho: polling connection "%" stopped at %', c.name,
			pg_catalog.array_to_string(errors, '; ')
			USING ERRCODE = 'external_routine_exception',
				  DETAIL = pg_catalog.format('The poll took: %s', took),
				  HINT = 'What it took is kept; togai_zoho.poll_status shows each stream.';
	END IF;
END
$$;
COMMENT ON PROCEDURE togai_zoho.poll(text, integer) IS
'Polls a connection a page per transaction (as poll_togai or poll_zohobooks would), then fails naming each list that stopped: schedule it with pg_cron as CALL togai_zoho.poll(''<connection>'')';
REVOKE ALL ON PROCEDURE togai_zoho.poll(text, integer) FROM PUBLIC;

/*
 * What a backfill costs at Zoho Books: calls per job of each action (a
 * backfilled job searches before it creates: two calls for a contact or an
 * invoice, plus a share of a bulk call to mark invoices sent) times the
 * jobs, and the days that takes within the day's budget less the polls'
 * share.  Togai calls are not budgeted.
 */
CREATE FUNCTION togai_zoho.backfill_calls_per_job(action text)
	RETURNS numeric
	LANGUAGE sql IMMUTABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT CASE action WHEN 'contact_upsert' THEN 2 WHEN 'payment_apply' THEN 2
				   WHEN 'invoice_create' THEN 2.01 WHEN 'invoice_refund' THEN 5 ELSE 1 END::numeric
$$;
COMMENT ON FUNCTION togai_zoho.backfill_calls_per_job(text) IS
'Internal: the Zoho Books calls a backfilled job of the action makes (a search, then the create)';
REVOKE ALL ON FUNCTION togai_zoho.backfill_calls_per_job(text) FROM PUBLIC;

CREATE FUNCTION togai_zoho.backfill_cost(flow_id bigint, jobs bigint, OUT calls bigint, OUT days numeric)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT ceil(jobs * coalesce(sum(togai_zoho.backfill_calls_per_job(a.action)), 0))::bigint,
	   round(max(ceil(jobs * togai_zoho.backfill_calls_per_job(a.action))
				 / (c.api_per_day * (1 - current_setting('togai_zoho.poll_share')::numeric))), 1)
  FROM togai_zoho.flow_action a
  JOIN togai_zoho.connection c ON c.id = a.connection_id AND c.app = 'zohobooks'
 WHERE a.flow_id = backfill_cost.flow_id
$$;
COMMENT ON FUNCTION togai_zoho.backfill_cost(bigint, bigint) IS
'Internal: the Zoho Books calls a backfill of that many jobs needs, and the days they take within the budget (NULL without a daily budget)';
REVOKE ALL ON FUNCTION togai_zoho.backfill_cost(bigint, bigint) FROM PUBLIC;


/*
 * One catalogue and one writer of outbox jobs: the library's rule of a generated
 * invoice and its triggers and actions, seen from SQL, and backfill()'s way into
 * the job writer.
 */
/*
 * The one rule of a generated Togai invoice (src/pure/catalogue.c): any
 * status but DRAFT, VOID and MERGED, in any case.  The enqueue trigger,
 * backfill() and preview_flow() all use it.
 */
CREATE FUNCTION togai_zoho.invoice_is_generated(status text)
	RETURNS boolean
	LANGUAGE C
	IMMUTABLE STRICT PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'invoice_is_generated';
COMMENT ON FUNCTION togai_zoho.invoice_is_generated(text) IS
'Whether a Togai invoice status is a generated invoice''s (not DRAFT, VOID or MERGED): the invoice_generated trigger''s rule';

CREATE FUNCTION togai_zoho.library_catalogue(OUT kind text, OUT name text, OUT app text,
											 OUT entity text)
	RETURNS SETOF record
	LANGUAGE C
	STABLE
	AS 'MODULE_PATHNAME', 'library_catalogue';
COMMENT ON FUNCTION togai_zoho.library_catalogue() IS
'The triggers and actions the loaded library implements (entity: what a trigger reports, or the mapping an action writes); trigger_def and action_def must list the same';
/*
 * backfill()'s way into the job writer (src/enqueue/job_writer.c), the one
 * writer of outbox jobs: a disabled flow's jobs wait, a pending job folds.
 */
CREATE FUNCTION togai_zoho.write_jobs(flow_id bigint, connection_id bigint, entities text[],
									  source_ids text[], payloads jsonb[], may_exist boolean)
	RETURNS bigint
	LANGUAGE C
	AS 'MODULE_PATHNAME', 'write_jobs';
COMMENT ON FUNCTION togai_zoho.write_jobs(bigint, bigint, text[], text[], jsonb[], boolean) IS
'Internal: writes jobs of a flow through the job writer, as the enqueue trigger does; returns how many';
REVOKE ALL ON FUNCTION togai_zoho.invoice_is_generated(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION togai_zoho.library_catalogue() FROM PUBLIC;
REVOKE ALL ON FUNCTION togai_zoho.write_jobs(bigint, bigint, text[], text[], jsonb[], boolean) FROM PUBLIC;

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
	entities text[] := '{}';
	ids text[] := '{}';
	payloads jsonb[] := '{}';
	est record;
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
		/* generated invoices without a Zoho invoice; voided or written off ones that have one */
		SELECT 'invoice', x.invoice_id, to_jsonb(x)
		  FROM togai_zoho.invoices x
		 WHERE t.entity = 'invoice' AND t.app = 'togai' AND x.connection_id = f.trigger_connection_id
		   AND CASE f.trigger
				   WHEN 'invoice_generated' THEN togai_zoho.invoice_is_generated(x.status)
						AND NOT EXISTS (SELECT 1 FROM togai_zoho.id_mapping m
										 WHERE m.entity = 'invoice' AND m.togai_connection_id = x.connection_id
										   AND m.togai_id = x.invoice_id
										   AND m.zohobooks_connection_id = ANY (zoho_connections))
				   /* a backfill does not know what changed: nothing to update */
				   WHEN 'invoice_updated' THEN false
				   ELSE x.status = CASE f.trigger WHEN 'invoice_voided' THEN 'VOID'
											  WHEN 'invoice_refunded' THEN 'REFUND_COMPLETED'
											  ELSE 'UN_COLLECTIBLE' END
						AND EXISTS (SELECT 1 FROM togai_zoho.id_mapping m
									 WHERE m.entity = 'invoice' AND m.togai_connection_id = x.connection_id
									   AND m.togai_id = x.invoice_id) END
		UNION ALL
		/* Togai payments not in Zoho Books yet (an echo of a Zoho Books payment does nothing) */
		SELECT 'payment', x.payment_id, to_jsonb(x)
		  FROM togai_zoho.payments x
		 WHERE t.entity = 'payment' AND t.app = 'togai' AND x.connection_id = f.trigger_connection_id
		   AND NOT EXISTS (SELECT 1 FROM togai_zoho.id_mapping m
							WHERE m.entity = 'payment' AND m.togai_connection_id = x.connection_id
							  AND m.togai_id = x.payment_id
							  AND m.zohobooks_connection_id = ANY (zoho_connections))
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
		entities := entities || src.entity;
		ids := ids || src.source_id;
		payloads := payloads || src.payload;
		n := n + 1;
		IF n % every = 0 THEN
			/*
			 * may_exist: what existed before the flow may have a remote
			 * object already (a connection added again after its mappings
			 * went): each job looks for it, by reading, before it creates one.
			 */
			PERFORM togai_zoho.write_jobs(f.id, f.trigger_connection_id, entities, ids, payloads, true);
			entities := '{}'; ids := '{}'; payloads := '{}';
			RAISE NOTICE 'backfill of flow "%": % rows enqueued so far', f.name, n;
		END IF;
	END LOOP;
	PERFORM togai_zoho.write_jobs(f.id, f.trigger_connection_id, entities, ids, payloads, true);
	PERFORM togai_zoho.notify_worker();
	SELECT * INTO est FROM togai_zoho.backfill_cost(f.id, n);
	UPDATE togai_zoho.flow x SET backfill_calls = est.calls, backfill_days = est.days,
		   backfill_at = now()
	 WHERE x.id = f.id;
	RAISE NOTICE 'backfill of flow "%": % rows enqueued, about % API calls%', f.name, n, est.calls,
		CASE WHEN est.days IS NOT NULL
			 THEN format(', %s days within the daily budget', est.days)
			 ELSE ' (no daily budget set)' END
		USING HINT = 'sync_status shows them being delivered; togai_zoho.api_usage the calls.';
	RETURN n;
END
$$;
COMMENT ON FUNCTION togai_zoho.backfill(text) IS
'Enqueues every existing source row of an enabled flow not synced yet; NOTICE every 5000 rows; returns the number enqueued';
COMMENT ON COLUMN togai_zoho.poll_status.connection IS 'Polled connection';
COMMENT ON COLUMN togai_zoho.poll_status.app IS 'togai or zohobooks';
COMMENT ON COLUMN togai_zoho.poll_status.stream IS 'What is polled (invoices, contacts, accounts, customers)';
COMMENT ON COLUMN togai_zoho.poll_status.last_poll_at IS 'When a poll last read the stream';
COMMENT ON COLUMN togai_zoho.poll_status.last_complete_walk_at IS 'When a poll last read the stream to its end';
COMMENT ON COLUMN togai_zoho.poll_status.last_error IS 'What stopped the stream''s last walk (NULL once a walk completes)';
COMMENT ON COLUMN togai_zoho.poll_status.last_error_at IS 'When that happened';
COMMENT ON COLUMN togai_zoho.poll_status.changed_since IS 'The change time the next walk reads from (Zoho Books)';
COMMENT ON COLUMN togai_zoho.poll_status.next_poll_at IS 'A poll before then skips the stream: it was quiet, or the polls'' budget share is spread over the day (Zoho Books)';
COMMENT ON COLUMN togai_zoho.poll_status.quiet_polls IS 'Polls in a row that found nothing new; each doubles the wait, up to togai_zoho.poll_idle_max';
REVOKE ALL ON FUNCTION togai_zoho.zoho_time(timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION togai_zoho.take_invoice_payments(togai_zoho.connection, jsonb) FROM PUBLIC;

/*
 * ---------------------------------------------------------------------------
 * API budgets: a day's calls and the calls in flight per connection, kept
 * in shared memory (every process sees them at once) and stored by the
 * worker every few seconds (they survive a restart and a dump).
 * ---------------------------------------------------------------------------
 */
ALTER TABLE togai_zoho.connection
	ADD COLUMN api_per_day integer CHECK (api_per_day > 0),
	ADD COLUMN api_concurrent integer CHECK (api_concurrent > 0),
	ADD COLUMN api_plan text CHECK (api_plan IN ('free', 'standard', 'professional', 'premium',
												 'elite', 'ultimate')),
	ADD COLUMN time_zone text;
COMMENT ON COLUMN togai_zoho.connection.api_per_day IS 'API calls a day allowed to this connection (set_api_budget); NULL: no daily budget';
COMMENT ON COLUMN togai_zoho.connection.api_concurrent IS 'API calls in flight at once (set_api_budget); NULL: Zoho Books'' 10 of paid plans, no cap for Togai';
COMMENT ON COLUMN togai_zoho.connection.api_plan IS 'The Zoho Books plan the budget was set from, if any';
COMMENT ON COLUMN togai_zoho.connection.time_zone IS 'The organization''s time zone, whose midnight ends the API day; NULL: UTC';

CREATE TABLE togai_zoho.api_usage_day (
	connection_id  bigint NOT NULL REFERENCES togai_zoho.connection (id) ON DELETE CASCADE,
	day            date NOT NULL,
	delivery_calls integer NOT NULL DEFAULT 0,
	poll_calls     integer NOT NULL DEFAULT 0,
	session_calls  integer NOT NULL DEFAULT 0,
	token_calls    integer NOT NULL DEFAULT 0,
	refused        integer NOT NULL DEFAULT 0,
	paused_until   timestamptz,
	first_call_at  timestamptz,
	PRIMARY KEY (connection_id, day)
);
REVOKE ALL ON togai_zoho.api_usage_day FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('togai_zoho.api_usage_day', '');
COMMENT ON COLUMN togai_zoho.api_usage_day.connection_id IS 'The connection';
COMMENT ON COLUMN togai_zoho.api_usage_day.day IS 'The date in the organization''s time zone (connection.time_zone)';
COMMENT ON COLUMN togai_zoho.api_usage_day.delivery_calls IS 'API calls of jobs (the worker and process_outbox)';
COMMENT ON COLUMN togai_zoho.api_usage_day.poll_calls IS 'API calls of poll_togai and poll_zohobooks';
COMMENT ON COLUMN togai_zoho.api_usage_day.session_calls IS 'API calls of other SQL functions (zohobooks_call, checks, set-up)';
COMMENT ON COLUMN togai_zoho.api_usage_day.token_calls IS 'Access tokens minted at the accounts server (not API calls)';
COMMENT ON COLUMN togai_zoho.api_usage_day.refused IS 'Calls the remote refused for rate (HTTP 429)';
COMMENT ON COLUMN togai_zoho.api_usage_day.paused_until IS 'The remote''s daily cap was reached: calls pause until then';
COMMENT ON COLUMN togai_zoho.api_usage_day.first_call_at IS 'The day''s first API call, for the pace';
COMMENT ON TABLE togai_zoho.api_usage_day IS
'API calls of each connection per day of its organization, by purpose, as the worker stored them (togai_zoho.api_usage shows the live figures)';

/* The organization's day now: its date and when it ends. */
CREATE FUNCTION togai_zoho.api_day(time_zone text, OUT day date, OUT ends_at timestamptz)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT (now() AT TIME ZONE coalesce(time_zone, 'UTC'))::date,
	   ((now() AT TIME ZONE coalesce(time_zone, 'UTC'))::date + 1)::timestamp AT TIME ZONE coalesce(time_zone, 'UTC')
$$;
REVOKE ALL ON FUNCTION togai_zoho.api_day(text) FROM PUBLIC;
COMMENT ON FUNCTION togai_zoho.api_day(text) IS 'The date in a time zone (NULL: UTC) and the moment it ends';

CREATE FUNCTION togai_zoho.api_budget_refresh(connection_id bigint, lift_pause boolean)
	RETURNS void
	LANGUAGE C STRICT
	AS 'MODULE_PATHNAME', 'api_budget_refresh';
REVOKE ALL ON FUNCTION togai_zoho.api_budget_refresh(bigint, boolean) FROM PUBLIC;
COMMENT ON FUNCTION togai_zoho.api_budget_refresh(bigint, boolean) IS
'Internal: gives the shared budget of a connection its stored settings now, and lifts a pause for the day';

CREATE FUNCTION togai_zoho.api_budget_live(connection_id bigint,
	OUT delivery_calls integer, OUT poll_calls integer, OUT session_calls integer,
	OUT token_calls integer, OUT refused integer, OUT in_flight integer,
	OUT paused_until timestamptz, OUT day_resets_at timestamptz, OUT runs_out_at timestamptz)
	LANGUAGE C STRICT
	AS 'MODULE_PATHNAME', 'api_budget_live';
REVOKE ALL ON FUNCTION togai_zoho.api_budget_live(bigint) FROM PUBLIC;
COMMENT ON FUNCTION togai_zoho.api_budget_live(bigint) IS
'Internal: the day''s calls of a connection as every process sees them now (NULLs before its first call since the server started)';

CREATE FUNCTION togai_zoho.api_plan(plan text, OUT per_day integer, OUT concurrent integer)
	LANGUAGE C STRICT
	AS 'MODULE_PATHNAME', 'api_plan';
REVOKE ALL ON FUNCTION togai_zoho.api_plan(text) FROM PUBLIC;
COMMENT ON FUNCTION togai_zoho.api_plan(text) IS
'Internal: a Zoho Books plan''s daily API budget and concurrency cap (NULLs for an unknown plan)';

CREATE FUNCTION togai_zoho.api_poll_spacing(connection_id bigint, streams integer, active boolean)
	RETURNS double precision
	LANGUAGE C STRICT
	AS 'MODULE_PATHNAME', 'api_poll_spacing';
REVOKE ALL ON FUNCTION togai_zoho.api_poll_spacing(bigint, integer, boolean) FROM PUBLIC;
COMMENT ON FUNCTION togai_zoho.api_poll_spacing(bigint, integer, boolean) IS
'Internal: seconds between polls of a stream that keep the polls within togai_zoho.poll_share of the day''s budget; NULL when that share is spent, -1 when the whole budget is (or the connection is paused for the day)';

/*
 * The organization's time zone, for the end of its API day: Zoho Books
 * names it in GET /organizations (time_zone, or timezone in older answers).
 */
CREATE FUNCTION togai_zoho.learn_time_zone(c togai_zoho.connection)
	RETURNS text
	LANGUAGE plpgsql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	tz text;
	base text;
BEGIN
	SELECT coalesce(o ->> 'time_zone', o ->> 'timezone'), upper(o ->> 'currency_code') INTO tz, base
	  FROM jsonb_array_elements(togai_zoho.zohobooks_call(c.name, 'organizations')) o
	 WHERE o ->> 'organization_id' = c.organization_id;
	/* the same answer names the base currency: kept for exchange rates */
	IF base ~ '^[A-Z]{3}$' THEN
		UPDATE togai_zoho.connection x SET base_currency = base
		 WHERE x.id = c.id AND x.base_currency IS DISTINCT FROM base;
	END IF;
	IF tz IS NULL OR NOT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = tz) THEN
		RAISE WARNING 'togai_zoho: the time zone of organization % is unknown (%): its API day ends at midnight UTC',
			c.organization_id, coalesce(tz, 'not given');
		RETURN NULL;
	END IF;
	RETURN tz;
EXCEPTION WHEN OTHERS THEN
	RAISE WARNING 'togai_zoho: could not read the time zone of organization %: %', c.organization_id, SQLERRM
		USING HINT = 'Its API day ends at midnight UTC until set_api_budget() is called again.';
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION togai_zoho.learn_time_zone(togai_zoho.connection) IS
'Internal: the time zone of a Zoho Books connection''s organization, read from GET /organizations (NULL, with a WARNING, when unknown); keeps its base currency on the way';
REVOKE ALL ON FUNCTION togai_zoho.learn_time_zone(togai_zoho.connection) FROM PUBLIC;

CREATE VIEW togai_zoho.api_usage AS
SELECT c.name AS connection, c.app, c.api_plan AS plan, c.api_per_day AS per_day,
	   coalesce(c.api_concurrent, CASE c.app WHEN 'zohobooks' THEN 10 END) AS concurrent,
	   coalesce(l.delivery_calls + l.poll_calls + l.session_calls,
				u.delivery_calls + u.poll_calls + u.session_calls, 0) AS calls_today,
	   coalesce(l.delivery_calls, u.delivery_calls, 0) AS delivery_calls,
	   coalesce(l.poll_calls, u.poll_calls, 0) AS poll_calls,
	   coalesce(l.session_calls, u.session_calls, 0) AS session_calls,
	   coalesce(l.token_calls, u.token_calls, 0) AS token_calls,
	   coalesce(l.refused, u.refused, 0) AS refused_today,
	   coalesce(l.in_flight, 0) AS in_flight,
	   CASE WHEN l.in_flight IS NOT NULL THEN l.paused_until
			WHEN u.paused_until > now() THEN u.paused_until END AS paused_until,
	   d.ends_at AS day_resets_at,
	   l.runs_out_at AS budget_runs_out_at,
	   coalesce(c.time_zone, 'UTC') AS time_zone
  FROM togai_zoho.connection c
 CROSS JOIN LATERAL togai_zoho.api_day(c.time_zone) d
 CROSS JOIN LATERAL togai_zoho.api_budget_live(c.id) l
  LEFT JOIN togai_zoho.api_usage_day u ON u.connection_id = c.id AND u.day = d.day;
REVOKE ALL ON togai_zoho.api_usage FROM PUBLIC;
COMMENT ON VIEW togai_zoho.api_usage IS
'Each connection''s API calls today (its organization''s day), by purpose, against its daily budget and concurrency cap: refusals, a pause for the day, when the day resets and when the budget runs out at today''s pace';
COMMENT ON COLUMN togai_zoho.api_usage.connection IS 'The connection''s name';
COMMENT ON COLUMN togai_zoho.api_usage.app IS 'togai or zohobooks';
COMMENT ON COLUMN togai_zoho.api_usage.plan IS 'The Zoho Books plan the budget was set from, if any';
COMMENT ON COLUMN togai_zoho.api_usage.per_day IS 'API calls a day allowed (NULL: no daily budget)';
COMMENT ON COLUMN togai_zoho.api_usage.concurrent IS 'API calls in flight at once allowed, whatever togai_zoho.max_concurrency says (NULL: no cap)';
COMMENT ON COLUMN togai_zoho.api_usage.delivery_calls IS 'Today''s API calls of jobs';
COMMENT ON COLUMN togai_zoho.api_usage.poll_calls IS 'Today''s API calls of polls';
COMMENT ON COLUMN togai_zoho.api_usage.session_calls IS 'Today''s API calls of other SQL functions';
COMMENT ON COLUMN togai_zoho.api_usage.token_calls IS 'Access tokens minted today (the accounts server: not in calls_today)';
COMMENT ON COLUMN togai_zoho.api_usage.in_flight IS 'API calls in flight now, from every process';
COMMENT ON COLUMN togai_zoho.api_usage.day_resets_at IS 'The organization''s next midnight, when the counts start again';
COMMENT ON COLUMN togai_zoho.api_usage.time_zone IS 'The organization''s time zone (from GET /organizations; UTC when unknown)';
COMMENT ON COLUMN togai_zoho.api_usage.calls_today IS 'API calls today: delivery, poll and session calls (token mints go to the accounts server and are not counted)';
COMMENT ON COLUMN togai_zoho.api_usage.refused_today IS 'Calls the remote refused for rate (HTTP 429) today';
COMMENT ON COLUMN togai_zoho.api_usage.paused_until IS 'The remote''s daily cap was reached: no call until then (set_api_budget lifts it)';
COMMENT ON COLUMN togai_zoho.api_usage.budget_runs_out_at IS 'When per_day is reached at today''s pace, if before the day resets';

/*
 * set_api_budget: the daily budget and concurrency cap of a connection.  A
 * plan gives both; a NULL keeps what is set; 0 removes a limit.  It takes
 * effect at once for every process and lifts a pause for the day.
 */
CREATE FUNCTION togai_zoho.set_api_budget(connection text, per_day integer DEFAULT NULL,
										  concurrent integer DEFAULT NULL, plan text DEFAULT NULL)
	RETURNS SETOF togai_zoho.api_usage
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	c togai_zoho.connection := togai_zoho.find_connection(set_api_budget.connection);
	v_day integer := c.api_per_day;
	v_conc integer := c.api_concurrent;
	v_tz text := c.time_zone;
BEGIN
	IF set_api_budget.plan IS NOT NULL THEN
		IF c.app <> 'zohobooks' THEN
			RAISE EXCEPTION 'a plan is a Zoho Books plan; connection "%" is a % connection', c.name, c.app
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'Give per_day and concurrent for a Togai connection.';
		END IF;
		SELECT p.per_day, p.concurrent INTO v_day, v_conc FROM togai_zoho.api_plan(set_api_budget.plan) p;
		IF v_day IS NULL THEN
			RAISE EXCEPTION 'unknown Zoho Books plan "%"', set_api_budget.plan
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'Plans: free, standard, professional, premium, elite, ultimate.';
		END IF;
	END IF;
	IF set_api_budget.per_day < 0 OR set_api_budget.concurrent < 0 THEN
		RAISE EXCEPTION 'per_day and concurrent must not be negative'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'NULL keeps the value set; 0 removes the limit.';
	END IF;
	IF set_api_budget.per_day IS NOT NULL THEN
		v_day := nullif(set_api_budget.per_day, 0);
	END IF;
	IF set_api_budget.concurrent IS NOT NULL THEN
		v_conc := nullif(set_api_budget.concurrent, 0);
	END IF;
	UPDATE togai_zoho.connection x
	   SET api_per_day = v_day, api_concurrent = v_conc,
		   api_plan = coalesce(set_api_budget.plan, CASE WHEN set_api_budget.per_day IS NULL
													  AND set_api_budget.concurrent IS NULL
													 THEN x.api_plan END),
		   updated_at = now()
	 WHERE x.id = c.id
	RETURNING * INTO c;
	/* a new budget lifts a pause for the day, before the time zone is read */
	PERFORM togai_zoho.api_budget_refresh(c.id, true);
	IF c.app = 'zohobooks' THEN
		v_tz := coalesce(togai_zoho.learn_time_zone(c), v_tz);
		UPDATE togai_zoho.connection x SET time_zone = v_tz WHERE x.id = c.id RETURNING * INTO c;
		PERFORM togai_zoho.api_budget_refresh(c.id, false);
	END IF;
	/* the jobs that wait for this connection's budget look again now */
	UPDATE togai_zoho.outbox o SET due_at = now()
	 WHERE o.state = 'pending' AND o.due_at > now()
	   AND (o.last_error LIKE 'the daily API budget of connection %'
			OR o.last_error LIKE 'the remote refused connection %')
	   AND position(format('connection "%s"', c.name) IN o.last_error) > 0;
	IF FOUND THEN
		PERFORM togai_zoho.notify_worker();
	END IF;
	RETURN QUERY SELECT * FROM togai_zoho.api_usage u WHERE u.connection = c.name;
END
$$;
REVOKE ALL ON FUNCTION togai_zoho.set_api_budget(text, integer, integer, text) FROM PUBLIC;
COMMENT ON FUNCTION togai_zoho.set_api_budget(text, integer, integer, text) IS
'Sets a connection''s daily API budget and concurrency cap (plan: free, standard, professional, premium, elite, ultimate gives both; NULL keeps a value; 0 removes a limit); takes effect at once and lifts a pause for the day';


/* Togai polls count as polls in api_usage */
CREATE TABLE togai_zoho.togai_open_invoice (
	connection_id bigint NOT NULL REFERENCES togai_zoho.connection (id) ON DELETE CASCADE,
	invoice_id    text NOT NULL,
	status        text NOT NULL,
	seen_at       timestamptz NOT NULL,
	ends_at       timestamptz,
	PRIMARY KEY (connection_id, invoice_id)
);
/* what a poll reads alone: those that left the lists, and drafts at their period's end */
CREATE INDEX togai_open_invoice_left_idx ON togai_zoho.togai_open_invoice (connection_id, seen_at)
	WHERE status <> 'DRAFT';
CREATE INDEX togai_open_invoice_ending_idx ON togai_zoho.togai_open_invoice (connection_id, ends_at)
	WHERE status = 'DRAFT';
COMMENT ON TABLE togai_zoho.togai_open_invoice IS
'Togai invoices last seen in a status that can still move (togai_zoho.togai_open_statuses) and ongoing drafts, none of them mirrored yet or any more: one missing from the latest walks of those lists, or a draft past its period''s end, is read alone';
COMMENT ON COLUMN togai_zoho.togai_open_invoice.connection_id IS 'The Togai connection';
COMMENT ON COLUMN togai_zoho.togai_open_invoice.invoice_id IS 'The Togai invoice';
COMMENT ON COLUMN togai_zoho.togai_open_invoice.status IS 'Its status when last seen';
COMMENT ON COLUMN togai_zoho.togai_open_invoice.seen_at IS 'When a list, a read or a webhook last showed it';
COMMENT ON COLUMN togai_zoho.togai_open_invoice.ends_at IS 'A draft''s period end (endDate): from then on it is read alone until it leaves DRAFT';
REVOKE ALL ON togai_zoho.togai_open_invoice FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('togai_zoho.togai_open_invoice', '');

CREATE FUNCTION togai_zoho.togai_open_statuses()
	RETURNS text[]
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT ARRAY(SELECT btrim(s) FROM unnest(string_to_array(coalesce(
		current_setting('togai_zoho.togai_open_statuses', true),
		'DUE,PARTIALLY_PAID,REFUND_INITIATED,REFUND_COMPLETED'), ',')) s
			  WHERE btrim(s) <> '')
$$;
COMMENT ON FUNCTION togai_zoho.togai_open_statuses() IS
'The Togai invoice statuses every poll reads (togai_zoho.togai_open_statuses; its default before the library is loaded)';
REVOKE ALL ON FUNCTION togai_zoho.togai_open_statuses() FROM PUBLIC;

CREATE FUNCTION togai_zoho.note_togai_invoice(connection_id bigint, invoice jsonb)
	RETURNS void
	LANGUAGE sql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
WITH settled AS (
	DELETE FROM togai_zoho.togai_open_invoice o
	 WHERE o.connection_id = note_togai_invoice.connection_id AND o.invoice_id = invoice ->> 'id'
	   AND NOT coalesce(invoice ->> 'status' = ANY (togai_zoho.togai_open_statuses() || 'DRAFT'::text), false))
INSERT INTO togai_zoho.togai_open_invoice AS o (connection_id, invoice_id, status, seen_at, ends_at)
SELECT note_togai_invoice.connection_id, invoice ->> 'id', invoice ->> 'status', clock_timestamp(),
	   CASE WHEN invoice ->> 'status' = 'DRAFT' THEN togai_zoho.remote_time(invoice ->> 'endDate') END
 WHERE invoice ->> 'status' = ANY (togai_zoho.togai_open_statuses() || 'DRAFT'::text) AND invoice ->> 'id' <> ''
ON CONFLICT (connection_id, invoice_id) DO UPDATE
	SET status = EXCLUDED.status, seen_at = EXCLUDED.seen_at, ends_at = EXCLUDED.ends_at
$$;
COMMENT ON FUNCTION togai_zoho.note_togai_invoice(bigint, jsonb) IS
'Internal: notes where a Togai invoice was seen (in togai_open_invoice while its status can move, a draft with its period''s end)';
REVOKE ALL ON FUNCTION togai_zoho.note_togai_invoice(bigint, jsonb) FROM PUBLIC;

CREATE FUNCTION togai_zoho.stream_due(connection_id bigint, stream text, every interval)
	RETURNS boolean
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT cur ? 'next_token' OR cur ? 'walk_started' OR cur ->> 'last_full_walk' IS NULL
	   OR (cur ->> 'last_full_walk')::timestamptz <= clock_timestamp() - every
  FROM togai_zoho.get_cursor(stream_due.connection_id, stream_due.stream) AS cur
$$;
COMMENT ON FUNCTION togai_zoho.stream_due(bigint, text, interval) IS
'Internal: whether a polled stream is to be read now (a walk under way, or none within every)';
REVOKE ALL ON FUNCTION togai_zoho.stream_due(bigint, text, interval) FROM PUBLIC;

CREATE FUNCTION togai_zoho.togai_poll_plan(c togai_zoho.connection)
	RETURNS text[]
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
WITH payments AS (
	/* Togai's payments are read only for an enabled flow that carries them */
	SELECT EXISTS (SELECT 1 FROM togai_zoho.flow f
				    WHERE f.trigger_connection_id = c.id AND f.enabled
					  AND f.trigger = 'payment_collected') AS wanted
), due AS (
	SELECT u.s, u.n FROM unnest(ARRAY(SELECT togai_zoho.poll_order(c.id,
			ARRAY['customers:new', 'accounts:new']
			|| ARRAY(SELECT 'invoices:' || t FROM unnest(togai_zoho.togai_open_statuses()) t)
			|| ARRAY['invoices:recent', 'invoices:moved']
			|| ARRAY(SELECT 'payments:new' FROM payments WHERE wanted)))) WITH ORDINALITY AS u(s, n)
	 WHERE (c.webhook_url IS NULL
			OR togai_zoho.stream_due(c.id, u.s, current_setting('togai_zoho.poll_sweep')::interval))
	   AND (u.s NOT LIKE '%:new' OR togai_zoho.get_cursor(c.id, u.s) ? 'tail')
), sweep AS (
	SELECT u.s, u.n FROM unnest(ARRAY['customers', 'accounts', 'invoices']) WITH ORDINALITY AS u(s, n)
	 WHERE togai_zoho.stream_due(c.id, u.s, current_setting('togai_zoho.togai_sweep')::interval)
	UNION ALL
	/*
	 * A payment never changes once made: the whole list is walked once, for
	 * the tail that payments:new reads on from (and again after sweep_now)
	 */
	SELECT 'payments', 4 FROM payments
	 WHERE wanted AND togai_zoho.stream_due(c.id, 'payments', '1000 years')
)
SELECT CASE WHEN togai_zoho.get_cursor(c.id, 'accounts') ? 'last_full_walk'
			THEN coalesce((SELECT array_agg(s ORDER BY n) FROM due), '{}')
				 || coalesce((SELECT array_agg(s ORDER BY n) FROM sweep), '{}')
			ELSE coalesce((SELECT array_agg(s ORDER BY n) FROM sweep), '{}')
				 || coalesce((SELECT array_agg(s ORDER BY n) FROM due), '{}') END
$$;
COMMENT ON FUNCTION togai_zoho.togai_poll_plan(togai_zoho.connection) IS
'Internal: the streams a poll of a Togai connection reads now, in order';
REVOKE ALL ON FUNCTION togai_zoho.togai_poll_plan(togai_zoho.connection) FROM PUBLIC;

CREATE FUNCTION togai_zoho.togai_lists_walked_since(connection_id bigint)
	RETURNS timestamptz
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT CASE WHEN bool_and(w IS NOT NULL) THEN min(w) END
  FROM (SELECT (togai_zoho.get_cursor(togai_lists_walked_since.connection_id, 'invoices:' || s)
				->> 'last_walk_started')::timestamptz AS w
		  FROM unnest(togai_zoho.togai_open_statuses()) AS s) x
$$;
COMMENT ON FUNCTION togai_zoho.togai_lists_walked_since(bigint) IS
'Internal: the start of the oldest of the latest whole walks of the open invoice lists';
REVOKE ALL ON FUNCTION togai_zoho.togai_lists_walked_since(bigint) FROM PUBLIC;

CREATE FUNCTION togai_zoho.poll_summary(r jsonb)
	RETURNS jsonb
	LANGUAGE sql IMMUTABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT (r - ARRAY(SELECT k FROM jsonb_each(r) AS e(k, v)
				   WHERE jsonb_typeof(v) = 'object' AND k <> 'names'))
	   || coalesce((SELECT jsonb_object_agg(l.list, jsonb_strip_nulls(jsonb_build_object(
						'seen', l.seen, 'changed', l.changed, 'failed', l.failed,
						'complete', l.complete, 'error', l.error)))
					  FROM (SELECT split_part(k, ':', 1) AS list, sum((v ->> 'seen')::integer) AS seen,
								   sum((v ->> 'changed')::integer) AS changed,
								   sum((v ->> 'failed')::integer) AS failed,
								   bool_and((v ->> 'complete')::boolean) AS complete,
								   string_agg(v ->> 'error', '; ') AS error
							  FROM jsonb_each(r) AS e(k, v)
							 WHERE jsonb_typeof(v) = 'object' AND k <> 'names'
							 GROUP BY 1) l), '{}')
	   || coalesce((SELECT jsonb_build_object('lists', jsonb_object_agg(k, v))
					  FROM jsonb_each(r) AS e(k, v)
					 WHERE jsonb_typeof(v) = 'object' AND k <> 'names'
					HAVING count(*) > 0), '{}')
$$;
COMMENT ON FUNCTION togai_zoho.poll_summary(jsonb) IS
'Internal: a Togai poll''s counts by list (customers, accounts, invoices) with each stream under lists';
REVOKE ALL ON FUNCTION togai_zoho.poll_summary(jsonb) FROM PUBLIC;

/* the invoices mirrored open so far: a poll reads each alone once it leaves the open lists */
INSERT INTO togai_zoho.togai_open_invoice (connection_id, invoice_id, status, seen_at)
SELECT i.connection_id, i.invoice_id, i.status, now() FROM togai_zoho.invoices i
 WHERE i.status = ANY (togai_zoho.togai_open_statuses());
/*
 * The arguments of a Togai list call of a stream: its page size, the
 * window of the recent invoices (from an hour before the first walk, then
 * from the window kept), or the status a stream of invoices reads.
 */
CREATE FUNCTION togai_zoho.togai_list_args(stream text, cur jsonb, started timestamptz)
	RETURNS jsonb
	LANGUAGE sql
	IMMUTABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT jsonb_build_object('page_size', 50) || CASE
	WHEN stream = 'invoices:recent' THEN jsonb_build_object('start_time',
		coalesce(cur ->> 'since_ms',
				 (floor(extract(epoch FROM started - interval '1 hour') * 1000))::bigint::text))
	WHEN split_part(stream, ':', 1) = 'invoices' AND stream <> 'invoices'
	THEN jsonb_build_object('status', split_part(stream, ':', 2))
	ELSE '{}' END
$$;
COMMENT ON FUNCTION togai_zoho.togai_list_args(text, jsonb, timestamptz) IS
'Internal: the arguments of a Togai list call of a poll stream (page size, window, status)';
REVOKE ALL ON FUNCTION togai_zoho.togai_list_args(text, jsonb, timestamptz) FROM PUBLIC;

/*
 * What a poll reads alone, up to max_reads calls: the invoices that left
 * Togai's open lists since they were last seen, and the drafts whose period
 * has ended (a draft moves then: generated, paid at once from a wallet, or
 * voided), each poll until it leaves DRAFT (not twice in one transaction).
 * Drafts are read so only while the DRAFT list is not among the lists every
 * poll reads.  One
 * gone from Togai is no longer followed; one that fails is read again
 * after the next walks.
 */
CREATE FUNCTION togai_zoho.togai_read_moved(c togai_zoho.connection, max_reads integer,
											OUT reads integer, OUT seen integer, OUT changed integer,
											OUT failed integer, OUT finished boolean,
											OUT err text, OUT err_state text)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	since timestamptz := togai_zoho.togai_lists_walked_since(c.id);
	drafts_listed boolean := 'DRAFT' = ANY (togai_zoho.togai_open_statuses());
	id text;
	invoice jsonb;
BEGIN
	reads := 0; seen := 0; changed := 0; failed := 0; finished := true;
	FOR id IN (SELECT o.invoice_id FROM togai_zoho.togai_open_invoice o
				WHERE o.connection_id = c.id AND (o.status <> 'DRAFT' OR drafts_listed)
				  AND o.seen_at < since
				ORDER BY o.seen_at, o.invoice_id)
			  UNION ALL
			  (SELECT o.invoice_id FROM togai_zoho.togai_open_invoice o
				WHERE o.connection_id = c.id AND o.status = 'DRAFT' AND NOT drafts_listed
				  AND o.ends_at <= clock_timestamp() AND o.seen_at < now()
				ORDER BY o.ends_at, o.invoice_id) LOOP
		IF reads >= max_reads THEN
			finished := false;
			EXIT;
		END IF;
		BEGIN
			reads := reads + 1;
			invoice := togai_zoho.togai_call(c.name, 'invoice_get', jsonb_build_object('invoice_id', id));
		EXCEPTION WHEN OTHERS THEN
			IF SQLSTATE = 'TZ404' THEN
				/* gone from Togai: nothing left to follow */
				DELETE FROM togai_zoho.togai_open_invoice o WHERE o.connection_id = c.id AND o.invoice_id = id;
				CONTINUE;
			END IF;
			err := SQLERRM;
			err_state := SQLSTATE;
			finished := false;
			EXIT;
		END;
		seen := seen + 1;
		BEGIN
			IF togai_zoho.take_invoice(c, invoice) THEN
				changed := changed + 1;
			END IF;
		EXCEPTION WHEN OTHERS THEN
			failed := failed + 1;
			RAISE WARNING 'togai_zoho: invoice % of connection "%" not mirrored: %', id, c.name, SQLERRM;
			/* read again after the next walks, not at once */
			PERFORM togai_zoho.note_togai_invoice(c.id, invoice);
		END;
	END LOOP;
END
$$;
COMMENT ON FUNCTION togai_zoho.togai_read_moved(togai_zoho.connection, integer) IS
'Internal: the invoices that left Togai''s open lists since last seen, and drafts past their period''s end, each read alone (the stream invoices:moved)';
REVOKE ALL ON FUNCTION togai_zoho.togai_read_moved(togai_zoho.connection, integer) FROM PUBLIC;

/*
 * Takes one entry of a Togai list into its mirror; for a new account
 * (accounts:new) and while may_read, also the first page of its invoices,
 * whatever their status (one paid at once among them): a longer history
 * comes by the lists and the sweep.  An entry that fails is named in a
 * warning and counted; the walk goes on.
 */
CREATE FUNCTION togai_zoho.togai_take_listed(c togai_zoho.connection, stream text, item jsonb,
											 names jsonb, may_read boolean, OUT changed integer,
											 OUT read_page boolean, OUT failed boolean)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	list text := split_part(stream, ':', 1);
	owned jsonb;
BEGIN
	changed := 0;
	failed := false;
	read_page := may_read AND stream = 'accounts:new' AND NOT EXISTS (
		SELECT 1 FROM togai_zoho.customers a WHERE a.connection_id = c.id AND a.account_id = item ->> 'id');
	IF (CASE list WHEN 'customers' THEN togai_zoho.take_customer(c, item)
				  WHEN 'accounts' THEN togai_zoho.take_account(c, item, names)
				  WHEN 'payments' THEN togai_zoho.mirror_payment(c.id, item)
				  ELSE togai_zoho.take_invoice(c, item) END) THEN
		changed := 1;
	END IF;
	IF read_page THEN
		FOR owned IN SELECT e FROM jsonb_array_elements(coalesce(togai_zoho.togai_call(
				c.name, 'invoices_list', jsonb_build_object('owner_id', item ->> 'id',
														   'page_size', 50)) -> 'data', '[]')) e LOOP
			IF togai_zoho.take_invoice(c, owned) THEN
				changed := changed + 1;
			END IF;
		END LOOP;
	END IF;
EXCEPTION WHEN OTHERS THEN
	failed := true;
	RAISE WARNING 'togai_zoho: % % of connection "%" not mirrored: %',
		rtrim(list, 's'), item ->> 'id', c.name, SQLERRM;
END
$$;
COMMENT ON FUNCTION togai_zoho.togai_take_listed(togai_zoho.connection, text, jsonb, jsonb, boolean) IS
'Internal: one entry of a Togai list into its mirror, with a new account''s first page of invoices';
REVOKE ALL ON FUNCTION togai_zoho.togai_take_listed(togai_zoho.connection, text, jsonb, jsonb, boolean) FROM PUBLIC;

/*
 * Where a walk of a Togai stream leaves its cursor: after an error, the
 * page to read again (a stream of new entries whose kept token Togai no
 * longer takes waits for the next sweep to keep a new one); after a full
 * walk, when it ran, where new entries will come (the last page), and for
 * the recent invoices the next window, from a little before this walk
 * began for the clocks; a walk cut short goes on from its next token.
 */
CREATE FUNCTION togai_zoho.togai_walk_settle(c togai_zoho.connection, stream text, cur jsonb,
											 started timestamptz, page_token text, token text,
											 finished boolean, err text, err_state text)
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
BEGIN
	IF err IS NOT NULL AND stream LIKE '%:new' AND err_state IN ('TZ400', 'TZ404') THEN
		PERFORM togai_zoho.set_cursor(c.id, stream, jsonb_build_object(
			'last_error', err, 'last_error_sqlstate', err_state, 'last_error_at', clock_timestamp()));
	ELSIF err IS NOT NULL THEN
		PERFORM togai_zoho.set_cursor(c.id, stream, (cur - 'next_token') || jsonb_strip_nulls(
			jsonb_build_object('next_token', page_token, 'walk_started', started,
							   'last_error', err, 'last_error_sqlstate', err_state,
							   'last_error_at', clock_timestamp(), 'last_poll_at', clock_timestamp())));
	ELSIF finished THEN
		PERFORM togai_zoho.set_cursor(c.id, stream, jsonb_strip_nulls(jsonb_build_object(
			'last_full_walk', clock_timestamp(), 'last_walk_started', started,
			'last_poll_at', clock_timestamp(),
			'tail', CASE WHEN stream LIKE '%:new' THEN coalesce(page_token, '') END,
			'since_ms', CASE WHEN stream = 'invoices:recent'
				THEN (floor(extract(epoch FROM started - interval '10 minutes') * 1000))::bigint::text END)));
		IF stream IN ('customers', 'accounts', 'payments') THEN
			PERFORM togai_zoho.set_cursor(c.id, stream || ':new',
				togai_zoho.get_cursor(c.id, stream || ':new') - 'next_token' - 'walk_started'
				|| jsonb_build_object('tail', coalesce(page_token, '')));
		END IF;
	ELSE
		PERFORM togai_zoho.set_cursor(c.id, stream, (cur - 'next_token' - 'last_error'
			- 'last_error_sqlstate' - 'last_error_at') || jsonb_strip_nulls(jsonb_build_object(
			'next_token', token, 'walk_started', started, 'last_poll_at', clock_timestamp())));
	END IF;
END
$$;
COMMENT ON FUNCTION togai_zoho.togai_walk_settle(togai_zoho.connection, text, jsonb, timestamptz, text, text, boolean, text, text) IS
'Internal: where a walk of a Togai stream leaves its cursor';
REVOKE ALL ON FUNCTION togai_zoho.togai_walk_settle(togai_zoho.connection, text, jsonb, timestamptz, text, text, boolean, text, text) FROM PUBLIC;

/* the first poll after the update walks every Togai list, keeping where new objects come */
UPDATE togai_zoho.sync_cursor s SET cursor = (s.cursor::jsonb - 'last_full_walk')::text
 WHERE s.stream IN ('customers', 'accounts', 'invoices')
   AND s.connection_id IN (SELECT c.id FROM togai_zoho.connection c WHERE c.app = 'togai');

CREATE FUNCTION togai_zoho.poll_togai_run(connection text, max_pages integer, done text[],
										  names jsonb)
	RETURNS jsonb
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	SET togai_zoho.call_purpose = 'poll'
	AS $$
DECLARE
	c togai_zoho.connection;
	stream text;
	list text;
	cur jsonb;
	args jsonb;
	page jsonb;
	item jsonb;
	took record;
	moved record;
	budget record;
	pages integer := 0;
	polled integer := 0;
	seen integer;
	changed integer;
	failed integer;
	token text;
	page_token text;
	started timestamptz;
	finished boolean;
	plan text[];
	frequent_cap integer;
	cap integer;
	result jsonb := '{}';
	err text;
	err_state text;
	stream_err text;
BEGIN
	c := togai_zoho.poll_begin(poll_togai_run.connection, 'togai', max_pages);
	names := coalesce(names, '{}');
	IF c.id IS NULL THEN
		RETURN jsonb_build_object('connection', poll_togai_run.connection,
								  'skipped', 'another poll of this connection is running');
	END IF;
	SELECT * INTO budget FROM togai_zoho.poll_budget_held(c, 1);
	IF budget.held IS NOT NULL THEN
		RETURN budget.held;
	END IF;

	/* while a sweep is due, the frequent reads leave it a quarter of the pages, one at least */
	plan := togai_zoho.togai_poll_plan(c);
	frequent_cap := max_pages - CASE WHEN plan && ARRAY['customers', 'accounts', 'invoices']
									 THEN greatest(1, max_pages / 4) ELSE 0 END;
	FOREACH stream IN ARRAY plan LOOP
		CONTINUE WHEN stream = ANY (done);
		EXIT WHEN pages >= max_pages;
		cap := CASE WHEN stream LIKE '%:%' THEN frequent_cap ELSE max_pages END;
		CONTINUE WHEN pages >= cap;
		polled := polled + 1;
		cur := togai_zoho.get_cursor(c.id, stream);
		list := split_part(stream, ':', 1);
		started := coalesce((cur ->> 'walk_started')::timestamptz, clock_timestamp());
		seen := 0; changed := 0; failed := 0; finished := false; stream_err := NULL;
		token := NULL; page_token := NULL;

		IF stream = 'invoices:moved' THEN
			SELECT * INTO moved FROM togai_zoho.togai_read_moved(c, cap - pages);
			pages := pages + moved.reads;
			seen := moved.seen; changed := moved.changed; failed := moved.failed;
			finished := moved.finished; stream_err := moved.err; err_state := moved.err_state;
		ELSE
			token := CASE WHEN cur ? 'next_token' THEN cur ->> 'next_token'
						  WHEN stream LIKE '%:new' THEN nullif(cur ->> 'tail', '') END;
			args := togai_zoho.togai_list_args(stream, cur, started);
			LOOP
				page_token := token;
				BEGIN
					page := togai_zoho.togai_call(c.name, list || '_list',
						jsonb_strip_nulls(args || jsonb_build_object('next_token', token)));
				EXCEPTION WHEN OTHERS THEN
					stream_err := SQLERRM;
					err_state := SQLSTATE;
					EXIT;
				END;
				pages := pages + 1;
				FOR item IN SELECT e FROM jsonb_array_elements(coalesce(page -> 'data', '[]')) e LOOP
					seen := seen + 1;
					IF list = 'customers' AND item ->> 'id' IS NOT NULL THEN
						names := names || jsonb_build_object(item ->> 'id', item ->> 'name');
					END IF;
					SELECT * INTO took FROM togai_zoho.togai_take_listed(c, stream, item, names, pages < cap);
					changed := changed + took.changed;
					failed := failed + took.failed::integer;
					pages := pages + took.read_page::integer;
				END LOOP;
				token := nullif(page ->> 'nextToken', '');
				finished := token IS NULL;
				EXIT WHEN finished OR pages >= cap;
			END LOOP;
		END IF;

		IF stream_err IS NOT NULL THEN
			RAISE WARNING 'togai_zoho: polling % of connection "%" stopped: %', stream, c.name, stream_err
				USING HINT = 'The next poll resumes from the same page; togai_zoho.poll_status shows it.';
			err := coalesce(err, stream || ': ' || stream_err);
		END IF;
		PERFORM togai_zoho.togai_walk_settle(c, stream, cur, started, page_token, token, finished,
											 stream_err, err_state);
		result := result || jsonb_build_object(stream, jsonb_strip_nulls(jsonb_build_object(
			'seen', seen, 'changed', changed, 'failed', failed,
			'complete', finished AND stream_err IS NULL, 'error', stream_err)));
		/* a refusal for rate pauses the connection: no use asking again now */
		EXIT WHEN stream_err IS NOT NULL AND err_state = 'TZ429';
		/* a walk cut short by max_pages ends the poll; a failed list does not stop the others */
		EXIT WHEN stream_err IS NULL AND NOT finished AND pages >= max_pages;
	END LOOP;
	IF polled = 0 AND cardinality(done) = 0 THEN
		RAISE NOTICE 'togai_zoho: no list of connection "%" is due', c.name
			USING HINT = 'With Togai''s webhooks set up, polls read its lists every togai_zoho.poll_sweep; togai_zoho.sweep_now() reads them at the next poll.';
		RETURN jsonb_build_object('connection', c.name, 'pages', 0, 'names', names,
								  'skipped', 'no list is due');
	END IF;
	RETURN jsonb_build_object('connection', c.name, 'pages', pages, 'names', names) || result
		|| jsonb_strip_nulls(jsonb_build_object('error', err));
END
$$;
COMMENT ON FUNCTION togai_zoho.poll_togai_run(text, integer, text[], jsonb) IS
'Internal: a poll of Togai of up to max_pages calls, the streams in done left out; poll_togai() and poll() call it';
REVOKE ALL ON FUNCTION togai_zoho.poll_togai_run(text, integer, text[], jsonb) FROM PUBLIC;

CREATE OR REPLACE FUNCTION togai_zoho.poll_togai(connection text, max_pages integer DEFAULT 100)
	RETURNS jsonb
	LANGUAGE sql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT togai_zoho.poll_summary(togai_zoho.poll_togai_run(connection, max_pages, '{}', '{}') - 'names')
$$;
COMMENT ON FUNCTION togai_zoho.poll_togai(text, integer) IS
'Reads what can have changed in Togai (the invoices that can still move, recent invoices, new accounts; every list in full once a togai_zoho.togai_sweep) into customers and invoices, which fires the flows; at most max_pages calls, resuming where the last call stopped; returns counts. Safe from pg_cron every minute and twice at once; CALL poll() does the same a page per transaction';

/*
 * Invoices made as drafts, to be marked sent with one bulk call for many
 * (POST /invoices/status/sent): written with the job's outcome, deleted
 * once Zoho Books marked them.
 */
CREATE TABLE togai_zoho.zohobooks_unsent (
	connection_id bigint NOT NULL REFERENCES togai_zoho.connection (id) ON DELETE CASCADE,
	invoice_id    text NOT NULL,
	queued_at     timestamptz NOT NULL DEFAULT now(),
	attempts      integer NOT NULL DEFAULT 0,
	last_error    text,
	PRIMARY KEY (connection_id, invoice_id)
);
REVOKE ALL ON togai_zoho.zohobooks_unsent FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('togai_zoho.zohobooks_unsent', '');
COMMENT ON TABLE togai_zoho.zohobooks_unsent IS
'Zoho Books invoices made as drafts by invoice_create with mark_sent, waiting for the bulk call that marks them sent';
COMMENT ON COLUMN togai_zoho.zohobooks_unsent.connection_id IS 'The Zoho Books connection';
COMMENT ON COLUMN togai_zoho.zohobooks_unsent.invoice_id IS 'The Zoho Books invoice';
COMMENT ON COLUMN togai_zoho.zohobooks_unsent.queued_at IS 'When its job made it';
COMMENT ON COLUMN togai_zoho.zohobooks_unsent.attempts IS 'Times Zoho Books refused to mark it (after 5 it is left for a person)';
COMMENT ON COLUMN togai_zoho.zohobooks_unsent.last_error IS 'Zoho Books'' words for the last refusal';

/*
 * ---------------------------------------------------------------------------
 * Webhooks: Zoho Books told to call the receiver (src/receiver); while it
 * does, polls only sweep, every togai_zoho.poll_sweep.
 * ---------------------------------------------------------------------------
 */
ALTER TABLE togai_zoho.connection
	ADD COLUMN webhook_url text,
	ADD COLUMN webhook_id text,
	ADD COLUMN webhook_registered_at timestamptz;
COMMENT ON COLUMN togai_zoho.connection.webhook_url IS 'Where Zoho Books sends this connection''s webhooks (register_zohobooks_webhook); while set, polls only sweep';
COMMENT ON COLUMN togai_zoho.connection.webhook_id IS 'Zoho Books'' id of that webhook';
COMMENT ON COLUMN togai_zoho.connection.webhook_registered_at IS 'When it was registered';

CREATE FUNCTION togai_zoho.register_zohobooks_webhook(connection text, url text, secret text,
	events text[] DEFAULT ARRAY['invoice_updated', 'customerpayment_created', 'contact_updated'])
	RETURNS text
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	SET log_min_error_statement = panic
	AS $$
DECLARE
	c togai_zoho.connection := togai_zoho.find_connection(register_zohobooks_webhook.connection,
														   'zohobooks');
	hook jsonb;
BEGIN
	PERFORM togai_zoho.normalize_url(url, 'url');
	IF secret IS NULL OR secret !~ '^[A-Za-z0-9]{12,50}$' THEN
		RAISE EXCEPTION 'a Zoho Books webhook secret is 12 to 50 letters and digits'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Put the same secret in the receiver''s secrets file.';
	END IF;
	IF events IS NULL OR cardinality(events) = 0 THEN
		RAISE EXCEPTION 'events must name at least one event' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	hook := togai_zoho.zohobooks_call(c.name, 'webhook_create', jsonb_build_object('webhook',
		jsonb_build_object('url', url, 'events', to_jsonb(events), 'secret', secret)));
	UPDATE togai_zoho.connection x
	   SET webhook_url = url, webhook_id = hook ->> 'webhook_id', webhook_registered_at = now(),
		   updated_at = now()
	 WHERE x.id = c.id;
	RETURN hook ->> 'webhook_id';
END
$$;
REVOKE ALL ON FUNCTION togai_zoho.register_zohobooks_webhook(text, text, text, text[]) FROM PUBLIC;
COMMENT ON FUNCTION togai_zoho.register_zohobooks_webhook(text, text, text, text[]) IS
'Registers the receiver''s URL as a Zoho Books webhook (POST /settings/webhooks) signed with secret; from then on the connection''s polls only sweep (togai_zoho.poll_sweep). Returns Zoho''s webhook id';

CREATE FUNCTION togai_zoho.forget_zohobooks_webhook(connection text)
	RETURNS void
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	c togai_zoho.connection := togai_zoho.find_connection(forget_zohobooks_webhook.connection,
														   'zohobooks');
BEGIN
	UPDATE togai_zoho.connection x
	   SET webhook_url = NULL, webhook_id = NULL, webhook_registered_at = NULL, updated_at = now()
	 WHERE x.id = c.id;
	RAISE NOTICE 'togai_zoho: polls of connection "%" no longer count on webhooks', c.name
		USING HINT = 'Delete the webhook in Zoho Books (Settings, Automation) if it is still there.';
END
$$;
REVOKE ALL ON FUNCTION togai_zoho.forget_zohobooks_webhook(text) FROM PUBLIC;
COMMENT ON FUNCTION togai_zoho.forget_zohobooks_webhook(text) IS
'Polls of the connection go back to their own pacing (the webhook at Zoho Books is left as it is)';

CREATE OR REPLACE FUNCTION togai_zoho.take_invoice(c togai_zoho.connection, summary jsonb)
	RETURNS boolean
	LANGUAGE plpgsql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	known togai_zoho.invoices;
	full_invoice jsonb := summary;
BEGIN
	PERFORM togai_zoho.note_togai_invoice(c.id, summary);
	SELECT * INTO known FROM togai_zoho.invoices i
	 WHERE i.connection_id = c.id AND i.invoice_id = summary ->> 'id';
	IF NOT FOUND AND summary ->> 'status' = 'DRAFT' THEN
		RETURN false;			/* ongoing: nothing to sync until it is generated */
	END IF;
	IF FOUND AND known.status = summary ->> 'status'
	   AND known.paid_amount IS NOT DISTINCT FROM (summary ->> 'paidAmount')::numeric
	   AND known.raw ->> 'updatedAt' IS NOT DISTINCT FROM summary ->> 'updatedAt'
	   AND (known.revenue_info IS NOT NULL OR known.status = 'DRAFT') THEN
		RETURN false;
	END IF;
	IF summary ->> 'status' <> 'DRAFT' AND jsonb_typeof(summary -> 'revenueInfo') IS DISTINCT FROM 'object' THEN
		full_invoice := togai_zoho.togai_call(c.name, 'invoice_get',
											  jsonb_build_object('invoice_id', summary ->> 'id'));
	END IF;
	IF full_invoice ->> 'ownerId' <> '' AND NOT EXISTS (SELECT 1 FROM togai_zoho.customers a
					WHERE a.connection_id = c.id AND a.account_id = full_invoice ->> 'ownerId') THEN
		BEGIN
			PERFORM togai_zoho.take_account(c, togai_zoho.togai_call(c.name, 'account_get',
				jsonb_build_object('account_id', full_invoice ->> 'ownerId')));
		EXCEPTION WHEN SQLSTATE 'TZ404' THEN
			NULL;				/* not in Togai yet: the invoice's job waits for it */
		END;
	END IF;
	RETURN togai_zoho.mirror_invoice(c.id, full_invoice);
END
$$;
COMMENT ON FUNCTION togai_zoho.take_invoice(togai_zoho.connection, jsonb) IS
'Mirrors one Togai invoice from a list entry or event: reads the full invoice when it changed; ignores drafts not mirrored yet';

CREATE OR REPLACE FUNCTION togai_zoho.receive_webhook(connection text, payload jsonb)
	RETURNS bigint
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	c togai_zoho.connection;
	event text;
	obj jsonb;
	key text;
	entity text;
BEGIN
	c := togai_zoho.find_connection(receive_webhook.connection);
	IF payload IS NULL THEN
		RAISE EXCEPTION 'payload must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF jsonb_typeof(payload) <> 'object' THEN
		RAISE EXCEPTION 'a webhook payload must be a JSON object, not %', jsonb_typeof(payload)
			USING ERRCODE = 'invalid_parameter_value';
	END IF;

	IF c.app = 'togai' THEN
		event := upper(coalesce(payload ->> 'eventType', payload ->> 'event_type',
								payload ->> 'type', payload ->> 'event', ''));
		/* the object: under data/object/payload/invoice/account, or the payload itself */
		FOREACH key IN ARRAY ARRAY['data', 'object', 'payload', 'invoice', 'account'] LOOP
			obj := togai_zoho.json_object_member(payload, key);
			EXIT WHEN obj IS NOT NULL;
		END LOOP;
		obj := coalesce(togai_zoho.json_object_member(obj, 'invoice'),
						togai_zoho.json_object_member(obj, 'account'), obj, payload);
		entity := CASE WHEN obj ? 'ownerId' OR (event LIKE '%INVOICE%' AND obj ? 'id') THEN 'invoice'
					   WHEN obj ? 'invoiceCurrency' OR obj ? 'customerId' OR obj ? 'togaiCustomerId'
							OR (event LIKE '%ACCOUNT%' AND obj ? 'id') THEN 'account' END;
		IF entity IS NULL OR nullif(obj ->> 'id', '') IS NULL THEN
			RAISE EXCEPTION 'the Togai event carries no account or invoice'
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = format('Event type "%s"; keys: %s.', event,
									  (SELECT string_agg(k, ', ') FROM jsonb_object_keys(obj) k)),
					  HINT = 'Pass the event as Togai sent it, or the Account or Invoice object itself.';
		END IF;
		/* the body is a hint (Togai signs nothing): the object is read from Togai */
		IF entity = 'invoice' THEN
			RETURN togai_zoho.take_invoice(c, togai_zoho.togai_call(c.name, 'invoice_get',
				jsonb_build_object('invoice_id', obj ->> 'id')))::integer;
		END IF;
		RETURN togai_zoho.take_account(c, togai_zoho.togai_call(c.name, 'account_get',
			jsonb_build_object('account_id', obj ->> 'id')))::integer;
	END IF;

	/* Zoho Books: a workflow rule's body, {"payment": {...}}, {"invoice": ...}, or bare */
	FOREACH key IN ARRAY ARRAY['payment', 'customerpayment', 'customer_payment', 'invoice', 'contact'] LOOP
		obj := togai_zoho.json_object_member(payload, key);
		IF obj IS NOT NULL THEN
			entity := CASE WHEN key LIKE '%payment' THEN 'payment' ELSE key END;
			EXIT;
		END IF;
	END LOOP;
	IF obj IS NULL THEN
		obj := payload;
		entity := CASE WHEN obj ? 'payment_id' THEN 'payment' WHEN obj ? 'invoice_id' THEN 'invoice'
					   WHEN obj ? 'contact_id' THEN 'contact' END;
	END IF;
	IF entity IS NULL OR nullif(obj ->> (entity || '_id'), '') IS NULL THEN
		RAISE EXCEPTION 'the Zoho Books event carries no payment, invoice or contact'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('Keys: %s.', (SELECT string_agg(k, ', ') FROM jsonb_object_keys(obj) k)),
				  HINT = 'Compose the workflow rule''s body as {"payment": {"payment_id": "${CustomerPayment.PaymentID}", ...}}, or send payment_id, invoice_id or contact_id.';
	END IF;
	/* the invoices a payment pays are read from Zoho Books when the event lacks them */
	IF entity = 'payment' AND jsonb_typeof(obj -> 'invoices') IS DISTINCT FROM 'array' THEN
		obj := togai_zoho.zohobooks_call(c.name, 'payment_get',
										 jsonb_build_object('payment_id', obj ->> 'payment_id'));
	END IF;
	RETURN togai_zoho.mirror_inbox(c.id, entity, obj, 'webhook')::integer;
END
$$;
COMMENT ON FUNCTION togai_zoho.receive_webhook(text, jsonb) IS
'Hands in an event pushed by Togai (account or invoice) or Zoho Books (payment, invoice, contact); lands where a poll would put it. Returns 1 when it changed something, 0 for a repeat';

CREATE OR REPLACE FUNCTION togai_zoho.sweep_now(connection text)
	RETURNS void
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	c togai_zoho.connection := togai_zoho.find_connection(sweep_now.connection);
BEGIN
	UPDATE togai_zoho.sync_cursor s
	   SET cursor = (s.cursor::jsonb - 'last_full_walk' - 'next_poll_at')::text, updated_at = now()
	 WHERE s.connection_id = c.id
	   AND (c.app = 'zohobooks' OR s.stream IN ('customers', 'accounts', 'invoices', 'payments'));
END
$$;
COMMENT ON FUNCTION togai_zoho.sweep_now(text) IS
'The next poll of the connection reads every list: in full for Togai (as its daily sweep does), at once for Zoho Books';
REVOKE ALL ON FUNCTION togai_zoho.sweep_now(text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION togai_zoho.set_togai_webhook(connection text, url text)
	RETURNS void
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	c togai_zoho.connection := togai_zoho.find_connection(set_togai_webhook.connection, 'togai');
BEGIN
	IF url IS NOT NULL THEN
		PERFORM togai_zoho.normalize_url(url, 'url');
	END IF;
	UPDATE togai_zoho.connection x
	   SET webhook_url = set_togai_webhook.url,
		   webhook_registered_at = CASE WHEN set_togai_webhook.url IS NOT NULL THEN now() END,
		   updated_at = now()
	 WHERE x.id = c.id;
	IF url IS NULL THEN
		RAISE NOTICE 'togai_zoho: polls of connection "%" no longer count on webhooks', c.name
			USING HINT = 'Remove the "Initiate Webhook" action from the Togai flows if it is still there.';
	ELSE
		RAISE NOTICE 'togai_zoho: polls of connection "%" now read its lists every togai_zoho.poll_sweep', c.name
			USING HINT = 'Togai''s flows must send account and invoice events to the receiver''s /togai/<connection> with the X-Togai-Zoho-Secret header.';
	END IF;
END
$$;
COMMENT ON FUNCTION togai_zoho.set_togai_webhook(text, text) IS
'Records that Togai''s flows send the connection''s account and invoice events to url (the receiver); polls then only sweep (togai_zoho.poll_sweep). NULL: polls go back to every call';
REVOKE ALL ON FUNCTION togai_zoho.set_togai_webhook(text, text) FROM PUBLIC;

/*
 * The money life cycle, first part: payments collected in Togai reach Zoho
 * Books (payment_collected, payment_apply, the payments mirror and its poll
 * streams) and written-off invoices are written off there (invoice_written_off,
 * invoice_write_off), refunded ones get a credit note and a refund
 * (invoice_refunded, invoice_refund) and changed ones are updated
 * (invoice_updated, invoice_update), all in the ready flows; Togai's tax lines
 * become Zoho Books line taxes through the tax mapping (map_tax); invoices and
 * payments in a currency other than the organization's base carry an exchange
 * rate.
 */
INSERT INTO togai_zoho.trigger_def VALUES
	('payment_collected', 'togai', 'payment', 'outbound',
	 'a payment row arrives in payments (poll_togai or your own table); one the extension recorded from Zoho Books does nothing',
	 'A payment is recorded in Togai: collected by its payment gateway or entered by hand'),
	('invoice_written_off', 'togai', 'invoice', 'outbound',
	 'an invoice row arrives in, or moves to, UN_COLLECTIBLE',
	 'A Togai invoice is written off as uncollectible'),
	('invoice_refunded', 'togai', 'invoice', 'outbound',
	 'an invoice row arrives in, or moves to, REFUND_COMPLETED',
	 'A Togai invoice is refunded (Togai keeps no refund object: what was paid on it is refunded)'),
	('invoice_updated', 'togai', 'invoice', 'outbound',
	 'a generated invoice row changes its total_amount or revenue_info and stays generated',
	 'A generated Togai invoice changes: a miscellaneous charge added, or finished late (FINALIZING)');
INSERT INTO togai_zoho.action_def VALUES
	('payment_apply', 'zohobooks', '{payment_collected}',
	 '{"payment_mode": "string", "deposit_account_id": "string"}',
	 'Record a Togai payment in Zoho Books as a customer payment applied to the mapped invoices, once'),
	('invoice_write_off', 'zohobooks', '{invoice_written_off}', '{}',
	 'Write off the balance of the Zoho Books invoice mapped to an uncollectible Togai invoice'),
	('invoice_refund', 'zohobooks', '{invoice_refunded}',
	 '{"refund_mode": "string", "from_account_id": "string"}',
	 'Credit the Zoho Books invoice of a refunded Togai invoice with a credit note of its total (its lines and taxes), apply the credit to what is unpaid and refund what was paid, once'),
	('invoice_update', 'zohobooks', '{invoice_updated}',
	 '{"item_id": "string", "tax_id": "string", "item_account_id": "string",
	   "togai_id_customfield_id": "string", "unmapped_tax": "string"}',
	 'Update the Zoho Books invoice of a changed Togai invoice while nothing is paid, credited or written off on it; after that, say the difference in the job''s result (and money_differences)'),
	('invoice_credits', 'zohobooks', '{invoice_generated}', '{}',
	 'After invoice_create: the prepaid credits applied on the Togai invoice become a Zoho Books credit note applied to its invoice (which then shows the charges before credits), once');
UPDATE togai_zoho.action_def SET options = options || '{"unmapped_tax": "string"}'
 WHERE name = 'invoice_create';
ALTER TABLE togai_zoho.connection
	ADD COLUMN base_currency text CHECK (base_currency ~ '^[A-Z]{3}$');
COMMENT ON COLUMN togai_zoho.connection.base_currency IS 'The organization''s base currency (GET /organizations): invoices and payments in another carry an exchange rate; NULL: not known yet';

CREATE TABLE togai_zoho.tax_mapping (
	zohobooks_connection_id bigint NOT NULL,
	zohobooks_app           text NOT NULL DEFAULT 'zohobooks' CHECK (zohobooks_app = 'zohobooks'),
	togai_tax               text NOT NULL CHECK (togai_tax <> '' AND length(togai_tax) <= 255),
	rate                    numeric CHECK (rate >= 0 AND rate <= 100),
	tax_id                  text NOT NULL CHECK (tax_id <> '' AND length(tax_id) <= 64),
	created_at              timestamptz NOT NULL DEFAULT now(),
	FOREIGN KEY (zohobooks_connection_id, zohobooks_app)
		REFERENCES togai_zoho.connection (id, app) ON DELETE CASCADE
);
COMMENT ON TABLE togai_zoho.tax_mapping IS 'Which Zoho Books tax (tax_id) a Togai tax line is, per Zoho Books connection; set with map_tax()';
COMMENT ON COLUMN togai_zoho.tax_mapping.zohobooks_connection_id IS 'Zoho Books connection (organization)';
COMMENT ON COLUMN togai_zoho.tax_mapping.zohobooks_app IS 'Always zohobooks: lets a foreign key check the connection''s app';
COMMENT ON COLUMN togai_zoho.tax_mapping.togai_tax IS 'The Togai tax: the description of its TAX_AMOUNT lines (case-insensitive)';
COMMENT ON COLUMN togai_zoho.tax_mapping.rate IS 'Its rate in percent, within half a hundredth; NULL: any rate';
COMMENT ON COLUMN togai_zoho.tax_mapping.tax_id IS 'The Zoho Books tax_id (a tax, or a tax group for several Togai taxes on one invoice)';
COMMENT ON COLUMN togai_zoho.tax_mapping.created_at IS 'When the mapping was made';
CREATE UNIQUE INDEX tax_mapping_key ON togai_zoho.tax_mapping
	(zohobooks_connection_id, lower(togai_tax), coalesce(rate, -1));
REVOKE ALL ON togai_zoho.tax_mapping FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('togai_zoho.tax_mapping', '');

/* Maps a Togai tax (and rate) to a Zoho Books tax; tax_id NULL removes the mapping. */
CREATE FUNCTION togai_zoho.map_tax(zohobooks_connection text, togai_tax text, tax_id text,
								   rate numeric DEFAULT NULL)
	RETURNS void
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	c togai_zoho.connection := togai_zoho.find_connection(map_tax.zohobooks_connection, 'zohobooks');
BEGIN
	IF togai_tax IS NULL THEN
		RAISE EXCEPTION 'togai_tax must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF btrim(togai_tax) = '' OR length(togai_tax) > 255 THEN
		RAISE EXCEPTION 'togai_tax must be the name of a Togai tax line, 1 to 255 characters'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF rate < 0 OR rate > 100 THEN
		RAISE EXCEPTION 'rate % is not a percentage', rate
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Pass the rate in percent (20 for 20%), or NULL for any rate.';
	END IF;
	IF tax_id IS NOT NULL AND (tax_id !~ '^[0-9]{1,64}$') THEN
		RAISE EXCEPTION 'tax_id "%" is not a Zoho Books tax id', tax_id
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Zoho Books tax ids are numbers: togai_zoho.zohobooks_call(''<connection>'', ''taxes'') lists them.';
	END IF;
	DELETE FROM togai_zoho.tax_mapping m
	 WHERE m.zohobooks_connection_id = c.id AND lower(m.togai_tax) = lower(btrim(map_tax.togai_tax))
	   AND m.rate IS NOT DISTINCT FROM map_tax.rate;
	IF tax_id IS NOT NULL THEN
		INSERT INTO togai_zoho.tax_mapping (zohobooks_connection_id, togai_tax, rate, tax_id)
		VALUES (c.id, btrim(map_tax.togai_tax), map_tax.rate, map_tax.tax_id);
	END IF;
END
$$;
COMMENT ON FUNCTION togai_zoho.map_tax(text, text, text, numeric) IS
'Maps a Togai tax (the description of its tax lines, and its rate in percent; NULL: any rate) to a Zoho Books tax_id of the connection; tax_id NULL removes the mapping';
REVOKE ALL ON FUNCTION togai_zoho.map_tax(text, text, text, numeric) FROM PUBLIC;

/*
 * The Togai taxes of an invoice row's tree: its TAX_AMOUNT lines (a
 * TOTAL_TAX_AMOUNT without them stands for one tax), each with its amount
 * rounded to the currency and its rate in percent: given in its metadata
 * (rate, taxRate or percentage), else its amount over its base (its
 * quantity, else the taxable lines' sum).
 */
CREATE FUNCTION togai_zoho.invoice_taxes(invoice jsonb, digits integer, base numeric)
	RETURNS jsonb
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
WITH RECURSIVE tree(node) AS (
	SELECT invoice -> 'revenue_info' WHERE jsonb_typeof(invoice -> 'revenue_info') = 'object'
	UNION ALL
	SELECT c FROM tree, jsonb_array_elements(CASE jsonb_typeof(tree.node -> 'lineItems')
											 WHEN 'array' THEN tree.node -> 'lineItems' ELSE '[]' END) c
	 WHERE jsonb_typeof(c) = 'object'
), taxes AS (
	SELECT t.node FROM tree t
	 WHERE t.node ->> 'type' = 'TAX_AMOUNT'
		OR (t.node ->> 'type' = 'TOTAL_TAX_AMOUNT'
			AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(CASE jsonb_typeof(t.node -> 'lineItems')
									WHEN 'array' THEN t.node -> 'lineItems' ELSE '[]' END) c
							 WHERE c ->> 'type' = 'TAX_AMOUNT'))
)
SELECT jsonb_agg(jsonb_build_object(
		'name', coalesce(nullif(btrim(x.node ->> 'description'), ''), 'Tax'),
		'amount', round(togai_zoho.json_numeric(x.node -> 'value'), digits),
		'rate', coalesce(togai_zoho.json_numeric(x.node #> '{metadata,rate}'),
						 togai_zoho.json_numeric(x.node #> '{metadata,taxRate}'),
						 togai_zoho.json_numeric(x.node #> '{metadata,percentage}'),
						 round(togai_zoho.json_numeric(x.node -> 'value') * 100
							   / nullif(coalesce(togai_zoho.json_numeric(x.node -> 'quantity'), base), 0), 2))))
  FROM taxes x
 WHERE togai_zoho.json_numeric(x.node -> 'value') IS NOT NULL
$$;
COMMENT ON FUNCTION togai_zoho.invoice_taxes(jsonb, integer, numeric) IS
'The Togai taxes of an invoice row: [{name, amount, rate}] from its TAX_AMOUNT lines, or NULL when it has none';
REVOKE ALL ON FUNCTION togai_zoho.invoice_taxes(jsonb, integer, numeric) FROM PUBLIC;

/*
 * Zoho Books' rates as jobs read them, per organization, currency and day
 * asked: a billing run of many invoices of one date reads each rate once.  A
 * rate read more than a day ago is read again (someone may have added one).
 */
CREATE TABLE togai_zoho.zohobooks_exchange_rate (
	connection_id  bigint NOT NULL REFERENCES togai_zoho.connection (id) ON DELETE CASCADE,
	currency_code  text NOT NULL CHECK (currency_code ~ '^[A-Z]{3}$'),
	day            date NOT NULL,
	rate           numeric CHECK (rate > 0),
	effective_date text CHECK (length(effective_date) <= 64),
	learnt_at      timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (connection_id, currency_code, day)
);
COMMENT ON TABLE togai_zoho.zohobooks_exchange_rate IS
'Zoho Books exchange rates read by jobs, per organization, currency and day (a cache: used for a day after it is read; delete rows to read again)';
COMMENT ON COLUMN togai_zoho.zohobooks_exchange_rate.connection_id IS 'Zoho Books connection (organization)';
COMMENT ON COLUMN togai_zoho.zohobooks_exchange_rate.currency_code IS 'ISO 4217 code of the object''s currency';
COMMENT ON COLUMN togai_zoho.zohobooks_exchange_rate.day IS 'The day asked (the invoice''s or payment''s date)';
COMMENT ON COLUMN togai_zoho.zohobooks_exchange_rate.rate IS 'Zoho Books'' rate for that day or the closest before it; NULL: it has none';
COMMENT ON COLUMN togai_zoho.zohobooks_exchange_rate.effective_date IS 'The date of the rate found, as Zoho Books wrote it';
COMMENT ON COLUMN togai_zoho.zohobooks_exchange_rate.learnt_at IS 'When it was read';
REVOKE ALL ON togai_zoho.zohobooks_exchange_rate FROM PUBLIC;

/*
 * How each Zoho Books connection taxes the invoice: the tax_id on every line
 * (one Zoho Books tax or tax group for all the invoice's Togai taxes), the
 * tax Zoho Books will work out (line by line, rounded half up), the
 * adjustment that keeps the total exact, and the difference from Togai's
 * tax when rounding makes one; or what is not mapped.
 */
CREATE FUNCTION togai_zoho.invoice_tax_plans(lines jsonb, taxes jsonb, total numeric, digits integer,
											 zohobooks_connections bigint[])
	RETURNS jsonb
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT jsonb_object_agg(z.id::text, jsonb_strip_nulls(CASE
		WHEN p.unmapped IS NOT NULL THEN jsonb_build_object('unmapped', p.unmapped)
		WHEN p.tax_ids > 1 THEN jsonb_build_object('unmapped', format(
			'%s together: map each of them to one Zoho Books tax group', p.names))
		ELSE jsonb_build_object('tax_id', p.tax_id, 'tax', l.tax,
			'adjustment', nullif(total - l.sum - l.tax, 0),
			'difference', nullif(p.togai_tax - l.tax, 0)) END))
  FROM unnest(zohobooks_connections) AS z(id)
 CROSS JOIN LATERAL (
	SELECT string_agg(format('%s (%s%%)', t.name, coalesce(t.rate::text, '?')), ', ')
			   FILTER (WHERE m.tax_id IS NULL) AS unmapped,
		   count(DISTINCT m.tax_id) AS tax_ids, min(m.tax_id) AS tax_id,
		   string_agg(t.name, ' + ') AS names, sum(t.rate) AS rate, sum(t.amount) AS togai_tax
	  FROM jsonb_to_recordset(taxes) AS t(name text, amount numeric, rate numeric)
	  LEFT JOIN LATERAL (
		SELECT m.tax_id FROM togai_zoho.tax_mapping m
		 WHERE m.zohobooks_connection_id = z.id AND lower(m.togai_tax) = lower(t.name)
		   AND (m.rate IS NULL OR abs(m.rate - t.rate) < 0.005)
		 ORDER BY m.rate IS NULL LIMIT 1) m ON true) p
 CROSS JOIN LATERAL (
	SELECT coalesce(sum(round(round(x.quantity * x.rate, digits) * p.rate / 100, digits)), 0) AS tax,
		   coalesce(sum(round(x.quantity * x.rate, digits)), 0) AS sum
	  FROM jsonb_to_recordset(lines) AS x(quantity numeric, rate numeric)) l
 WHERE jsonb_array_length(taxes) > 0
$$;
COMMENT ON FUNCTION togai_zoho.invoice_tax_plans(jsonb, jsonb, numeric, integer, bigint[]) IS
'Internal: per Zoho Books connection, the tax_id, tax, adjustment and rounding difference of an invoice''s lines, or the Togai taxes not mapped';
REVOKE ALL ON FUNCTION togai_zoho.invoice_tax_plans(jsonb, jsonb, numeric, integer, bigint[]) FROM PUBLIC;

CREATE FUNCTION togai_zoho.exchange_plans(currency text, day text, togai_rate numeric,
										  zohobooks_connections bigint[])
	RETURNS jsonb
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT jsonb_object_agg(c.id::text, jsonb_strip_nulls(jsonb_build_object(
		'currency', currency, 'base', c.base_currency, 'currency_id', z.currency_id,
		'date', exchange_plans.day,
		'rate', togai_rate, 'source', CASE WHEN togai_rate IS NOT NULL THEN 'Togai' END,
		'cached', CASE WHEN r.day IS NOT NULL THEN jsonb_build_object('rate', r.rate,
															 'date', r.effective_date) END)))
  FROM togai_zoho.connection c
  LEFT JOIN togai_zoho.zohobooks_currency z ON z.connection_id = c.id AND z.currency_code = currency
  LEFT JOIN togai_zoho.zohobooks_exchange_rate r
	ON r.connection_id = c.id AND r.currency_code = currency
   AND r.day = CASE WHEN exchange_plans.day ~ '^\d{4}-\d{2}-\d{2}$' THEN exchange_plans.day::date END
   AND r.learnt_at > now() - interval '1 day' 
 WHERE c.id = ANY (zohobooks_connections) AND c.base_currency IS NOT NULL
   AND currency IS NOT NULL AND c.base_currency <> currency
$$;
COMMENT ON FUNCTION togai_zoho.exchange_plans(text, text, numeric, bigint[]) IS
'Internal: per Zoho Books connection whose base currency differs, what an invoice or payment in currency needs for its exchange rate on day';
REVOKE ALL ON FUNCTION togai_zoho.exchange_plans(text, text, numeric, bigint[]) FROM PUBLIC;

CREATE TABLE togai_zoho.payments (
	connection_id      bigint NOT NULL DEFAULT togai_zoho.default_togai_connection(),
	payment_id         text NOT NULL CHECK (payment_id <> '' AND length(payment_id) <= 255),
	account_id         text NOT NULL CHECK (account_id <> ''),
	currency           text CHECK (currency ~ '^[A-Z]{3}$'),
	total_amount       numeric,
	records            jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(records) = 'array'),
	source_name        text,
	source_type        text,
	transaction_number text,
	description        text,
	paid_at            timestamptz,
	raw                jsonb CHECK (jsonb_typeof(raw) = 'object'),
	mirrored_at        timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (connection_id, payment_id),
	FOREIGN KEY (connection_id) REFERENCES togai_zoho.connection (id) ON DELETE CASCADE
);
COMMENT ON TABLE togai_zoho.payments IS 'Mirror of Togai payments (Payment); an inserted row fires payment_collected';
COMMENT ON COLUMN togai_zoho.payments.connection_id IS 'Togai connection the payment belongs to; defaults to the only Togai connection';
COMMENT ON COLUMN togai_zoho.payments.payment_id IS 'Togai payment id (Payment.id)';
COMMENT ON COLUMN togai_zoho.payments.account_id IS 'Togai account that paid (Payment.accountId)';
COMMENT ON COLUMN togai_zoho.payments.currency IS 'ISO 4217 currency of the payment';
COMMENT ON COLUMN togai_zoho.payments.total_amount IS 'Amount of the payment, exact (Payment.totalAmount)';
COMMENT ON COLUMN togai_zoho.payments.records IS 'What the payment pays (Payment.lineItemRecords): {type INVOICE, CREDIT or WALLET_CREDIT, togaiId, amount, order}';
COMMENT ON COLUMN togai_zoho.payments.source_name IS 'externalPaymentReference.sourceName (Zoho Books for a payment the extension recorded)';
COMMENT ON COLUMN togai_zoho.payments.source_type IS 'externalPaymentReference.sourceType: GATEWAY, CASH, CHEQUE, BANK_TRANSFER or CARD';
COMMENT ON COLUMN togai_zoho.payments.transaction_number IS 'externalPaymentReference.transactionNumber (the Zoho Books payment id for a payment the extension recorded)';
COMMENT ON COLUMN togai_zoho.payments.description IS 'Description of the payment';
COMMENT ON COLUMN togai_zoho.payments.paid_at IS 'When the payment was recorded in Togai (Payment.createdAt)';
COMMENT ON COLUMN togai_zoho.payments.raw IS 'The Togai payment object as received';
COMMENT ON COLUMN togai_zoho.payments.mirrored_at IS 'When the row was first mirrored; leave it to its default: an inserted row mirrored before its transaction began is a restore and enqueues nothing';
CREATE INDEX payments_account_idx ON togai_zoho.payments (connection_id, account_id);
REVOKE ALL ON togai_zoho.payments FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('togai_zoho.payments', '');
CREATE TRIGGER enqueue_sync AFTER UPDATE ON togai_zoho.payments
	FOR EACH ROW EXECUTE FUNCTION togai_zoho.enqueue_sync('payment');
CREATE TRIGGER enqueue_sync_inserted AFTER INSERT ON togai_zoho.payments
	REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION togai_zoho.enqueue_sync('payment');

/*
 * Upserts a Togai Payment object; true when the row changed.  The spec names
 * the reference externalPaymentReferences in a Payment (a single object) and
 * externalPaymentReference in a request: either is read.
 */
CREATE FUNCTION togai_zoho.mirror_payment(connection_id bigint, payment jsonb)
	RETURNS boolean
	LANGUAGE plpgsql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	ref jsonb := coalesce(togai_zoho.json_object_member(payment, 'externalPaymentReferences'),
						  togai_zoho.json_object_member(payment, 'externalPaymentReference'), '{}');
	changed boolean;
BEGIN
	INSERT INTO togai_zoho.payments AS t
		(connection_id, payment_id, account_id, currency, total_amount, records, source_name,
		 source_type, transaction_number, description, paid_at, raw)
	VALUES (mirror_payment.connection_id, payment ->> 'id', payment ->> 'accountId',
			nullif(payment ->> 'currency', ''), togai_zoho.json_numeric(payment -> 'totalAmount'),
			CASE WHEN jsonb_typeof(payment -> 'lineItemRecords') = 'array'
				 THEN payment -> 'lineItemRecords' ELSE '[]' END,
			ref ->> 'sourceName', ref ->> 'sourceType', ref ->> 'transactionNumber',
			payment ->> 'description', togai_zoho.remote_time(payment ->> 'createdAt'), payment)
	ON CONFLICT ON CONSTRAINT payments_pkey DO UPDATE SET
		account_id = EXCLUDED.account_id, currency = EXCLUDED.currency,
		total_amount = EXCLUDED.total_amount, records = EXCLUDED.records,
		source_name = EXCLUDED.source_name, source_type = EXCLUDED.source_type,
		transaction_number = EXCLUDED.transaction_number, description = EXCLUDED.description,
		paid_at = EXCLUDED.paid_at, raw = EXCLUDED.raw
	WHERE t.raw IS DISTINCT FROM EXCLUDED.raw
	RETURNING true INTO changed;
	RETURN coalesce(changed, false);
END
$$;
COMMENT ON FUNCTION togai_zoho.mirror_payment(bigint, jsonb) IS
'Upserts a Togai Payment object into payments; true when the row changed (an inserted row fires payment_collected)';
REVOKE ALL ON FUNCTION togai_zoho.mirror_payment(bigint, jsonb) FROM PUBLIC;

/* Zoho Books' payment mode for Togai's source type. */
CREATE FUNCTION togai_zoho.zohobooks_payment_mode(source_type text)
	RETURNS text
	LANGUAGE sql IMMUTABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT CASE upper(source_type) WHEN 'CASH' THEN 'cash' WHEN 'CHEQUE' THEN 'check'
		   WHEN 'BANK_TRANSFER' THEN 'banktransfer' WHEN 'CARD' THEN 'creditcard'
		   ELSE 'others' END
$$;
COMMENT ON FUNCTION togai_zoho.zohobooks_payment_mode(text) IS
'Zoho Books'' payment_mode for a Togai sourceType (CASH cash, CHEQUE check, BANK_TRANSFER banktransfer, CARD creditcard, GATEWAY and others others)';
REVOKE ALL ON FUNCTION togai_zoho.zohobooks_payment_mode(text) FROM PUBLIC;

/*
 * Where a Togai invoice's invoice_generated job stands: the one on its way
 * (pending, running) first, else the latest dead one; no row when none is
 * either.  Jobs that follow the invoice (a payment, a write-off) wait on it.
 */
CREATE FUNCTION togai_zoho.invoice_job(togai_invoice text, OUT id bigint, OUT state text)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT o.id, o.state FROM togai_zoho.outbox o JOIN togai_zoho.flow f ON f.id = o.flow_id
 WHERE f.trigger = 'invoice_generated' AND o.entity = 'invoice' AND o.source_id = togai_invoice
   AND o.state IN ('pending', 'running', 'dead')
 ORDER BY o.state = 'dead', o.id DESC
 LIMIT 1
$$;
COMMENT ON FUNCTION togai_zoho.invoice_job(text) IS
'Internal: the invoice_generated job of a Togai invoice on its way to Zoho Books (pending or running), else its latest dead one';
REVOKE ALL ON FUNCTION togai_zoho.invoice_job(text) FROM PUBLIC;

/*
 * The account's credit purchases as Zoho Books advances, for the prepaid
 * credits of its invoices: per Zoho Books connection, the customer payments
 * the extension recorded for Togai payments with CREDIT or WALLET_CREDIT
 * records (the ten newest, oldest first); and, while one such payment is
 * still on its way to Zoho Books, what the credits wait for (not for a
 * payment that pays invoices too: it may be waiting for this very invoice).
 */
CREATE FUNCTION togai_zoho.customer_advances(togai_connection_id bigint, account_id text,
											 organizations bigint[])
	RETURNS jsonb
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
WITH bought AS (
	SELECT p.payment_id, p.paid_at,
		   EXISTS (SELECT FROM jsonb_array_elements(p.records) r
				   WHERE upper(r ->> 'type') NOT IN ('CREDIT', 'WALLET_CREDIT')) AS pays_invoices
	  FROM togai_zoho.payments p
	 WHERE p.connection_id = customer_advances.togai_connection_id
	   AND p.account_id = customer_advances.account_id
	   AND EXISTS (SELECT FROM jsonb_array_elements(p.records) r
				   WHERE upper(r ->> 'type') IN ('CREDIT', 'WALLET_CREDIT'))
	 ORDER BY p.paid_at DESC, p.payment_id DESC
	 LIMIT 10)
SELECT jsonb_strip_nulls(jsonb_build_object(
	'advances',
	(SELECT jsonb_object_agg(a.org, a.ids)
	   FROM (SELECT m.zohobooks_connection_id::text AS org,
					jsonb_agg(m.zohobooks_id ORDER BY b.paid_at, b.payment_id) AS ids
			   FROM bought b
			   JOIN togai_zoho.id_mapping m ON m.entity = 'payment' AND m.togai_id = b.payment_id
			  WHERE m.zohobooks_connection_id = ANY (customer_advances.organizations)
			  GROUP BY m.zohobooks_connection_id) a),
	'advance_waiting',
	(SELECT format('credits bought with Togai payment %s are on their way to Zoho Books', b.payment_id)
	   FROM bought b
	   JOIN togai_zoho.outbox o ON o.entity = 'payment' AND o.source_id = b.payment_id
	   JOIN togai_zoho.flow f ON f.id = o.flow_id AND f.trigger = 'payment_collected'
	  WHERE o.state IN ('pending', 'running') AND NOT b.pays_invoices
	  LIMIT 1)))
$$;
COMMENT ON FUNCTION togai_zoho.customer_advances(bigint, text, bigint[]) IS
'Internal: the Zoho Books advances (customer payments) of an account''s credit purchases, per organization, and whether one is still on its way';
REVOKE ALL ON FUNCTION togai_zoho.customer_advances(bigint, text, bigint[]) FROM PUBLIC;

/*
 * What a payment_apply job sends, per Zoho Books connection: the customer
 * payment's body (less the contact, which the job's mappings give), the
 * amounts rounded to the currency's minor unit; whether it is there already
 * (recorded); and the records it cannot apply.  A payment that the extension
 * recorded in Togai from Zoho Books (its transaction number is a Zoho Books
 * payment of the inbox) is an echo, never sent back.
 */
CREATE FUNCTION togai_zoho.togai_payment_context(togai_connection_id bigint, payment jsonb)
	RETURNS jsonb
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	pid text := payment ->> 'payment_id';
	digits integer := togai_zoho.currency_digits(payment ->> 'currency');
	echo text;
	waiting text;
	apply jsonb;
	others jsonb;
	recs jsonb;
	rec record;
	job record;
	blocked text;
	advance numeric;
BEGIN
	SELECT format('recorded in Togai from Zoho Books payment %s: not sent back', i.remote_id) INTO echo
	  FROM togai_zoho.inbox i
	 WHERE i.entity = 'payment' AND i.remote_id = payment ->> 'transaction_number'
	 LIMIT 1;

	/* the records of invoices, each with the Zoho Books invoice it maps to, per connection */
	SELECT jsonb_agg(jsonb_build_object('n', r.n, 'togai_id', r.x ->> 'togaiId',
			'amount', round(togai_zoho.json_numeric(r.x -> 'amount'), digits),
			'zconn', m.zohobooks_connection_id, 'zid', m.zohobooks_id))
	  INTO recs
	  FROM jsonb_array_elements(CASE jsonb_typeof(payment -> 'records') WHEN 'array'
								THEN payment -> 'records' ELSE '[]' END) WITH ORDINALITY AS r(x, n)
	  LEFT JOIN togai_zoho.id_mapping m
		ON m.entity = 'invoice' AND m.togai_connection_id = togai_payment_context.togai_connection_id
	   AND m.togai_id = r.x ->> 'togaiId'
	 WHERE upper(r.x ->> 'type') = 'INVOICE' AND togai_zoho.json_numeric(r.x -> 'amount') > 0;
	recs := coalesce(recs, '[]');

	/*
	 * What the payment puts on the customer's prepaid credits or wallet: a
	 * customer advance in Zoho Books (the part of the payment applied to no
	 * invoice), in each organization the account is in.
	 */
	SELECT round(sum(togai_zoho.json_numeric(r -> 'amount')), digits) INTO advance
	  FROM jsonb_array_elements(CASE jsonb_typeof(payment -> 'records') WHEN 'array'
								THEN payment -> 'records' ELSE '[]' END) r
	 WHERE upper(r ->> 'type') IN ('CREDIT', 'WALLET_CREDIT') AND togai_zoho.json_numeric(r -> 'amount') > 0;

	/*
	 * It waits while an invoice is on its way to Zoho Books or not marked sent
	 * yet; one whose job died stops it (a person retries both), never for ever.
	 */
	FOR rec IN SELECT * FROM jsonb_to_recordset(recs) AS p(togai_id text, zconn bigint, zid text) LOOP
		IF rec.zid IS NULL THEN
			SELECT * INTO job FROM togai_zoho.invoice_job(rec.togai_id);
			waiting := coalesce(waiting, CASE WHEN job.state IN ('pending', 'running')
				THEN format('invoice %s is on its way to Zoho Books', rec.togai_id) END);
			blocked := coalesce(blocked, CASE WHEN job.state = 'dead'
				THEN format('invoice %s did not reach Zoho Books (its job %s is dead): '
							'retry that job, then this one', rec.togai_id, job.id) END);
		ELSIF EXISTS (SELECT 1 FROM togai_zoho.zohobooks_unsent u
					   WHERE u.connection_id = rec.zconn AND u.invoice_id = rec.zid) THEN
			waiting := coalesce(waiting, format('Zoho Books invoice %s is not marked sent yet', rec.zid));
		END IF;
	END LOOP;

	SELECT jsonb_object_agg(z.zconn::text, jsonb_strip_nulls(jsonb_build_object(
			'recorded', (SELECT m.zohobooks_id FROM togai_zoho.id_mapping m
						  WHERE m.entity = 'payment' AND m.togai_id = pid
							AND m.zohobooks_connection_id = z.zconn),
			'unmapped', (SELECT jsonb_agg(p.togai_id ORDER BY p.n)
						   FROM jsonb_to_recordset(recs) AS p(n bigint, togai_id text, zconn bigint, zid text)
						  WHERE p.zid IS NULL OR p.zconn <> z.zconn),
			'body', jsonb_build_object(
				'payment_mode', togai_zoho.zohobooks_payment_mode(payment ->> 'source_type'),
				'amount', z.amount,
				'date', to_char(coalesce(payment ->> 'paid_at', now()::text)::timestamptz
								AT TIME ZONE coalesce(c.time_zone, 'UTC'), 'YYYY-MM-DD'),
				'reference_number', left(pid, 100),
				'description', left(concat_ws(' ', 'Togai payment', pid,
					'(' || nullif(concat_ws(' ', payment ->> 'source_name', payment ->> 'source_type',
											payment ->> 'transaction_number'), '') || ')'), 500),
				'invoices', z.invoices),
			'advance', advance)))
	  INTO apply
	  FROM (SELECT k.zconn, coalesce(i.amount, 0) + coalesce(advance, 0) AS amount,
				   coalesce(i.invoices, '[]') AS invoices
			  FROM (SELECT p.zconn FROM jsonb_to_recordset(recs) AS p(zconn bigint, zid text)
					 WHERE p.zid IS NOT NULL
					UNION
					SELECT m.zohobooks_connection_id FROM togai_zoho.id_mapping m
					 WHERE advance > 0 AND m.entity = 'account'
					   AND m.togai_connection_id = togai_payment_context.togai_connection_id
					   AND m.togai_id = payment ->> 'account_id') k
			  LEFT JOIN LATERAL (
					SELECT sum(p.amount) AS amount,
						   jsonb_agg(jsonb_build_object('invoice_id', p.zid, 'amount_applied', p.amount)
									 ORDER BY p.n) AS invoices
					  FROM jsonb_to_recordset(recs) AS p(n bigint, amount numeric, zconn bigint, zid text)
					 WHERE p.zid IS NOT NULL AND p.zconn = k.zconn) i ON true) z
	  JOIN togai_zoho.connection c ON c.id = z.zconn;

	SELECT jsonb_agg(DISTINCT upper(r ->> 'type')) INTO others
	  FROM jsonb_array_elements(CASE jsonb_typeof(payment -> 'records') WHEN 'array'
								THEN payment -> 'records' ELSE '[]' END) r
	 WHERE upper(r ->> 'type') IS DISTINCT FROM 'INVOICE'
	   AND upper(r ->> 'type') NOT IN ('CREDIT', 'WALLET_CREDIT');
	RETURN jsonb_strip_nulls(jsonb_build_object('echo', echo, 'waiting', waiting, 'blocked', blocked,
		'apply', coalesce(apply, '{}'), 'not_invoices', others));
END
$$;
COMMENT ON FUNCTION togai_zoho.togai_payment_context(bigint, jsonb) IS
'What a payment_apply job sends to each Zoho Books connection for a Togai payment (a payments row), whether it is an echo, and what it waits for';
REVOKE ALL ON FUNCTION togai_zoho.togai_payment_context(bigint, jsonb) FROM PUBLIC;

CREATE OR REPLACE FUNCTION togai_zoho.add_zohobooks_connection(name text, client_id text, client_secret text,
													code text DEFAULT NULL,
													refresh_token text DEFAULT NULL,
													organization_id text DEFAULT NULL,
													region text DEFAULT 'com',
													accounts_url text DEFAULT NULL,
													api_url text DEFAULT NULL)
	RETURNS bigint
	LANGUAGE plpgsql
	SECURITY DEFINER
	-- an error here must not write the statement, which holds secrets, to the server log
	SET log_min_error_statement = panic
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	v_hosts    jsonb;
	v_accounts text;
	v_api      text;
	v_auth     jsonb;
	v_orgs     jsonb;
	v_org      text;
	v_id       bigint;
BEGIN
	PERFORM togai_zoho.check_name('connection name', add_zohobooks_connection.name);
	PERFORM togai_zoho.check_secret('client_id', client_id);
	PERFORM togai_zoho.check_secret('client_secret', client_secret);
	IF (code IS NULL) = (add_zohobooks_connection.refresh_token IS NULL) THEN
		RAISE EXCEPTION 'give either code or refresh_token'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'A grant code comes from the Self Client''s Generate Code tab in Zoho''s API console; '
						 'it is exchanged at once for a refresh token, which is kept.';
	END IF;
	IF code IS NOT NULL THEN
		PERFORM togai_zoho.check_secret('code', code);
	ELSE
		PERFORM togai_zoho.check_secret('refresh_token', add_zohobooks_connection.refresh_token);
	END IF;
	IF organization_id IS NOT NULL THEN
		PERFORM togai_zoho.check_name('organization_id', organization_id);
	END IF;
	v_hosts := togai_zoho.zoho_region_urls(region);
	v_accounts := togai_zoho.normalize_url(coalesce(accounts_url, v_hosts ->> 'accounts_url'), 'accounts_url');
	IF api_url IS NOT NULL THEN
		v_api := togai_zoho.normalize_url(api_url, 'api_url');
	END IF;
	-- before the network call: a grant code works only once
	IF EXISTS (SELECT 1 FROM togai_zoho.connection c WHERE c.name = add_zohobooks_connection.name) THEN
		RAISE EXCEPTION 'connection "%" already exists', add_zohobooks_connection.name
			USING ERRCODE = 'duplicate_object',
				  HINT = 'Pick another name, or drop the old one with togai_zoho.drop_connection().';
	END IF;

	v_auth := togai_zoho.zoho_authorize(v_accounts, v_api, v_hosts ->> 'api_url', client_id,
										client_secret, code, add_zohobooks_connection.refresh_token);
	v_orgs := coalesce(v_auth -> 'organizations', '[]');
	IF organization_id IS NOT NULL THEN
		IF NOT EXISTS (SELECT 1 FROM jsonb_array_elements(v_orgs) o
						WHERE o ->> 'organization_id' = organization_id) THEN
			RAISE EXCEPTION 'organization % is not among those this Zoho account reaches', organization_id
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = (SELECT 'Organizations: ' || coalesce(string_agg(format('%s (%s)',
								o ->> 'organization_id', o ->> 'name'), ', '), 'none') || '.'
								FROM jsonb_array_elements(v_orgs) o);
		END IF;
		v_org := organization_id;
	ELSIF jsonb_array_length(v_orgs) = 1 THEN
		v_org := v_orgs -> 0 ->> 'organization_id';
	ELSIF jsonb_array_length(v_orgs) = 0 THEN
		RAISE EXCEPTION 'this Zoho account has no Zoho Books organization'
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Set up Zoho Books for the account first.';
	ELSE
		RAISE EXCEPTION 'this Zoho account reaches % organizations: choose one', jsonb_array_length(v_orgs)
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = (SELECT 'Generate a new code and pass organization_id => one of: '
								 || string_agg(format('%s (%s)', o ->> 'organization_id', o ->> 'name'), ', ')
								 || '.'
							FROM jsonb_array_elements(v_orgs) o);
	END IF;

	INSERT INTO togai_zoho.connection (name, app, base_url, accounts_url, region, organization_id, client_id,
									   base_currency)
		VALUES (add_zohobooks_connection.name, 'zohobooks', v_auth ->> 'api_url', v_accounts,
				CASE WHEN add_zohobooks_connection.accounts_url IS NULL THEN region END, v_org, client_id,
				(SELECT upper(o ->> 'currency_code') FROM jsonb_array_elements(v_orgs) o
				  WHERE o ->> 'organization_id' = v_org AND o ->> 'currency_code' ~ '^[A-Za-z]{3}$'))
		RETURNING id INTO v_id;
	INSERT INTO togai_zoho.connection_secret (connection_id, client_secret, refresh_token, access_token,
											  access_token_expires_at)
		VALUES (v_id, client_secret, v_auth ->> 'refresh_token', v_auth ->> 'access_token',
				now() + make_interval(secs => (v_auth ->> 'expires_in')::int));
	RETURN v_id;
END
$$;
COMMENT ON FUNCTION togai_zoho.add_zohobooks_connection(text, text, text, text, text, text, text, text, text) IS
'Adds a Zoho Books connection: add_zohobooks_connection(name, client_id, client_secret, code => <self-client grant code> | refresh_token => ..., organization_id, region => ''com'', accounts_url, api_url). Exchanges the code at once; picks the organization when there is one. Returns its id';

CREATE OR REPLACE FUNCTION togai_zoho.zohobooks_paid_unexplained(zohobooks_connection_id bigint, invoice jsonb)
	RETURNS boolean
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT coalesce(bool_or(i.paid_amount IS NULL OR round(i.paid_amount, 2) IS DISTINCT FROM round(
			togai_zoho.json_numeric(invoice -> 'total') - togai_zoho.json_numeric(invoice -> 'balance')
			- coalesce(togai_zoho.json_numeric(invoice -> 'write_off_amount'), 0), 2)), false)
  FROM togai_zoho.id_mapping m
  LEFT JOIN togai_zoho.invoices i ON i.connection_id = m.togai_connection_id AND i.invoice_id = m.togai_id
 WHERE m.entity = 'invoice' AND m.zohobooks_connection_id = zohobooks_paid_unexplained.zohobooks_connection_id
   AND m.zohobooks_id = invoice ->> 'invoice_id'
$$;
COMMENT ON FUNCTION togai_zoho.zohobooks_paid_unexplained(bigint, jsonb) IS
'Internal: whether a synced Zoho Books invoice has money applied that its Togai invoice does not show (its payments are then read); false for an invoice not synced';
REVOKE ALL ON FUNCTION togai_zoho.zohobooks_paid_unexplained(bigint, jsonb) FROM PUBLIC;

/*
 * The prepaid credits applied on a Togai invoice: its TOTAL_CREDITS nodes (or,
 * without one, its SUB_CREDITS), as a positive amount of the currency.
 */
CREATE FUNCTION togai_zoho.invoice_credits(invoice jsonb, digits integer)
	RETURNS numeric
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT round(coalesce(
	(SELECT sum(abs(togai_zoho.json_numeric(n -> 'value')))
	   FROM jsonb_path_query(coalesce(invoice -> 'revenue_info', invoice -> 'revenueInfo', 'null'),
							 'strict $.**? (@.type == "TOTAL_CREDITS")') n),
	(SELECT sum(abs(togai_zoho.json_numeric(n -> 'value')))
	   FROM jsonb_path_query(coalesce(invoice -> 'revenue_info', invoice -> 'revenueInfo', 'null'),
							 'strict $.**? (@.type == "SUB_CREDITS")') n), 0), digits)
$$;
COMMENT ON FUNCTION togai_zoho.invoice_credits(jsonb, integer) IS
'Prepaid credits applied on a Togai invoice row (its TOTAL_CREDITS nodes, else its SUB_CREDITS), positive, rounded to the currency';
REVOKE ALL ON FUNCTION togai_zoho.invoice_credits(jsonb, integer) FROM PUBLIC;

CREATE OR REPLACE FUNCTION togai_zoho.invoice_line_items(invoice jsonb)
	RETURNS jsonb
	LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	currency text := coalesce(invoice ->> 'currency', invoice #>> '{revenue_info,units}');
	digits integer := togai_zoho.currency_digits(currency);
	total numeric := round(coalesce(togai_zoho.json_numeric(invoice -> 'total_amount'), 0), digits);
	nodes jsonb := invoice #> '{revenue_info,lineItems}';
	node jsonb;
	lines jsonb := '[]';
	sum numeric := 0;
	qty numeric;
	rate numeric;
	amount numeric;
	detail text;
	reference text := coalesce(invoice ->> 'sequence_id', invoice ->> 'invoice_id', '');
	taxes jsonb;
BEGIN
	/*
	 * A single total, net or gross node stands for its children; taxes are
	 * beside it (they become line taxes or travel in the adjustment, never
	 * lines).
	 */
	LOOP
		nodes := (SELECT jsonb_agg(e ORDER BY n) FROM jsonb_array_elements(
					  CASE jsonb_typeof(nodes) WHEN 'array' THEN nodes ELSE '[]' END) WITH ORDINALITY AS x(e, n)
				   WHERE e ->> 'type' IS DISTINCT FROM 'TOTAL_TAX_AMOUNT'
					 AND e ->> 'type' IS DISTINCT FROM 'TAX_AMOUNT');
		EXIT WHEN NOT coalesce(jsonb_typeof(nodes) = 'array' AND jsonb_array_length(nodes) = 1
			AND nodes -> 0 ->> 'type' IN ('GRAND_TOTAL_AMOUNT', 'TOTAL_AMOUNT', 'NET_AMOUNT',
										  'GROSS_AMOUNT', 'PRICE_PLAN_AMOUNT', 'SUB_TOTAL_AMOUNT')
			AND jsonb_typeof(nodes -> 0 -> 'lineItems') = 'array'
			AND jsonb_array_length(nodes -> 0 -> 'lineItems') > 0, false);
		nodes := nodes -> 0 -> 'lineItems';
	END LOOP;

	IF jsonb_typeof(nodes) = 'array' THEN
		FOR node IN SELECT e FROM jsonb_array_elements(nodes) e LOOP
			CONTINUE WHEN jsonb_typeof(node) <> 'object'
				OR coalesce(node ->> 'type' IN ('TOTAL_USAGE', 'USAGE_METER_USAGE'), false)
				OR jsonb_typeof(node -> 'value') IS DISTINCT FROM 'number';
			amount := round((node ->> 'value')::numeric, digits);
			/*
			 * credits and discounts travel in the adjustment: Zoho refuses negative
			 * lines (an invoice_credits action turns the credits into a credit note)
			 */
			CONTINUE WHEN amount < 0 OR node ->> 'type' IN ('TOTAL_CREDITS', 'SUB_CREDITS');
			qty := togai_zoho.json_numeric(node -> 'quantity');
			rate := togai_zoho.json_numeric(node -> 'valuePerQuantity');
			SELECT string_agg(format('%s: %s', s ->> 'description',
									 CASE WHEN s ? 'quantity' AND s ? 'valuePerQuantity'
										  THEN format('%s × %s = %s', s ->> 'quantity',
													  s ->> 'valuePerQuantity', s ->> 'value')
										  ELSE s ->> 'value' END), '; ')
			  INTO detail
			  FROM jsonb_array_elements(CASE WHEN jsonb_typeof(node -> 'lineItems') = 'array'
											 THEN node -> 'lineItems' ELSE '[]' END) s
			 WHERE jsonb_typeof(s) = 'object';
			IF qty > 0 AND rate >= 0 AND round(qty * rate, digits) = amount
			   AND togai_zoho.significant_digits(qty) <= 15
			   AND togai_zoho.significant_digits(rate) <= 15 THEN
				lines := lines || jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
					'name', left(coalesce(node ->> 'description', 'Togai line item'), 255),
					'description', detail, 'quantity', qty, 'rate', rate)));
			ELSE
				/* the value is the truth when quantity × rate does not give it */
				lines := lines || jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
					'name', left(coalesce(node ->> 'description', 'Togai line item'), 255),
					'description', coalesce(detail, CASE WHEN qty IS NOT NULL
						THEN format('%s × %s', qty, rate) END),
					'quantity', 1, 'rate', amount)));
			END IF;
			sum := sum + amount;
		END LOOP;
	END IF;

	taxes := togai_zoho.invoice_taxes(invoice, digits, sum);
	IF jsonb_array_length(lines) = 0 THEN
		RETURN jsonb_strip_nulls(jsonb_build_object('lines', jsonb_build_array(jsonb_build_object(
			'name', 'Togai invoice ' || reference, 'quantity', 1, 'rate', greatest(total, 0))),
			'adjustment', CASE WHEN total < 0 THEN total END));
	END IF;
	RETURN jsonb_strip_nulls(jsonb_build_object('lines', lines,
		'adjustment', CASE WHEN total <> sum THEN total - sum END, 'taxes', taxes,
		'credits', nullif(togai_zoho.invoice_credits(invoice, digits), 0)));
END
$$;
COMMENT ON FUNCTION togai_zoho.invoice_line_items(jsonb) IS
'Zoho Books line items of a Togai invoice row, exact: {"lines": [...], "adjustment": n}; the lines plus the adjustment equal the Togai total to the minor unit';

CREATE OR REPLACE FUNCTION togai_zoho.payment_context(zohobooks_connection_id bigint, entity text, object jsonb)
	RETURNS jsonb
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	applied jsonb;
	txn text;
	records jsonb;
	amount numeric;
	unmapped jsonb;
	first_invoice text;
	togai_conn bigint;
	acc text;
	cur text;
	recorded text;
BEGIN
	IF entity = 'payment' THEN
		txn := object ->> 'payment_id';
		applied := CASE WHEN jsonb_typeof(object -> 'invoices') = 'array' THEN object -> 'invoices'
					   ELSE '[]' END;
		SELECT jsonb_agg(jsonb_build_object('togaiId', m.togai_id,
											'amount', togai_zoho.json_numeric(x -> 'amount_applied'),
											'type', 'INVOICE', 'order', n) ORDER BY n)
				 FILTER (WHERE m.togai_id IS NOT NULL),
			   sum(togai_zoho.json_numeric(x -> 'amount_applied')) FILTER (WHERE m.togai_id IS NOT NULL),
			   jsonb_agg(x ->> 'invoice_id') FILTER (WHERE m.togai_id IS NULL),
			   min(m.togai_id), min(m.togai_connection_id)
		  INTO records, amount, unmapped, first_invoice, togai_conn
		  FROM jsonb_array_elements(applied) WITH ORDINALITY AS a(x, n)
		  LEFT JOIN togai_zoho.id_mapping m
			ON m.entity = 'invoice' AND m.zohobooks_connection_id = payment_context.zohobooks_connection_id
		   AND m.zohobooks_id = x ->> 'invoice_id'
		 WHERE jsonb_typeof(x) = 'object' AND togai_zoho.json_numeric(x -> 'amount_applied') > 0;
	ELSE
		/* invoice_paid: what the Togai invoice still owes */
		txn := 'invoice:' || (object ->> 'invoice_id');
		SELECT m.togai_id, m.togai_connection_id,
			   greatest(i.total_amount - coalesce(i.paid_amount, 0), 0)
		  INTO first_invoice, togai_conn, amount
		  FROM togai_zoho.id_mapping m
		  LEFT JOIN togai_zoho.invoices i ON i.connection_id = m.togai_connection_id
										 AND i.invoice_id = m.togai_id
		 WHERE m.entity = 'invoice' AND m.zohobooks_connection_id = payment_context.zohobooks_connection_id
		   AND m.zohobooks_id = object ->> 'invoice_id';
		IF first_invoice IS NOT NULL AND amount > 0 THEN
			records := jsonb_build_array(jsonb_build_object('togaiId', first_invoice, 'amount', amount,
															'type', 'INVOICE', 'order', 1));
		END IF;
	END IF;

	SELECT m.togai_id INTO recorded FROM togai_zoho.id_mapping m
	 WHERE m.entity = 'payment' AND m.zohobooks_connection_id = payment_context.zohobooks_connection_id
	   AND m.zohobooks_id = txn;
	IF recorded IS NULL AND entity = 'payment' THEN
		/* made by payment_apply for a Togai payment (its reference): never sent back */
		SELECT p.payment_id INTO recorded FROM togai_zoho.payments p
		 WHERE p.connection_id = togai_conn AND p.payment_id = object ->> 'reference_number';
	END IF;
	SELECT i.account_id, i.currency INTO acc, cur FROM togai_zoho.invoices i
	 WHERE i.connection_id = togai_conn AND i.invoice_id = first_invoice;
	IF acc IS NULL THEN
		SELECT m.togai_id INTO acc FROM togai_zoho.id_mapping m
		 WHERE m.entity = 'account' AND m.zohobooks_connection_id = payment_context.zohobooks_connection_id
		   AND m.zohobooks_id = object ->> 'customer_id';
	END IF;
	RETURN jsonb_strip_nulls(jsonb_build_object(
		'transaction', txn, 'recorded', recorded, 'account_id', acc,
		'currency', coalesce(nullif(object ->> 'currency_code', ''), cur),
		'amount', amount, 'records', records, 'unmapped', unmapped,
		'skip', CASE WHEN records IS NULL THEN
			CASE WHEN entity = 'payment' THEN 'no invoice of the payment was synced from Togai: nothing to record'
				 ELSE 'the invoice was not synced from Togai, or Togai has it paid already: nothing to record' END
		END));
END
$$;
COMMENT ON FUNCTION togai_zoho.payment_context(bigint, text, jsonb) IS
'Togai account, currency, amount and invoice records of a Zoho Books payment (or paid invoice), from the mappings';

CREATE OR REPLACE FUNCTION togai_zoho.install_default_flows(togai_connection text, zohobooks_connection text)
	RETURNS SETOF text
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	t togai_zoho.connection;
	z togai_zoho.connection;
	d record;
	existing togai_zoho.flow;
	step jsonb;
BEGIN
	t := togai_zoho.find_connection(togai_connection, 'togai');
	z := togai_zoho.find_connection(zohobooks_connection, 'zohobooks');
	FOR d IN
		SELECT * FROM (VALUES
			(1, 'Sync accounts created from Togai to ZohoBooks', 'outbound', t.name, 'account_changed',
			 'A new Togai account becomes a Zoho Books contact, kept up to date; the contact id is written back onto the account',
			 jsonb_build_array(jsonb_build_array(z.name, 'contact_upsert', '{}'::jsonb),
							   jsonb_build_array(t.name, 'account_write_back', '{}'::jsonb))),
			(2, 'Create an invoice in ZohoBooks on Togai invoice', 'outbound', t.name, 'invoice_generated',
			 'When an ongoing Togai invoice is generated, the Zoho Books invoice is created for the account''s contact and marked sent; prepaid credits applied in Togai become a credit note applied to it',
			 jsonb_build_array(jsonb_build_array(z.name, 'invoice_create', '{"mark_sent": true}'::jsonb),
							   jsonb_build_array(z.name, 'invoice_credits', '{}'::jsonb))),
			(3, 'Void the ZohoBooks invoice of a voided Togai invoice', 'outbound', t.name, 'invoice_voided',
			 'A voided Togai invoice voids its Zoho Books invoice',
			 jsonb_build_array(jsonb_build_array(z.name, 'invoice_void', '{}'::jsonb))),
			(4, 'Record ZohoBooks payments in Togai', 'inbound', z.name, 'payment_recorded',
			 'A payment recorded in Zoho Books against synced invoices is recorded in Togai, once',
			 jsonb_build_array(jsonb_build_array(t.name, 'payment_record', '{}'::jsonb))),
			(5, 'Record Togai payments in ZohoBooks', 'outbound', t.name, 'payment_collected',
			 'A payment collected in Togai (its gateway, or entered by hand) is recorded in Zoho Books against the synced invoices, once; one that came from Zoho Books is not sent back',
			 jsonb_build_array(jsonb_build_array(z.name, 'payment_apply', '{}'::jsonb))),
			(6, 'Write off the ZohoBooks invoice of an uncollectible Togai invoice', 'outbound', t.name,
			 'invoice_written_off',
			 'A Togai invoice written off as uncollectible writes off the balance of its Zoho Books invoice',
			 jsonb_build_array(jsonb_build_array(z.name, 'invoice_write_off', '{}'::jsonb))),
			(7, 'Refund the ZohoBooks invoice of a refunded Togai invoice', 'outbound', t.name,
			 'invoice_refunded',
			 'A refunded Togai invoice gets a credit note in Zoho Books: applied to what is unpaid, the paid amount refunded',
			 jsonb_build_array(jsonb_build_array(z.name, 'invoice_refund', '{}'::jsonb))),
			(8, 'Update the ZohoBooks invoice of a changed Togai invoice', 'outbound', t.name,
			 'invoice_updated',
			 'A generated Togai invoice that changes (a charge added, finished late) updates its Zoho Books invoice while nothing is paid on it; after that the difference is said in the job''s result',
			 jsonb_build_array(jsonb_build_array(z.name, 'invoice_update', '{}'::jsonb)))
		) AS v(n, name, direction, source, trigger, description, actions)
		ORDER BY n
	LOOP
		SELECT * INTO existing FROM togai_zoho.flow f WHERE f.name = d.name;
		IF FOUND THEN
			IF existing.trigger_connection_id <> (togai_zoho.find_connection(d.source)).id THEN
				RAISE EXCEPTION 'flow "%" exists already, for another connection', d.name
					USING ERRCODE = 'duplicate_object',
						  HINT = 'Drop or rename it (drop_flow) to install the ready flows for these connections.';
			END IF;
			RAISE NOTICE 'flow "%" exists already: left as it is', d.name;
			RETURN NEXT d.name;
			CONTINUE;
		END IF;
		PERFORM togai_zoho.create_flow(d.name, d.direction, d.source, d.trigger, d.description);
		FOR step IN SELECT e FROM jsonb_array_elements(d.actions) e LOOP
			PERFORM togai_zoho.add_flow_action(d.name, step ->> 0, step ->> 1, step -> 2);
		END LOOP;
		PERFORM togai_zoho.set_flow_enabled(d.name, true);
		RETURN NEXT d.name;
	END LOOP;
END
$$;
COMMENT ON FUNCTION togai_zoho.install_default_flows(text, text) IS
'Creates and enables the ready flows (accounts to contacts with write-back, generated invoices, voided invoices, Zoho Books payments to Togai, Togai payments to Zoho Books, write-offs, refunds, invoice updates) for a Togai and a Zoho Books connection; returns their names';

CREATE VIEW togai_zoho.money_differences AS
SELECT t.name AS togai_connection, z.name AS zohobooks_connection,
	   i.invoice_id AS togai_invoice, i.sequence_id AS togai_number, m.zohobooks_id AS zohobooks_invoice,
	   i.status AS togai_status, x.status AS zohobooks_status, i.currency,
	   i.total_amount AS togai_total, togai_zoho.json_numeric(x.payload -> 'total') AS zohobooks_total,
	   d.togai_owed, d.zohobooks_balance, d.zohobooks_balance - d.togai_owed AS difference,
	   i.mirrored_at AS togai_read_at, x.received_at AS zohobooks_first_read_at,
	   x.remote_modified_at AS zohobooks_modified_at
  FROM togai_zoho.id_mapping m
  JOIN togai_zoho.invoices i ON i.connection_id = m.togai_connection_id AND i.invoice_id = m.togai_id
  JOIN togai_zoho.inbox x ON x.connection_id = m.zohobooks_connection_id AND x.entity = 'invoice'
						  AND x.remote_id = m.zohobooks_id
  JOIN togai_zoho.connection t ON t.id = m.togai_connection_id
  JOIN togai_zoho.connection z ON z.id = m.zohobooks_connection_id
 CROSS JOIN LATERAL (
	SELECT CASE WHEN i.status IN ('UN_COLLECTIBLE', 'VOID', 'REFUND_COMPLETED') THEN 0
				ELSE round(i.total_amount - coalesce(i.paid_amount, 0), togai_zoho.currency_digits(i.currency))
		   END AS togai_owed,
		   CASE WHEN x.status = 'void' THEN 0
				ELSE round(togai_zoho.json_numeric(x.payload -> 'balance'), togai_zoho.currency_digits(i.currency))
		   END AS zohobooks_balance) d
 WHERE m.entity = 'invoice'
   AND (d.togai_owed IS DISTINCT FROM d.zohobooks_balance
		/* with its prepaid credits as a credit note, the Zoho Books total is before credits */
		OR coalesce(round(togai_zoho.json_numeric(x.payload -> 'total'), togai_zoho.currency_digits(i.currency))
		   NOT IN (round(i.total_amount, togai_zoho.currency_digits(i.currency)),
				   round(i.total_amount, togai_zoho.currency_digits(i.currency))
				   + togai_zoho.invoice_credits(jsonb_build_object('revenue_info', i.revenue_info),
												togai_zoho.currency_digits(i.currency))), true));
COMMENT ON VIEW togai_zoho.money_differences IS 'Synced invoices whose total (before or after prepaid credits) or amount owed differs between Togai and Zoho Books, as each side was last read';
COMMENT ON COLUMN togai_zoho.money_differences.togai_connection IS 'Togai connection name';
COMMENT ON COLUMN togai_zoho.money_differences.zohobooks_connection IS 'Zoho Books connection name';
COMMENT ON COLUMN togai_zoho.money_differences.togai_invoice IS 'Togai invoice id';
COMMENT ON COLUMN togai_zoho.money_differences.togai_number IS 'Togai invoice number (sequenceId)';
COMMENT ON COLUMN togai_zoho.money_differences.zohobooks_invoice IS 'Zoho Books invoice id';
COMMENT ON COLUMN togai_zoho.money_differences.togai_status IS 'Togai status';
COMMENT ON COLUMN togai_zoho.money_differences.zohobooks_status IS 'Zoho Books status';
COMMENT ON COLUMN togai_zoho.money_differences.currency IS 'Currency of both amounts';
COMMENT ON COLUMN togai_zoho.money_differences.togai_total IS 'Togai total';
COMMENT ON COLUMN togai_zoho.money_differences.zohobooks_total IS 'Zoho Books total';
COMMENT ON COLUMN togai_zoho.money_differences.togai_owed IS 'Still owed in Togai: total less paid (0 written off, voided or refunded)';
COMMENT ON COLUMN togai_zoho.money_differences.zohobooks_balance IS 'Still owed in Zoho Books: its balance (0 voided)';
COMMENT ON COLUMN togai_zoho.money_differences.difference IS 'zohobooks_balance less togai_owed';
COMMENT ON COLUMN togai_zoho.money_differences.togai_read_at IS 'When the Togai invoice was last changed in the mirror';
COMMENT ON COLUMN togai_zoho.money_differences.zohobooks_first_read_at IS 'When the Zoho Books invoice first reached the inbox';
COMMENT ON COLUMN togai_zoho.money_differences.zohobooks_modified_at IS 'Zoho Books last_modified_time as last read';

REVOKE ALL ON togai_zoho.money_differences FROM PUBLIC;

/*
 * identity.sql
 *	  Which copy of the data delivers: the cluster (system identifier), its
 *	  history (timeline) and the database the outbox was written in.
 *
 * A standby promoted, or a cluster recovered to a point in time, starts a new
 * timeline: what the old history sent may be missing here, so every
 * unfinished job is marked as possibly made and, for a while, new jobs look
 * for their objects before creating them too.  Delivery goes on by itself.
 * A copy in another cluster or database (a dump restored, a database made
 * from this one as a template, a pg_upgrade) may run beside the original: it
 * delivers nothing until take_over_delivery() says it is now the one.  A
 * physical copy keeps the system identifier: recovered to a point in time it
 * is a new timeline, started with no recovery it looks like the original.
 */

CREATE FUNCTION togai_zoho.cluster_identity(OUT system_identifier text, OUT timeline integer,
											OUT database_oid oid)
	RETURNS record
	LANGUAGE C
	VOLATILE
	AS 'MODULE_PATHNAME', 'cluster_identity';
COMMENT ON FUNCTION togai_zoho.cluster_identity() IS
'This cluster''s system identifier, the timeline it writes (NULL on a standby), and this database''s oid';

CREATE TABLE togai_zoho.delivery_identity (
	system_identifier text NOT NULL,
	timeline          integer NOT NULL,
	database_oid      oid NOT NULL,
	since             timestamptz NOT NULL DEFAULT now(),
	look_first_until  timestamptz
);
COMMENT ON TABLE togai_zoho.delivery_identity IS
'The copy of this data that delivers: one row, this cluster and database; any other row means a copy, which delivers nothing until take_over_delivery()';
COMMENT ON COLUMN togai_zoho.delivery_identity.system_identifier IS 'The cluster''s system identifier (pg_control_system())';
COMMENT ON COLUMN togai_zoho.delivery_identity.timeline IS 'The timeline delivery last ran on; a new one (a promotion, a point-in-time recovery) marks unfinished jobs as possibly made';
COMMENT ON COLUMN togai_zoho.delivery_identity.database_oid IS 'The database the outbox was written in';
COMMENT ON COLUMN togai_zoho.delivery_identity.since IS 'When this identity began delivering';
COMMENT ON COLUMN togai_zoho.delivery_identity.look_first_until IS 'Until then every create looks for its object first (after a new timeline or a take-over)';
INSERT INTO togai_zoho.delivery_identity (system_identifier, timeline, database_oid)
	SELECT i.system_identifier, i.timeline, i.database_oid FROM togai_zoho.cluster_identity() i;
/* dumped, so that a restored copy finds it was not written here */
SELECT pg_catalog.pg_extension_config_dump('togai_zoho.delivery_identity', '');

/* Why this database must not deliver, or NULL.  Reads only. */
CREATE FUNCTION togai_zoho.delivery_held()
	RETURNS text
	LANGUAGE plpgsql
	STABLE
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	cur record;
	other togai_zoho.delivery_identity;
BEGIN
	SELECT * INTO cur FROM togai_zoho.cluster_identity();
	SELECT * INTO other FROM togai_zoho.delivery_identity d
	 WHERE d.system_identifier <> cur.system_identifier OR d.database_oid <> cur.database_oid
	 ORDER BY d.since LIMIT 1;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	RETURN format('this database is a copy: its outbox was written by database %s of cluster %s, '
				  'and this is database %s of cluster %s',
				  other.database_oid, other.system_identifier, cur.database_oid, cur.system_identifier);
END
$$;
COMMENT ON FUNCTION togai_zoho.delivery_held() IS
'Why delivery is held here (this database is a copy of another), or NULL when it may deliver';

/*
 * The delivery's look before it claims (the worker and process_outbox()'s
 * helper, in the transaction of their first claim): held when this is a
 * copy; after a new timeline, every unfinished job marked as possibly made,
 * committed with that claim, before any call.  look_first: new jobs look
 * first too, for now.
 */
CREATE FUNCTION togai_zoho.delivery_identity_check(OUT held text, OUT look_first boolean)
	RETURNS record
	LANGUAGE plpgsql
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	cur record;
	mine togai_zoho.delivery_identity;
	marked bigint;
	old_timeline integer;
BEGIN
	held := togai_zoho.delivery_held();
	look_first := false;
	IF held IS NOT NULL THEN
		RETURN;
	END IF;
	SELECT * INTO cur FROM togai_zoho.cluster_identity();
	SELECT * INTO mine FROM togai_zoho.delivery_identity;
	IF NOT FOUND THEN
		/* the row was deleted by hand: this database delivers from now on */
		INSERT INTO togai_zoho.delivery_identity (system_identifier, timeline, database_oid)
			VALUES (cur.system_identifier, cur.timeline, cur.database_oid);
		RETURN;
	END IF;
	IF mine.timeline <> cur.timeline THEN
		/* locked, and read again: one process marks the jobs */
		SELECT * INTO mine FROM togai_zoho.delivery_identity FOR UPDATE;
		IF mine.timeline <> cur.timeline THEN
			old_timeline := mine.timeline;
			UPDATE togai_zoho.outbox SET may_exist = true WHERE NOT may_exist AND state <> 'done';
			GET DIAGNOSTICS marked = ROW_COUNT;
			UPDATE togai_zoho.delivery_identity
			   SET timeline = cur.timeline, since = now(),
				   look_first_until = now() + pg_catalog.current_setting('togai_zoho.look_first_after_failover')::interval
			RETURNING * INTO mine;
			RAISE LOG 'togai_zoho: delivering on timeline % (was %): % unfinished jobs look for their objects first',
				cur.timeline, old_timeline, marked;
		END IF;
	END IF;
	look_first := mine.look_first_until > now();
END
$$;
COMMENT ON FUNCTION togai_zoho.delivery_identity_check() IS
'Internal: run by the delivery before it claims; held when this database is a copy, and after a new timeline marks unfinished jobs as possibly made';

CREATE FUNCTION togai_zoho.take_over_delivery(look_first interval DEFAULT '1 hour')
	RETURNS jsonb
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	cur record;
	was jsonb;
	marked bigint;
BEGIN
	IF take_over_delivery.look_first IS NULL THEN
		RAISE EXCEPTION 'look_first must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF take_over_delivery.look_first < interval '0' THEN
		RAISE EXCEPTION 'look_first must be a non-negative interval' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT * INTO cur FROM togai_zoho.cluster_identity();
	IF cur.timeline IS NULL THEN
		RAISE EXCEPTION 'a standby cannot take over delivery'
			USING ERRCODE = 'read_only_sql_transaction', HINT = 'Promote it first.';
	END IF;
	LOCK TABLE togai_zoho.delivery_identity IN EXCLUSIVE MODE;
	SELECT coalesce(jsonb_agg(jsonb_build_object('system_identifier', d.system_identifier,
												 'timeline', d.timeline, 'database_oid', d.database_oid,
												 'since', d.since) ORDER BY d.since), '[]')
	  INTO was FROM togai_zoho.delivery_identity d;
	DELETE FROM togai_zoho.delivery_identity;
	INSERT INTO togai_zoho.delivery_identity (system_identifier, timeline, database_oid, look_first_until)
		VALUES (cur.system_identifier, cur.timeline, cur.database_oid, now() + take_over_delivery.look_first);
	/* what the original sent after this copy was made is not recorded here */
	UPDATE togai_zoho.outbox SET may_exist = true WHERE NOT may_exist AND state <> 'done';
	GET DIAGNOSTICS marked = ROW_COUNT;
	PERFORM togai_zoho.notify_worker();
	RETURN jsonb_build_object('jobs_marked', marked, 'look_first_until', now() + take_over_delivery.look_first,
							  'was', was);
END
$$;
COMMENT ON FUNCTION togai_zoho.take_over_delivery(interval) IS
'Makes this database the one that delivers (after a restore, a copy or a pg_upgrade, once the original delivers no more): unfinished jobs, and for look_first every new job, look for their objects before creating them';

REVOKE ALL ON togai_zoho.delivery_identity FROM PUBLIC;
REVOKE ALL ON FUNCTION togai_zoho.cluster_identity(), togai_zoho.delivery_held(),
	togai_zoho.delivery_identity_check(), togai_zoho.take_over_delivery(interval) FROM PUBLIC;

/*
 * unique_fields.sql
 *	  Creates Zoho Books makes idempotent: an upsert by a unique custom field.
 *
 * Zoho Books finds a contact, invoice, customer payment or credit note by a
 * custom field marked "do not allow duplicate values", named by its API name
 * in X-Unique-Identifier-Key with the value in X-Unique-Identifier-Value;
 * with X-Upsert: true it makes the object when none holds the value.  With
 * such a field holding the Togai id, a create sent twice leaves one object,
 * whatever became of the first answer.  An admin makes the field in Zoho
 * Books (Settings, Preferences, the module, Field Customization); the field
 * is set up here per connection and entity, after a probe that asks Zoho
 * whether it finds objects by it.  Without it every create is a plain one,
 * found again by the reference the finder reads (see doc/togai_zoho.md).
 */

CREATE TABLE togai_zoho.zohobooks_unique_field (
	zohobooks_connection_id bigint NOT NULL,
	zohobooks_app           text NOT NULL DEFAULT 'zohobooks' CHECK (zohobooks_app = 'zohobooks'),
	entity                  text NOT NULL CHECK (entity IN ('contact', 'invoice', 'payment', 'credit_note')),
	api_name                text NOT NULL CHECK (api_name ~ '^cf_[A-Za-z0-9_]{1,100}$'),
	body_field              text NOT NULL CHECK (body_field <> '' AND length(body_field) <= 100),
	probe                   jsonb NOT NULL,
	checked_at              timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (zohobooks_connection_id, entity),
	FOREIGN KEY (zohobooks_connection_id, zohobooks_app)
		REFERENCES togai_zoho.connection (id, app) ON DELETE CASCADE
);
COMMENT ON TABLE togai_zoho.zohobooks_unique_field IS
'The unique custom field each kind of Zoho Books object is upserted by, per connection; set with set_zohobooks_unique_field()';
COMMENT ON COLUMN togai_zoho.zohobooks_unique_field.zohobooks_connection_id IS 'Zoho Books connection (organization)';
COMMENT ON COLUMN togai_zoho.zohobooks_unique_field.zohobooks_app IS 'Always zohobooks: lets a foreign key check the connection''s app';
COMMENT ON COLUMN togai_zoho.zohobooks_unique_field.entity IS 'contact, invoice, payment or credit_note';
COMMENT ON COLUMN togai_zoho.zohobooks_unique_field.api_name IS 'The field''s API name (cf_...), sent as X-Unique-Identifier-Key';
COMMENT ON COLUMN togai_zoho.zohobooks_unique_field.body_field IS 'How a create body names the field: contacts its index (1 to 10) or label, invoices and credit notes its customfield_id, payments its customfield_id or label';
COMMENT ON COLUMN togai_zoho.zohobooks_unique_field.probe IS 'What Zoho Books answered to the probe when the field was set up';
COMMENT ON COLUMN togai_zoho.zohobooks_unique_field.checked_at IS 'When the probe was answered';
REVOKE ALL ON togai_zoho.zohobooks_unique_field FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('togai_zoho.zohobooks_unique_field', '');

CREATE FUNCTION togai_zoho.zohobooks_unique_field_probe(connection text, entity text, api_name text)
	RETURNS jsonb
	LANGUAGE C
	AS 'MODULE_PATHNAME', 'zohobooks_unique_field_probe';
COMMENT ON FUNCTION togai_zoho.zohobooks_unique_field_probe(text, text, text) IS
'Internal: one call asking Zoho Books for the object of that entity whose field holds a value nobody holds, without X-Upsert; {"usable": true} when Zoho finds objects by the field';

/*
 * Sets up (or, with api_name NULL, stops) the upsert of an entity's creates
 * at a Zoho Books connection.  One probe call; nothing is made at Zoho.
 */
CREATE FUNCTION togai_zoho.set_zohobooks_unique_field(zohobooks_connection text, entity text,
													  api_name text, body_field text DEFAULT NULL)
	RETURNS jsonb
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
DECLARE
	c      togai_zoho.connection := togai_zoho.find_connection(set_zohobooks_unique_field.zohobooks_connection,
															   'zohobooks');
	e      text := set_zohobooks_unique_field.entity;
	f      text := btrim(set_zohobooks_unique_field.body_field);
	by_id  boolean;
	probe  jsonb;
BEGIN
	IF e IS NULL THEN
		RAISE EXCEPTION 'entity must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF e NOT IN ('contact', 'invoice', 'payment', 'credit_note') THEN
		RAISE EXCEPTION 'Zoho Books upserts no "%"', e
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'The entities are contact, invoice, payment and credit_note.';
	END IF;
	IF set_zohobooks_unique_field.api_name IS NULL THEN
		DELETE FROM togai_zoho.zohobooks_unique_field u
		 WHERE u.zohobooks_connection_id = c.id AND u.entity = e;
		RETURN jsonb_build_object('connection', c.name, 'entity', e, 'upsert', false,
								  'removed', FOUND);
	END IF;
	IF set_zohobooks_unique_field.api_name !~ '^cf_[A-Za-z0-9_]{1,100}$' THEN
		RAISE EXCEPTION '"%" is not the API name of a Zoho Books custom field',
				set_zohobooks_unique_field.api_name
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Zoho Books shows it beside the field in Settings, Preferences, the module, '
						 'Field Customization: cf_ and the label, like cf_togai_id.';
	END IF;
	IF f IS NULL OR f = '' THEN
		RAISE EXCEPTION 'body_field must name the field as a % body does', replace(e, '_', ' ')
			USING ERRCODE = 'null_value_not_allowed',
				  HINT = CASE e WHEN 'contact' THEN 'Contacts name a custom field by its index (1 to 10) or label.'
								WHEN 'payment' THEN 'Payments name a custom field by its customfield_id or label.'
								ELSE 'Invoices and credit notes name a custom field by its customfield_id '
									 '(a number: GET /invoices/{id} shows it among custom_fields).' END;
	END IF;
	by_id := f ~ '^[0-9]{1,64}$';
	/* a contact's number is an index */
	IF length(f) > 100 OR (e = 'contact' AND by_id AND f !~ '^([1-9]|10)$')
	   OR (e IN ('invoice', 'credit_note') AND NOT by_id) THEN
		RAISE EXCEPTION '"%" does not name a custom field of a Zoho Books %', f, replace(e, '_', ' ')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = CASE e WHEN 'contact' THEN 'Contacts name a custom field by its index (1 to 10) or label.'
								ELSE 'Invoices and credit notes name a custom field by its customfield_id, a number.' END;
	END IF;
	probe := togai_zoho.zohobooks_unique_field_probe(c.name, e, set_zohobooks_unique_field.api_name);
	IF NOT (probe ->> 'usable')::boolean THEN
		RAISE EXCEPTION 'Zoho Books does not find % objects by %', replace(e, '_', ' '),
				set_zohobooks_unique_field.api_name
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('Asked for the object whose field holds a value nobody holds, it answered HTTP %s%s: %s',
								  probe ->> 'http_status', coalesce(', code ' || (probe ->> 'code'), ''),
								  coalesce(probe ->> 'message', 'no message')),
				  HINT = 'The field must be a custom field of that module marked "Do not allow duplicate values".';
	END IF;
	INSERT INTO togai_zoho.zohobooks_unique_field AS u
		(zohobooks_connection_id, entity, api_name, body_field, probe)
	VALUES (c.id, e, set_zohobooks_unique_field.api_name, f, probe - 'usable')
	ON CONFLICT ON CONSTRAINT zohobooks_unique_field_pkey DO UPDATE
	   SET api_name = excluded.api_name, body_field = excluded.body_field, probe = excluded.probe,
		   checked_at = now();
	RETURN jsonb_build_object('connection', c.name, 'entity', e, 'upsert', true,
							  'api_name', set_zohobooks_unique_field.api_name, 'body_field', f,
							  'probe', probe - 'usable');
END
$$;
COMMENT ON FUNCTION togai_zoho.set_zohobooks_unique_field(text, text, text, text) IS
'Makes the creates of an entity (contact, invoice, payment, credit_note) at a Zoho Books connection upserts by a unique custom field holding the Togai id: api_name (cf_...) and body_field (how a create body names the field), checked with one probe call; api_name NULL goes back to plain creates';

/* What job_context() adds for the creates: {"unique_fields": {connection id: {entity: field}}}, or {}. */
CREATE FUNCTION togai_zoho.zohobooks_unique_fields()
	RETURNS jsonb
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, togai_zoho, pg_temp
	AS $$
SELECT CASE WHEN count(*) = 0 THEN '{}'::jsonb
			ELSE jsonb_build_object('unique_fields', jsonb_object_agg(x.id, x.fields)) END
  FROM (SELECT u.zohobooks_connection_id::text AS id,
			   jsonb_object_agg(u.entity, jsonb_build_object('api_name', u.api_name,
															 'body_field', u.body_field)) AS fields
		  FROM togai_zoho.zohobooks_unique_field u
		 GROUP BY u.zohobooks_connection_id) x
$$;
COMMENT ON FUNCTION togai_zoho.zohobooks_unique_fields() IS
'Internal: the unique custom fields of every Zoho Books connection, as job_context() gives them to the creates';

REVOKE ALL ON FUNCTION togai_zoho.zohobooks_unique_field_probe(text, text, text),
	togai_zoho.set_zohobooks_unique_field(text, text, text, text), togai_zoho.zohobooks_unique_fields()
	FROM PUBLIC;

COMMENT ON FUNCTION togai_zoho.zohobooks_call(text, text, jsonb) IS
'Owner only: runs one Zoho Books client operation by name (an unknown name lists them all; contact_find and invoice_find look an object up as delivery does) with its arguments in args, and returns the remote object; the upserts (contact_upsert, invoice_upsert, payment_upsert, credit_note_upsert) take unique_key (the field''s API name), unique_value and upsert (true: make the object when none holds the value)';
