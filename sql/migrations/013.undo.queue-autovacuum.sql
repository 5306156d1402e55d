BEGIN;
ALTER TABLE ops_mission_steps RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold, vacuum_truncate);
COMMIT;
