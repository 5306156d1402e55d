-- The single Moltbook engagement state row.
INSERT INTO moltbook_engagement_state (id) VALUES (1) ON CONFLICT (id) DO NOTHING;
