-- Raw events keyed by (at, id) in a WITHOUT ROWID table: one row written per event instead of two (the rowid table
-- wrote its row and an entry of the index on its TEXT primary key). A redelivered event has the same time and id, so
-- INSERT OR IGNORE still stores it once. Retention now goes by the event's time, a range at the front of the key.
--
-- The table as it was (every row stored so far) is kept as `events_0006`: the consumer also looks ids up there before
-- storing (a redelivery of an event stored before this migration adds nothing), goal recounts read both tables, and
-- retention empties it by storage time as before. No row is copied.
ALTER TABLE events RENAME TO events_0006;

CREATE TABLE events (
  id TEXT NOT NULL,
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
  folded INTEGER NOT NULL DEFAULT 1, -- legacy (0006): always 1
  covariate REAL,
  unit TEXT,
  PRIMARY KEY (at, id)
) WITHOUT ROWID;

-- A visitor's and a customer unit's goal events, for an exposure that arrives after them (as on events_0006).
CREATE INDEX IF NOT EXISTS events_visitor_goals ON events (visitor_id, name, at) WHERE name IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_unit_goals ON events (unit, name, at) WHERE name IS NOT NULL;

-- The goal events of both tables, for the recounts below (SQLite pushes their WHERE terms into each table, so each
-- uses its goal index). When events_0006 is empty and dropped, only this view changes.
CREATE VIEW IF NOT EXISTS goal_events AS
  SELECT visitor_id, unit, name, props, type, at FROM events WHERE name IS NOT NULL
  UNION ALL SELECT visitor_id, unit, name, props, type, at FROM events_0006 WHERE name IS NOT NULL;

-- The triggers that followed the table to events_0006 (and those whose recounts now name it) are made again: new
-- rows fire them from `events`; a recount reads goal_events. Their bodies are 0003's otherwise.
DROP TRIGGER IF EXISTS events_exposure;
DROP TRIGGER IF EXISTS events_goal_event;
DROP TRIGGER IF EXISTS unit_exposure_added;
DROP TRIGGER IF EXISTS unit_exposure_moved;

CREATE TRIGGER events_exposure AFTER INSERT ON events
WHEN NEW.type = 'exposure' AND NEW.experiment IS NOT NULL AND NEW.variant IS NOT NULL
BEGIN
  INSERT INTO unit_exposures (experiment, unit_kind, unit, variant, first_at, covariate)
  VALUES (NEW.experiment, 'visitor', NEW.visitor_id, NEW.variant, NEW.at, COALESCE(NEW.covariate, 0)),
    (NEW.experiment, 'customer', COALESCE(NEW.unit, NEW.visitor_id), NEW.variant, NEW.at, COALESCE(NEW.covariate, 0))
  ON CONFLICT (unit_kind, unit, experiment) DO UPDATE SET variant = excluded.variant, first_at = excluded.first_at, covariate = excluded.covariate
  WHERE excluded.first_at < unit_exposures.first_at;
END;

CREATE TRIGGER events_goal_event AFTER INSERT ON events
WHEN NEW.type IN ('conversion', 'custom') AND NEW.name IS NOT NULL
BEGIN
  INSERT INTO unit_goals (experiment, unit_kind, unit, goal, count, value)
  SELECT x.experiment, x.unit_kind, x.unit, NEW.name, 1,
    CASE WHEN json_type(NEW.props, '$.value') IN ('integer', 'real') THEN json_extract(NEW.props, '$.value') ELSE 0 END
  FROM unit_exposures x
  WHERE ((x.unit_kind = 'visitor' AND x.unit = NEW.visitor_id) OR (x.unit_kind = 'customer' AND x.unit = COALESCE(NEW.unit, NEW.visitor_id)))
    AND x.first_at <= NEW.at
  ON CONFLICT (experiment, unit_kind, unit, goal) DO UPDATE SET count = count + 1, value = value + excluded.value;
END;

CREATE TRIGGER unit_exposure_added AFTER INSERT ON unit_exposures
BEGIN
  INSERT INTO variant_units (experiment, unit_kind, variant, units, covariate_sum, covariate_squares)
  VALUES (NEW.experiment, NEW.unit_kind, NEW.variant, 1, NEW.covariate, NEW.covariate * NEW.covariate)
  ON CONFLICT (experiment, unit_kind, variant) DO UPDATE SET units = units + 1, covariate_sum = covariate_sum + excluded.covariate_sum,
    covariate_squares = covariate_squares + excluded.covariate_squares;
  INSERT INTO exposure_days (experiment, unit_kind, day, variant, units)
  VALUES (NEW.experiment, NEW.unit_kind, strftime('%Y-%m-%d', NEW.first_at / 1000, 'unixepoch'), NEW.variant, 1)
  ON CONFLICT (experiment, unit_kind, day, variant) DO UPDATE SET units = units + 1;
  INSERT INTO unit_goals (experiment, unit_kind, unit, goal, count, value)
  SELECT NEW.experiment, NEW.unit_kind, NEW.unit, e.name, COUNT(*),
    TOTAL(CASE WHEN json_type(e.props, '$.value') IN ('integer', 'real') THEN json_extract(e.props, '$.value') ELSE 0 END)
  FROM goal_events e
  WHERE NEW.unit_kind = 'visitor' AND e.visitor_id = NEW.unit AND e.name IS NOT NULL AND e.type IN ('conversion', 'custom') AND e.at >= NEW.first_at
  GROUP BY e.name;
  INSERT INTO unit_goals (experiment, unit_kind, unit, goal, count, value)
  SELECT NEW.experiment, NEW.unit_kind, NEW.unit, e.name, COUNT(*),
    TOTAL(CASE WHEN json_type(e.props, '$.value') IN ('integer', 'real') THEN json_extract(e.props, '$.value') ELSE 0 END)
  FROM goal_events e
  WHERE NEW.unit_kind = 'customer' AND e.unit = NEW.unit AND e.name IS NOT NULL AND e.type IN ('conversion', 'custom') AND e.at >= NEW.first_at
  GROUP BY e.name;
END;

CREATE TRIGGER unit_exposure_moved AFTER UPDATE OF first_at ON unit_exposures
BEGIN
  INSERT INTO variant_units (experiment, unit_kind, variant, units, covariate_sum, covariate_squares)
  VALUES (OLD.experiment, OLD.unit_kind, OLD.variant, -1, -OLD.covariate, -OLD.covariate * OLD.covariate),
    (NEW.experiment, NEW.unit_kind, NEW.variant, 1, NEW.covariate, NEW.covariate * NEW.covariate)
  ON CONFLICT (experiment, unit_kind, variant) DO UPDATE SET units = units + excluded.units, covariate_sum = covariate_sum + excluded.covariate_sum,
    covariate_squares = covariate_squares + excluded.covariate_squares;
  INSERT INTO exposure_days (experiment, unit_kind, day, variant, units)
  VALUES (OLD.experiment, OLD.unit_kind, strftime('%Y-%m-%d', OLD.first_at / 1000, 'unixepoch'), OLD.variant, -1),
    (NEW.experiment, NEW.unit_kind, strftime('%Y-%m-%d', NEW.first_at / 1000, 'unixepoch'), NEW.variant, 1)
  ON CONFLICT (experiment, unit_kind, day, variant) DO UPDATE SET units = units + excluded.units;
  INSERT INTO goal_sums (experiment, unit_kind, variant, goal, converted, converted_cross, count, count_squares, count_cross, value, value_squares, value_cross)
  SELECT g.experiment, g.unit_kind, OLD.variant, g.goal, -(g.count > 0), -OLD.covariate * (g.count > 0), -g.count, -g.count * g.count,
    -OLD.covariate * g.count, -g.value, -g.value * g.value, -OLD.covariate * g.value
  FROM unit_goals g WHERE g.experiment = OLD.experiment AND g.unit_kind = OLD.unit_kind AND g.unit = OLD.unit
  ON CONFLICT (experiment, unit_kind, variant, goal) DO UPDATE SET converted = converted + excluded.converted,
    converted_cross = converted_cross + excluded.converted_cross, count = count + excluded.count,
    count_squares = count_squares + excluded.count_squares, count_cross = count_cross + excluded.count_cross,
    value = value + excluded.value, value_squares = value_squares + excluded.value_squares, value_cross = value_cross + excluded.value_cross;
  DELETE FROM unit_goals WHERE experiment = OLD.experiment AND unit_kind = OLD.unit_kind AND unit = OLD.unit;
  INSERT INTO unit_goals (experiment, unit_kind, unit, goal, count, value)
  SELECT NEW.experiment, NEW.unit_kind, NEW.unit, e.name, COUNT(*),
    TOTAL(CASE WHEN json_type(e.props, '$.value') IN ('integer', 'real') THEN json_extract(e.props, '$.value') ELSE 0 END)
  FROM goal_events e
  WHERE NEW.unit_kind = 'visitor' AND e.visitor_id = NEW.unit AND e.name IS NOT NULL AND e.type IN ('conversion', 'custom') AND e.at >= NEW.first_at
  GROUP BY e.name;
  INSERT INTO unit_goals (experiment, unit_kind, unit, goal, count, value)
  SELECT NEW.experiment, NEW.unit_kind, NEW.unit, e.name, COUNT(*),
    TOTAL(CASE WHEN json_type(e.props, '$.value') IN ('integer', 'real') THEN json_extract(e.props, '$.value') ELSE 0 END)
  FROM goal_events e
  WHERE NEW.unit_kind = 'customer' AND e.unit = NEW.unit AND e.name IS NOT NULL AND e.type IN ('conversion', 'custom') AND e.at >= NEW.first_at
  GROUP BY e.name;
END;
