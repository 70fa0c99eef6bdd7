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
