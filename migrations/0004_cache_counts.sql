-- Edge HTML cache outcomes per UTC day (D1 ANALYTICS), summed by the consumer from the counts that
-- ride on events (props.pz_cache_*), so the dashboard's hit ratio reads a few rows, not raw events.
CREATE TABLE IF NOT EXISTS cache_counts (
  day TEXT PRIMARY KEY,             -- YYYY-MM-DD (UTC) of the carrying event
  hit INTEGER NOT NULL,
  stale INTEGER NOT NULL,
  miss INTEGER NOT NULL,
  pass INTEGER NOT NULL
) WITHOUT ROWID;

-- Counts already stored on raw events before this table existed.
INSERT INTO cache_counts (day, hit, stale, miss, pass)
  SELECT strftime('%Y-%m-%d', at / 1000, 'unixepoch') AS d,
    COALESCE(SUM(json_extract(props, '$.pz_cache_hit')), 0), COALESCE(SUM(json_extract(props, '$.pz_cache_stale')), 0),
    COALESCE(SUM(json_extract(props, '$.pz_cache_miss')), 0), COALESCE(SUM(json_extract(props, '$.pz_cache_pass')), 0)
  FROM events WHERE props LIKE '%"pz_cache_%' GROUP BY d
  ON CONFLICT (day) DO NOTHING;
