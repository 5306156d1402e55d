-- opsloop 006: step kinds registered by operators (external executors), without a code change.
BEGIN;

-- One row per registered kind. Kinds defined in code (the core's and the workloads') win
-- over a row of the same name, which is then reported unusable. params_schema is a JSON
-- Schema (draft 2020-12) for the step's params, compiled by the service on write and
-- again when read (a row written by SQL may be invalid: it is then unusable, not a 500).
CREATE TABLE ops_step_kinds (
  name            text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$' AND length(name) <= 100),
  skill           text NOT NULL CHECK (skill ~ '^[a-z][a-z0-9_]{0,62}$'),
  description     text NOT NULL DEFAULT '',
  timeout_seconds integer CHECK (timeout_seconds BETWEEN 1 AND 86400),
  max_attempts    integer CHECK (max_attempts BETWEEN 1 AND 50),
  params_schema   jsonb NOT NULL CHECK (jsonb_typeof(params_schema) = 'object'),
  created_at      timestamptz(3) NOT NULL DEFAULT now(),
  updated_at      timestamptz(3) NOT NULL DEFAULT now()
);

-- Whoever writes the row (the API or psql): the skill gets its toggle, off, when it has
-- none; every process drops its cached copy of the kind (LISTEN opsloop_catalog).
CREATE FUNCTION ops_step_kinds_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO ops_policy (key, value, description)
    VALUES (NEW.skill, '{"enabled": false}', 'Skill toggle: ' || NEW.skill || ' (registered with step kind ' || NEW.name || ').')
    ON CONFLICT (key) DO NOTHING;
    PERFORM pg_notify('opsloop_catalog', NEW.name);
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    PERFORM pg_notify('opsloop_catalog', OLD.name);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER ops_step_kinds_changed AFTER INSERT OR UPDATE OR DELETE ON ops_step_kinds
  FOR EACH ROW EXECUTE FUNCTION ops_step_kinds_changed();
-- TRUNCATE has no rows to name: every process drops its whole cache.
CREATE FUNCTION ops_step_kinds_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('opsloop_catalog', '*');
  RETURN NULL;
END $$;
CREATE TRIGGER ops_step_kinds_truncated AFTER TRUNCATE ON ops_step_kinds
  FOR EACH STATEMENT EXECUTE FUNCTION ops_step_kinds_truncated();

-- The seeds' external kinds, moved out of code: operators now change or remove them
-- like any registered kind. Their skill toggles come from the seed policy rows (applied
-- after migrations, with x_autopost on), so the trigger must not create them off here.
ALTER TABLE ops_step_kinds DISABLE TRIGGER ops_step_kinds_changed;
INSERT INTO ops_step_kinds (name, skill, description, params_schema) VALUES
  ('x.post', 'x_autopost', 'Post to X (external executor).',
   '{"type": "object", "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 280, "pattern": "\\S"}, "reply_to": {"type": "string", "maxLength": 64}}, "required": ["text"], "additionalProperties": false}'),
  ('tiktok.post', 'tiktok_autopost', 'Post a video to TikTok (external executor).',
   '{"type": "object", "properties": {"caption": {"type": "string", "minLength": 1, "maxLength": 2200, "pattern": "\\S"}, "video_url": {"type": "string", "format": "uri", "pattern": "^https?://"}}, "required": ["caption", "video_url"], "additionalProperties": false}'),
  ('trends.scan', 'trend_hunter', 'Scan trends for topics (external executor).',
   '{"type": "object", "properties": {"topics": {"type": "array", "maxItems": 20, "items": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "\\S"}, "default": []}}, "additionalProperties": false}'),
  ('suffering.scan', 'suffering_detector', 'Scan for distress signals (external executor).',
   '{"type": "object", "properties": {"window_hours": {"type": "integer", "minimum": 1, "maximum": 168, "default": 24}}, "additionalProperties": false}'),
  ('app.nudge', 'app_nudge', 'Send an in-app nudge (external executor).',
   '{"type": "object", "properties": {"audience": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "\\S"}, "message": {"type": "string", "minLength": 1, "maxLength": 500, "pattern": "\\S"}}, "required": ["audience", "message"], "additionalProperties": false}');
ALTER TABLE ops_step_kinds ENABLE TRIGGER ops_step_kinds_changed;

COMMIT;
