BEGIN;
-- The claim (claimSteps.ts) as a function, for the same reason as opsloop_pick_steps: a
-- plan that does not depend on the tables' size or statistics. As a prepared statement,
-- each pool connection kept the generic plan it made at its sixth claim; made while the
-- tables were small (a new deployment), that plan updates the picked steps and their
-- missions by sequential scan, and keeps doing so as the tables grow until an ANALYZE
-- invalidates it: 12 ms a claim at 50k steps instead of 0.4 ms, and never fixed where
-- autovacuum is off. With sequential scans priced out, the only plan is a primary-key
-- lookup per row, made once per connection (force_generic_plan), at any size.
--
-- The caller resolves the policy (the kill switch as p_max = 0, the lease length), so
-- the policy's rules stay in one place, the policy reader's module.
--
-- In one statement: lease the picked steps (attempt, token, expiry), open each attempt's
-- run row, mark missions running at their first step, write mission:started and
-- step:started. Returns the claimed steps oldest first, each with `more`; with nothing
-- claimed, one row of NULLs carrying `more`: whether a picked step was left behind, the
-- one row picked beyond p_max, or one the pick locked that this statement cannot see
-- (the pick is VOLATILE and reads with a newer snapshot: a step committed after this
-- statement began, whose NOTIFY may have gone to a peer that skipped it on our lock, so
-- the caller must claim again rather than wait for the poll).
CREATE FUNCTION opsloop_claim_steps(p_kinds text[], p_now timestamptz, p_max integer, p_worker text, p_lease_seconds integer)
RETURNS TABLE (
  id uuid, mission_id uuid, "position" integer, kind text, skill text, params jsonb, attempt integer, max_attempts integer,
  timeout_seconds integer, lease_token uuid, lease_expires_at timestamptz, lease_seconds integer, trace_id uuid,
  run_after timestamptz, more boolean
)
LANGUAGE plpgsql
ROWS 20
SET enable_seqscan = off
-- As in the pick: a sub-millisecond statement must never be JIT-compiled.
SET jit = off
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH picked AS (
    SELECT p.id, p.n FROM opsloop_pick_steps(p_kinds, p_now, CASE WHEN p_max > 0 THEN p_max + 1 ELSE 0 END) WITH ORDINALITY AS p(id, n)
  ), claimed AS (
    UPDATE ops_mission_steps s
    SET status = 'running', attempts = s.attempts + 1, lease_owner = p_worker, lease_token = gen_random_uuid(),
        lease_expires_at = p_now + make_interval(secs => p_lease_seconds), started_at = coalesce(s.started_at, p_now), updated_at = p_now
    -- = ANY(ARRAY(...)) rather than a join: a primary-key lookup per picked id (a join
    -- planned from stale estimates hashes the whole table).
    WHERE s.id = ANY(ARRAY(SELECT picked.id FROM picked WHERE picked.n <= p_max))
    RETURNING s.*
  ), runs AS (
    INSERT INTO ops_step_runs (step_id, mission_id, attempt, kind, worker_id, lease_token, started_at, outcome)
    SELECT c.id, c.mission_id, c.attempts, c.kind, p_worker, c.lease_token, p_now, 'running' FROM claimed c
  ), started AS (
    UPDATE ops_missions m SET status = 'running', started_at = p_now, updated_at = p_now
    -- "IS TRUE" keeps the status index out of this plan: bitmap scans are allowed, and
    -- ANDing in one of every queued mission is what a stale estimate would choose.
    WHERE m.id = ANY(ARRAY(SELECT c.mission_id FROM claimed c)) AND (m.status = 'queued') IS TRUE
    RETURNING m.id, m.proposal_id, m.skill, m.trace_id
  ), events AS (
    INSERT INTO ops_events (kind, source, skill, proposal_id, mission_id, step_id, trace_id, payload, created_at)
    SELECT 'mission:started', 'workers', st.skill, st.proposal_id, st.id, NULL, st.trace_id, '{}'::jsonb, p_now FROM started st
    UNION ALL
    SELECT 'step:started', 'workers', c.skill, NULL, c.mission_id, c.id, c.trace_id,
           jsonb_build_object('kind', c.kind, 'attempt', c.attempts, 'workerId', p_worker), p_now
    FROM claimed c
  )
  SELECT c.id, c.mission_id, c.position, c.kind, c.skill, c.params, c.attempts, c.max_attempts, c.timeout_seconds,
         c.lease_token, c.lease_expires_at::timestamptz, p_lease_seconds, c.trace_id, c.run_after::timestamptz, m.more
  FROM (SELECT (SELECT count(*) FROM picked) > (SELECT count(*) FROM claimed) AS more) m
  LEFT JOIN claimed c ON true
  ORDER BY c.run_after, c.id;
END
$$;
COMMIT;
