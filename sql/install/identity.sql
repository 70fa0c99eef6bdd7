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
