BEGIN;
-- The heartbeat's cursors and the event stream's horizon read the next batch of events
-- after an id, over and over. Without fresh statistics (a new deployment, a burst,
-- autovacuum off or behind) the planner guesses that a third of the table lies past any
-- id and reads all of it, then sorts it, for a batch of a few thousand at the end: on
-- every heartbeat, and on every poll while a console has the event stream open. Pinned
-- here, as opsloop_pick_steps is (011), to a walk of the primary key that stops at p_limit.
CREATE FUNCTION opsloop_events_after(p_after bigint, p_limit integer)
RETURNS SETOF ops_events
LANGUAGE sql
STABLE
ROWS 1000
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_sort = off
-- The penalties above would otherwise push the cost past jit_above_cost.
SET jit = off
AS $$
  SELECT * FROM ops_events WHERE id > p_after ORDER BY id LIMIT p_limit
$$;
COMMIT;
