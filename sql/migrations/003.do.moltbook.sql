-- opsloop 003: Moltbook engagement state (replaces the old JSON state file).
BEGIN;

-- A single row (id = 1).
CREATE TABLE moltbook_engagement_state (
  id                           integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  second_post_status           text NOT NULL DEFAULT 'pending'
                               CHECK (second_post_status IN ('pending', 'posted', 'verification_pending', 'disabled')),
  second_post_id               text,
  second_post_last_attempt_at  timestamptz(3),
  second_post_next_earliest_at timestamptz(3),
  watched_post_ids             text[] NOT NULL DEFAULT '{}',
  updated_at                   timestamptz(3) NOT NULL DEFAULT now()
);

-- Exactly-once replies: the row is written (intent) before the reply is sent, under the
-- comment's primary key, and completed with the reply id afterwards. handled_at IS NULL
-- means "intent recorded, outcome unknown": the next run re-reads the thread first.
CREATE TABLE moltbook_handled_comment_events (
  source_comment_id text PRIMARY KEY,
  post_id           text NOT NULL,
  action            text NOT NULL CHECK (action IN ('replied', 'replied_to_reply', 'skipped')),
  reply_comment_id  text,
  reply_content     text,
  claimed_by        text,
  intent_at         timestamptz(3) NOT NULL DEFAULT now(),
  handled_at        timestamptz(3)
);
CREATE INDEX moltbook_handled_post_idx ON moltbook_handled_comment_events (post_id);

COMMIT;
