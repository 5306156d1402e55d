BEGIN;
-- The claim walks queued steps of each requested kind in (run_after, id) order and stops
-- after `max`: cost proportional to what it takes, not to the depth of the queue.
CREATE INDEX ops_mission_steps_queue_idx ON ops_mission_steps (kind, run_after, id) WHERE status = 'queued';
DROP INDEX ops_mission_steps_claim_idx;

-- Picks and locks up to p_max claimable steps of the given kinds, oldest run_after first.
-- A function only to pin its plan: without fresh statistics (a burst of inserts, or
-- autovacuum off) the planner estimates one queued row and prefers a bitmap scan plus a
-- sort of EVERY queued row (15 ms at 20k queued). The SET clauses price those plans out,
-- so each kind is read as an ordered index scan that stops at p_max whatever the
-- statistics say. Rows are locked FOR UPDATE SKIP LOCKED, as before, in the caller's
-- statement; at most p_max per kind are locked, and the surplus is released at commit.
CREATE FUNCTION opsloop_pick_steps(p_kinds text[], p_now timestamptz, p_max integer)
RETURNS TABLE (id uuid)
LANGUAGE plpgsql
-- Callers ask for a few dozen rows; the default estimate (1000) misleads their plans.
ROWS 20
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_sort = off
-- The penalties above would otherwise push the cost past jit_above_cost: JIT-compiling
-- a sub-millisecond query costs 200 ms.
SET jit = off
AS $$
BEGIN
  RETURN QUERY
  SELECT c.id FROM unnest(p_kinds) AS k(kind)
  CROSS JOIN LATERAL (
    SELECT s.id, s.run_after FROM ops_mission_steps s
    WHERE s.status = 'queued' AND s.kind = k.kind AND s.run_after <= p_now
    ORDER BY s.run_after, s.id
    LIMIT p_max
    FOR UPDATE SKIP LOCKED
  ) c
  ORDER BY c.run_after, c.id
  LIMIT p_max;
END
$$;
COMMIT;
