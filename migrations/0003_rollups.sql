-- Analytics roll-ups (D1 ANALYTICS): the sums experiment and offer results are read from, kept by
-- triggers in the same transaction as the raw rows. See docs/storage.md ("Roll-ups").
--
-- Everything hangs off AFTER INSERT ON events: an INSERT OR IGNORE of a redelivered event inserts
-- nothing, so no trigger fires and no sum moves. Per-unit rows (unit_exposures, unit_goals) make
-- unique counts exact; the per-variant sums are updated by signed contributions, so a unit that
-- moves (an earlier exposure arriving late) is taken out of its old sums and put into the new ones.
-- Deleting per-unit rows or raw events (retention) fires nothing: the sums stay.

-- The exposure's covariate (CUPED) and the customer unit the consumer resolved at ingest:
-- customer_id, else the customer the visitor is linked to (visitor_customers), else the visitor id.
ALTER TABLE events ADD COLUMN covariate REAL;
ALTER TABLE events ADD COLUMN unit TEXT;

-- Offer results now come from offer_days; this index only served the old scan. Retention walks
-- the table in rowid (storage) order, so the index on `at` goes too: one row fewer written per event.
DROP INDEX IF EXISTS events_offer_type;
DROP INDEX IF EXISTS events_at;
-- A customer unit's goal events, for an exposure that arrives after them.
CREATE INDEX IF NOT EXISTS events_unit_goal ON events (unit, name, at) WHERE name IS NOT NULL;

-- The customer each visitor is known to belong to (from any event carrying both ids, e.g. link_click).
CREATE TABLE IF NOT EXISTS visitor_customers (
  visitor_id TEXT PRIMARY KEY,
  customer_id TEXT NOT NULL,
  at INTEGER NOT NULL
) WITHOUT ROWID;

-- First exposure per unit (unit_kind 'visitor' | 'customer') and experiment. It replaces the
-- exposures table of 0001, which the consumer no longer writes (kept for rows stored before).
CREATE TABLE IF NOT EXISTS unit_exposures (
  experiment TEXT NOT NULL,
  unit_kind TEXT NOT NULL,
  unit TEXT NOT NULL,
  variant TEXT NOT NULL,
  first_at INTEGER NOT NULL,
  covariate REAL NOT NULL,
  -- Unit first: a goal event finds its unit's experiments without a second index (one row written, not two).
  PRIMARY KEY (unit_kind, unit, experiment)
) WITHOUT ROWID;

-- Per exposed unit and goal: goal events at or after the first exposure, and the sum of their values.
CREATE TABLE IF NOT EXISTS unit_goals (
  experiment TEXT NOT NULL,
  unit_kind TEXT NOT NULL,
  unit TEXT NOT NULL,
  goal TEXT NOT NULL,
  count INTEGER NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (experiment, unit_kind, unit, goal)
) WITHOUT ROWID;

-- Per experiment, unit kind and variant: units exposed, Σx, Σx².
CREATE TABLE IF NOT EXISTS variant_units (
  experiment TEXT NOT NULL,
  unit_kind TEXT NOT NULL,
  variant TEXT NOT NULL,
  units INTEGER NOT NULL,
  covariate_sum REAL NOT NULL,
  covariate_squares REAL NOT NULL,
  PRIMARY KEY (experiment, unit_kind, variant)
) WITHOUT ROWID;

-- Per experiment, unit kind, variant and goal: the GoalSums of src/core/metric-sums.ts.
CREATE TABLE IF NOT EXISTS goal_sums (
  experiment TEXT NOT NULL,
  unit_kind TEXT NOT NULL,
  variant TEXT NOT NULL,
  goal TEXT NOT NULL,
  converted INTEGER NOT NULL,
  converted_cross REAL NOT NULL,
  count INTEGER NOT NULL,
  count_squares INTEGER NOT NULL,
  count_cross REAL NOT NULL,
  value REAL NOT NULL,
  value_squares REAL NOT NULL,
  value_cross REAL NOT NULL,
  PRIMARY KEY (experiment, unit_kind, variant, goal)
) WITHOUT ROWID;

-- Units first exposed per UTC day and variant.
CREATE TABLE IF NOT EXISTS exposure_days (
  experiment TEXT NOT NULL,
  unit_kind TEXT NOT NULL,
  day TEXT NOT NULL,
  variant TEXT NOT NULL,
  units INTEGER NOT NULL,
  PRIMARY KEY (experiment, unit_kind, day, variant)
) WITHOUT ROWID;

-- Outcome counts per offer and UTC day.
CREATE TABLE IF NOT EXISTS offer_days (
  offer TEXT NOT NULL,
  day TEXT NOT NULL,
  decisions INTEGER NOT NULL,
  impressions INTEGER NOT NULL,
  clicks INTEGER NOT NULL,
  accepts INTEGER NOT NULL,
  dismissals INTEGER NOT NULL,
  PRIMARY KEY (offer, day)
) WITHOUT ROWID;

-- New event: offer outcome counts.
CREATE TRIGGER IF NOT EXISTS events_offer_day AFTER INSERT ON events
WHEN NEW.offer IS NOT NULL AND NEW.type IN ('decision', 'impression', 'click', 'accept', 'dismiss')
BEGIN
  INSERT INTO offer_days (offer, day, decisions, impressions, clicks, accepts, dismissals)
  VALUES (NEW.offer, strftime('%Y-%m-%d', NEW.at / 1000, 'unixepoch'), NEW.type = 'decision', NEW.type = 'impression',
    NEW.type = 'click', NEW.type = 'accept', NEW.type = 'dismiss')
  ON CONFLICT (offer, day) DO UPDATE SET decisions = decisions + excluded.decisions, impressions = impressions + excluded.impressions,
    clicks = clicks + excluded.clicks, accepts = accepts + excluded.accepts, dismissals = dismissals + excluded.dismissals;
END;

-- New exposure event: the unit's first exposure, for the visitor and for the customer unit, keeping
-- the earliest (its variant and covariate).
CREATE TRIGGER IF NOT EXISTS events_exposure AFTER INSERT ON events
WHEN NEW.type = 'exposure' AND NEW.experiment IS NOT NULL AND NEW.variant IS NOT NULL
BEGIN
  INSERT INTO unit_exposures (experiment, unit_kind, unit, variant, first_at, covariate)
  VALUES (NEW.experiment, 'visitor', NEW.visitor_id, NEW.variant, NEW.at, COALESCE(NEW.covariate, 0)),
    (NEW.experiment, 'customer', COALESCE(NEW.unit, NEW.visitor_id), NEW.variant, NEW.at, COALESCE(NEW.covariate, 0))
  ON CONFLICT (unit_kind, unit, experiment) DO UPDATE SET variant = excluded.variant, first_at = excluded.first_at, covariate = excluded.covariate
  WHERE excluded.first_at < unit_exposures.first_at;
END;

-- New goal event: one more goal event (and its value) for every experiment its units were exposed
-- to at or before it.
CREATE TRIGGER IF NOT EXISTS events_goal_event AFTER INSERT ON events
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

-- A unit's goal row added or grown: its contribution to the variant's sums (y = count, value, count > 0).
CREATE TRIGGER IF NOT EXISTS unit_goals_added AFTER INSERT ON unit_goals
BEGIN
  INSERT INTO goal_sums (experiment, unit_kind, variant, goal, converted, converted_cross, count, count_squares, count_cross, value, value_squares, value_cross)
  SELECT x.experiment, x.unit_kind, x.variant, NEW.goal, NEW.count > 0, x.covariate * (NEW.count > 0), NEW.count, NEW.count * NEW.count,
    x.covariate * NEW.count, NEW.value, NEW.value * NEW.value, x.covariate * NEW.value
  FROM unit_exposures x WHERE x.experiment = NEW.experiment AND x.unit_kind = NEW.unit_kind AND x.unit = NEW.unit
  ON CONFLICT (experiment, unit_kind, variant, goal) DO UPDATE SET converted = converted + excluded.converted,
    converted_cross = converted_cross + excluded.converted_cross, count = count + excluded.count,
    count_squares = count_squares + excluded.count_squares, count_cross = count_cross + excluded.count_cross,
    value = value + excluded.value, value_squares = value_squares + excluded.value_squares, value_cross = value_cross + excluded.value_cross;
END;

CREATE TRIGGER IF NOT EXISTS unit_goals_grown AFTER UPDATE ON unit_goals
BEGIN
  INSERT INTO goal_sums (experiment, unit_kind, variant, goal, converted, converted_cross, count, count_squares, count_cross, value, value_squares, value_cross)
  SELECT x.experiment, x.unit_kind, x.variant, NEW.goal, (NEW.count > 0) - (OLD.count > 0), x.covariate * ((NEW.count > 0) - (OLD.count > 0)),
    NEW.count - OLD.count, NEW.count * NEW.count - OLD.count * OLD.count, x.covariate * (NEW.count - OLD.count),
    NEW.value - OLD.value, NEW.value * NEW.value - OLD.value * OLD.value, x.covariate * (NEW.value - OLD.value)
  FROM unit_exposures x WHERE x.experiment = NEW.experiment AND x.unit_kind = NEW.unit_kind AND x.unit = NEW.unit
  ON CONFLICT (experiment, unit_kind, variant, goal) DO UPDATE SET converted = converted + excluded.converted,
    converted_cross = converted_cross + excluded.converted_cross, count = count + excluded.count,
    count_squares = count_squares + excluded.count_squares, count_cross = count_cross + excluded.count_cross,
    value = value + excluded.value, value_squares = value_squares + excluded.value_squares, value_cross = value_cross + excluded.value_cross;
END;

-- A unit's first exposure: counted in its variant and day, and its goal events since then (already
-- stored when they arrived first) counted.
CREATE TRIGGER IF NOT EXISTS unit_exposure_added AFTER INSERT ON unit_exposures
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
  FROM events e
  WHERE NEW.unit_kind = 'visitor' AND e.visitor_id = NEW.unit AND e.name IS NOT NULL AND e.type IN ('conversion', 'custom') AND e.at >= NEW.first_at
  GROUP BY e.name;
  INSERT INTO unit_goals (experiment, unit_kind, unit, goal, count, value)
  SELECT NEW.experiment, NEW.unit_kind, NEW.unit, e.name, COUNT(*),
    TOTAL(CASE WHEN json_type(e.props, '$.value') IN ('integer', 'real') THEN json_extract(e.props, '$.value') ELSE 0 END)
  FROM events e
  WHERE NEW.unit_kind = 'customer' AND e.unit = NEW.unit AND e.name IS NOT NULL AND e.type IN ('conversion', 'custom') AND e.at >= NEW.first_at
  GROUP BY e.name;
END;

-- An earlier exposure arrived late: the unit leaves its old variant, day and sums, and is counted
-- again from its new first exposure.
CREATE TRIGGER IF NOT EXISTS unit_exposure_moved AFTER UPDATE OF first_at ON unit_exposures
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
  FROM events e
  WHERE NEW.unit_kind = 'visitor' AND e.visitor_id = NEW.unit AND e.name IS NOT NULL AND e.type IN ('conversion', 'custom') AND e.at >= NEW.first_at
  GROUP BY e.name;
  INSERT INTO unit_goals (experiment, unit_kind, unit, goal, count, value)
  SELECT NEW.experiment, NEW.unit_kind, NEW.unit, e.name, COUNT(*),
    TOTAL(CASE WHEN json_type(e.props, '$.value') IN ('integer', 'real') THEN json_extract(e.props, '$.value') ELSE 0 END)
  FROM events e
  WHERE NEW.unit_kind = 'customer' AND e.unit = NEW.unit AND e.name IS NOT NULL AND e.type IN ('conversion', 'custom') AND e.at >= NEW.first_at
  GROUP BY e.name;
END;

-- Roll up what was stored before this migration (the triggers above do the per-unit counting).
UPDATE events SET unit = COALESCE(customer_id, visitor_id) WHERE unit IS NULL AND (type = 'exposure' OR name IS NOT NULL);
INSERT INTO offer_days (offer, day, decisions, impressions, clicks, accepts, dismissals)
SELECT offer, strftime('%Y-%m-%d', at / 1000, 'unixepoch'), SUM(type = 'decision'), SUM(type = 'impression'), SUM(type = 'click'),
  SUM(type = 'accept'), SUM(type = 'dismiss')
FROM events WHERE offer IS NOT NULL AND type IN ('decision', 'impression', 'click', 'accept', 'dismiss') GROUP BY 1, 2;
INSERT INTO unit_exposures (experiment, unit_kind, unit, variant, first_at, covariate)
SELECT experiment, 'visitor', visitor_id, variant, first_at, 0 FROM exposures;
-- SQLite takes the bare variant from the row holding MIN(at): the first exposure's.
INSERT INTO unit_exposures (experiment, unit_kind, unit, variant, first_at, covariate)
SELECT experiment, 'customer', unit, variant, MIN(at), 0 FROM events
WHERE type = 'exposure' AND experiment IS NOT NULL AND variant IS NOT NULL GROUP BY experiment, unit;
