BEGIN;
DROP FUNCTION IF EXISTS opsloop_claim_steps(text[], timestamptz, integer, text, integer);
COMMIT;
