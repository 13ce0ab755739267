-- Analytics schema (D1 ANALYTICS): every event once, first exposures per experiment, dead letters.
-- See docs/events.md for how each table is written and read.

-- One row per event; the client- or server-generated id makes redelivered batches add nothing.
CREATE TABLE IF NOT EXISTS events (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  at INTEGER NOT NULL,              -- ms since epoch, when it happened
  visitor_id TEXT NOT NULL,
  customer_id TEXT,
  slot TEXT,
  offer TEXT,
  decision TEXT,
  experiment TEXT,
  variant TEXT,
  layer TEXT,
  stage TEXT,
  name TEXT,                        -- goal or custom event name
  channel TEXT,
  campaign TEXT,
  ruleset_version TEXT,
  props TEXT,                       -- JSON object or NULL
  received_at INTEGER NOT NULL,     -- ms since epoch, when the consumer stored it
  folded INTEGER NOT NULL DEFAULT 0 -- 1 once folded into the KV profile
);

-- Offer results: counts per offer and type.
CREATE INDEX IF NOT EXISTS events_offer_type ON events (offer, type) WHERE offer IS NOT NULL;
-- Experiment results: a visitor's goal events after their first exposure.
CREATE INDEX IF NOT EXISTS events_goal ON events (visitor_id, name, at) WHERE name IS NOT NULL;
-- Time-range scans and retention jobs.
CREATE INDEX IF NOT EXISTS events_at ON events (at);
-- Folding retries look for rows not yet folded.
CREATE INDEX IF NOT EXISTS events_unfolded ON events (id) WHERE folded = 0;

-- First exposure of each visitor to each experiment (the unit of analysis): upserted with the
-- earliest time, so redelivery and repeated exposures change nothing.
CREATE TABLE IF NOT EXISTS exposures (
  experiment TEXT NOT NULL,
  visitor_id TEXT NOT NULL,
  variant TEXT NOT NULL,
  first_at INTEGER NOT NULL,
  PRIMARY KEY (experiment, visitor_id)
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS exposures_variant ON exposures (experiment, variant);

-- Messages that exhausted their retries on pz-events (from pz-events-dlq), or bodies the consumer
-- could not read: kept verbatim so nothing is silently dropped.
CREATE TABLE IF NOT EXISTS dead_letters (
  message_id TEXT PRIMARY KEY,
  queue TEXT NOT NULL,
  body TEXT NOT NULL,
  reason TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  received_at INTEGER NOT NULL
);
