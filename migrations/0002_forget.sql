-- Forget-me (DELETE /__pz/me): visitor ids whose events and exposures were deleted. The consumer
-- stores no event or exposure of a visitor listed here, so events still queued at the time of the
-- deletion never bring the rows back (see docs/storage.md, "Forgetting").
CREATE TABLE IF NOT EXISTS forgotten_visitors (
  visitor_id TEXT PRIMARY KEY,
  at INTEGER NOT NULL               -- ms since epoch, when the visitor was forgotten
) WITHOUT ROWID;
