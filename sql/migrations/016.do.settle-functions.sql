BEGIN;
-- The completion batch (settleStep.ts) and the missions' finalisation (finaliseMission.ts)
-- as functions, for the reason the claim is one (migration 015): plans that hold at any
-- table size. Prepared on a new deployment's small tables, the completion's generic plan
-- found each mission's next step by a sequential scan of every step, and the
-- finalisation's read every queued and running mission through the status index; both
-- kept doing so as the tables grew, until an ANALYZE invalidated them
-- (steps.plansAfterGrowth.test.ts counts the scans and the indexes read).
--
-- In one statement: marks the leased steps succeeded (only with their current lease
-- token), closes their runs, queues each mission's next step and NOTIFYs its kind at
-- commit, writes step:succeeded. Returns one row per completed step, with the step it
-- queued (null: the mission may be over; the caller finalises it).
CREATE FUNCTION opsloop_complete_steps(p_ids uuid[], p_tokens uuid[], p_results text[], p_now timestamptz)
RETURNS TABLE (id uuid, mission_id uuid, kind text, duration_ms integer, next_id uuid, notified bigint)
LANGUAGE plpgsql
ROWS 20
SET enable_seqscan = off
SET jit = off
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH input AS (
    SELECT * FROM unnest(p_ids, p_tokens, p_results) AS i(id, token, result)
  ), done AS (
    UPDATE ops_mission_steps s
    SET status = 'succeeded', result = input.result::jsonb, error = NULL, finished_at = p_now,
        lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = p_now
    FROM input WHERE s.id = input.id AND s.status = 'running' AND s.lease_token = input.token
    RETURNING s.id, s.mission_id, s.position, s.kind, s.skill, s.trace_id, s.attempts, input.token, input.result
  ), run AS (
    UPDATE ops_step_runs r
    SET finished_at = p_now, outcome = 'succeeded', details = done.result::jsonb,
        duration_ms = greatest(0, (extract(epoch FROM (p_now - r.started_at)) * 1000)::int)
    FROM done WHERE r.lease_token = done.token
    RETURNING r.lease_token, r.duration_ms
  ), next AS (
    UPDATE ops_mission_steps n SET status = 'queued', run_after = p_now, updated_at = p_now
    FROM done WHERE n.mission_id = done.mission_id AND n.position = done.position + 1 AND n.status = 'waiting'
    RETURNING n.id, n.kind, n.mission_id
  ), events AS (
    INSERT INTO ops_events (kind, source, skill, mission_id, step_id, trace_id, payload, created_at)
    SELECT 'step:succeeded', 'workers', done.skill, done.mission_id, done.id, done.trace_id,
           jsonb_build_object('kind', done.kind, 'attempt', done.attempts), p_now
    FROM done
  ), notified AS (
    SELECT pg_notify('opsloop_steps', k.kind) FROM (SELECT DISTINCT next.kind FROM next) k
  )
  -- `notified` is read only so that its CTE runs (a CTE that writes nothing runs only when read).
  SELECT done.id, done.mission_id, done.kind, run.duration_ms, next.id, (SELECT count(*) FROM notified)
  FROM done LEFT JOIN next ON next.mission_id = done.mission_id LEFT JOIN run ON run.lease_token = done.token;
END
$$;

-- Ends the given missions with the given outcomes, unless already over (finalising twice
-- changes nothing). Returns the missions it ended.
CREATE FUNCTION opsloop_finalise_missions(p_ids uuid[], p_outcomes text[], p_now timestamptz)
RETURNS TABLE (id uuid, proposal_id uuid, skill text, trace_id uuid, title text, status text)
LANGUAGE plpgsql
ROWS 20
SET enable_seqscan = off
SET jit = off
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  UPDATE ops_missions m SET status = d.outcome, finished_at = p_now, updated_at = p_now
  FROM unnest(p_ids, p_outcomes) AS d(id, outcome)
  -- "IS TRUE" keeps the status index out of this plan: through it, the update would read
  -- every queued and running mission to find the few it ends.
  WHERE m.id = d.id AND (m.status IN ('queued', 'running')) IS TRUE
  RETURNING m.id, m.proposal_id, m.skill, m.trace_id, m.title, m.status;
END
$$;
COMMIT;
