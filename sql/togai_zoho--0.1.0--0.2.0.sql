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
