BEGIN;
ALTER TABLE ops_policy DROP COLUMN IF EXISTS last_valid_at, DROP COLUMN IF EXISTS last_valid_value;
COMMIT;
