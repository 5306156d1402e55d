BEGIN;

-- A tick whose owner is gone is `abandoned`, not left `running` for ever.
ALTER TABLE ops_schedule_runs DROP CONSTRAINT ops_schedule_runs_outcome_check;
ALTER TABLE ops_schedule_runs ADD CONSTRAINT ops_schedule_runs_outcome_check
  CHECK (outcome IN ('running', 'succeeded', 'failed', 'skipped', 'abandoned'));

-- Why a run was fired: its cron tick, the catch-up of a missed tick at start-up, or a person.
ALTER TABLE ops_schedule_runs ADD COLUMN cause text NOT NULL DEFAULT 'schedule'
  CHECK (cause IN ('schedule', 'catch_up', 'manual'));
ALTER TABLE ops_schedule_runs ADD COLUMN requested_by text;
-- Why a run was skipped or abandoned (`details` keeps what the job returned).
ALTER TABLE ops_schedule_runs ADD COLUMN reason text;
-- The session advisory lock (pg_advisory_lock(<namespace>, owner_key)) its scheduler holds
-- while alive: a `running` row whose lock no longer exists in pg_locks was abandoned.
ALTER TABLE ops_schedule_runs ADD COLUMN owner_key integer;

UPDATE ops_schedule_runs SET reason = details->>'reason' WHERE outcome = 'skipped' AND details ? 'reason';

CREATE INDEX ops_schedule_runs_running_idx ON ops_schedule_runs (job_name) WHERE outcome = 'running';

COMMIT;
