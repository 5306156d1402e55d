-- opsloop 004: the last value of each policy key that passed its schema, kept in the
-- database. A process that finds a key's value broken falls back to it, so a fresh
-- process (restart, new replica) fails closed instead of to a permissive default
-- (daily_quotas broken must not mean "no quotas").
BEGIN;

ALTER TABLE ops_policy
  ADD COLUMN last_valid_value jsonb,
  ADD COLUMN last_valid_at timestamptz(3);

-- The reader checks a stored last valid value against the schema before using it, so
-- copying a value that may itself be broken is safe.
UPDATE ops_policy SET last_valid_value = value, last_valid_at = updated_at;

COMMIT;
