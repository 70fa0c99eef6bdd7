-- The catalogue of triggers and actions
SELECT app, trigger, direction, entity, description FROM togai_zoho.available_triggers ORDER BY app DESC, trigger;
SELECT app, action, after_triggers, options FROM togai_zoho.available_actions ORDER BY app DESC, action;
-- every action follows a trigger that exists
SELECT a.action, t AS unknown_trigger
  FROM togai_zoho.available_actions a, unnest(a.after_triggers) t
 WHERE NOT EXISTS (SELECT 1 FROM togai_zoho.available_triggers x WHERE x.trigger = t);

-- sync_status and dead_jobs over a known outbox
DELETE FROM togai_zoho.outbox;
UPDATE togai_zoho.customers SET name = name || ' (edited)' WHERE account_id IN ('acc.1', 'acc.2', 'acc.3');
-- (staged jobs, written to the outbox by process_outbox)
SELECT togai_zoho.process_outbox(0);
UPDATE togai_zoho.outbox SET state = 'done', finished_at = now()
 WHERE source_id = 'acc.1' AND flow_id = (SELECT id FROM togai_zoho.flow WHERE name = 'Sync accounts created from Togai to ZohoBooks');
UPDATE togai_zoho.outbox SET state = 'dead', finished_at = now(), attempts = 1, last_http_status = 400,
	   last_error = 'Zoho Books 400 (code 3062): The customer "Beta GmbH" already exists.'
 WHERE source_id = 'acc.2';
SELECT flow, trigger, enabled, pending, running, done, dead, oldest_due_age IS NOT NULL AS has_due,
	   last_delivered_at IS NOT NULL AS delivered, last_error
  FROM togai_zoho.sync_status ORDER BY flow;
SELECT flow, entity, source_id, step, attempts, last_http_status, last_error, payload ->> 'name' AS name
  FROM togai_zoho.dead_jobs;
SELECT name, direction, trigger, enabled, actions FROM togai_zoho.flows ORDER BY id;
