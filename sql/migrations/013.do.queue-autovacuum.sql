BEGIN;
-- Steps leave the queue by the thousand; each leaves a dead entry at the front of the
-- claim's partial index that every claim steps over until VACUUM removes it. The default
-- trigger (20 % of the table dead) lets that grow with the table's history; a fixed count
-- keeps it small at any size. Where autovacuum is off, the heartbeat's vacuumQueues phase
-- does the same. No truncation: giving the file's empty tail back to the OS takes an
-- ACCESS EXCLUSIVE lock that would stall claims, for space the queue reuses anyway.
ALTER TABLE ops_mission_steps SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000, vacuum_truncate = false);
COMMIT;
