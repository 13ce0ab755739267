-- Learned propensities (D1 ANALYTICS): outcome counts per offer × learning context, the context
-- each visitor last saw each offer in (to attribute later outcomes), and the roll-up's snapshots.
-- Written inside the consumer's batch, only for events new to `events`; see docs/events.md.

-- Events of each outcome ("decision", "impression", "click", "accept", "dismiss", "goal:<name>")
-- per offer and context. Only ever incremented.
CREATE TABLE IF NOT EXISTS learning_counts (
  offer TEXT NOT NULL,
  context TEXT NOT NULL,
  outcome TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (offer, context, outcome)
) WITHOUT ROWID;

-- The context a visitor's latest decision for an offer was ranked in: an impression, click,
-- accept or goal of that visitor and offer counts in it.
CREATE TABLE IF NOT EXISTS learning_contexts (
  visitor_id TEXT NOT NULL,
  offer TEXT NOT NULL,
  context TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (visitor_id, offer)
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS learning_contexts_latest ON learning_contexts (visitor_id, at);

-- One row per offer × context per roll-up that changed it: the learned rate over time.
CREATE TABLE IF NOT EXISTS learning_snapshots (
  built_at INTEGER NOT NULL,
  offer TEXT NOT NULL,
  context TEXT NOT NULL,
  trials INTEGER NOT NULL,
  successes INTEGER NOT NULL,
  mean REAL NOT NULL,
  low REAL NOT NULL,
  high REAL NOT NULL,
  share REAL NOT NULL,
  PRIMARY KEY (offer, context, built_at)
) WITHOUT ROWID;
