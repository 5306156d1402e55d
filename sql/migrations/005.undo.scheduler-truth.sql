BEGIN;
DROP INDEX IF EXISTS ops_schedule_runs_running_idx;
UPDATE ops_schedule_runs SET outcome = 'failed', error = coalesce(error, reason) WHERE outcome = 'abandoned';
ALTER TABLE ops_schedule_runs DROP COLUMN owner_key;
ALTER TABLE ops_schedule_runs DROP COLUMN reason;
ALTER TABLE ops_schedule_runs DROP COLUMN requested_by;
ALTER TABLE ops_schedule_runs DROP COLUMN cause;
ALTER TABLE ops_schedule_runs DROP CONSTRAINT ops_schedule_runs_outcome_check;
ALTER TABLE ops_schedule_runs ADD CONSTRAINT ops_schedule_runs_outcome_check
  CHECK (outcome IN ('running', 'succeeded', 'failed', 'skipped'));
COMMIT;
