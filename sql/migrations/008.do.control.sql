-- opsloop 008: control API, live event stream, Slack approvals.
BEGIN;

-- The live event stream reads ops_events in id order and must never deliver an id
-- while a smaller one may still commit. It proves a gap final from transaction ids (see
-- packages/ops/src/events/eventHorizon.ts), which needs every writer to hold its
-- transaction id BEFORE it takes an event id. A plain nextval() default runs before the
-- INSERT assigns the xid; this default assigns the xid first.
CREATE FUNCTION ops_next_event_id() RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_current_xact_id();
  RETURN nextval('ops_events_id_seq');
END
$$;
ALTER TABLE ops_events ALTER COLUMN id SET DEFAULT ops_next_event_id();

-- A running attempt whose mission was cancelled: its lease is revoked, the run closed.
ALTER TABLE ops_step_runs DROP CONSTRAINT ops_step_runs_outcome_check;
ALTER TABLE ops_step_runs ADD CONSTRAINT ops_step_runs_outcome_check
  CHECK (outcome IN ('running', 'succeeded', 'failed', 'timed_out', 'released', 'lost', 'cancelled'));

-- One Slack approval message per pending proposal, claimed by the replica that posts it.
CREATE TABLE ops_slack_messages (
  proposal_id     uuid PRIMARY KEY REFERENCES ops_proposals (id) ON DELETE CASCADE,
  status          text NOT NULL CHECK (status IN ('posting', 'posted', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  last_error      text,
  next_attempt_at timestamptz(3) NOT NULL DEFAULT now(),
  posted_at       timestamptz(3),
  created_at      timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX ops_slack_messages_retry_idx ON ops_slack_messages (next_attempt_at) WHERE status = 'failed';

-- Signatures of Slack interaction requests already accepted: a replay inside the
-- 5-minute window is refused. Rows older than the window are pruned on insert.
CREATE TABLE ops_slack_interactions (
  signature   text PRIMARY KEY,
  received_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX ops_slack_interactions_received_idx ON ops_slack_interactions (received_at);

COMMIT;
