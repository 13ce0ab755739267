-- Fewer rows written per event (D1 bills every row an insert writes, index entries included).
-- Folding is tracked by each profile's ProfileObject, which skips event ids it has applied, so the
-- consumer no longer reads which rows are unfolded nor marks them folded: the partial index on
-- unfolded rows (one more row per profile-changing event, and one more per mark) goes.
DROP INDEX IF EXISTS events_unfolded;
