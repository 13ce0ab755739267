-- Fewer rows written per event (D1 bills every row an insert writes, index entries and trigger
-- writes included).
-- Folding is tracked by each profile's ProfileObject, which skips event ids it has applied, so the
-- consumer no longer reads which rows are unfolded nor marks them folded: the partial index on
-- unfolded rows (one more row per profile-changing event, and one more per mark) goes.
DROP INDEX IF EXISTS events_unfolded;
-- Offer outcome counts are added by the consumer once per batch, offer and day
-- (src/edge/analytics/event-store.ts), instead of one upsert per event by this trigger.
DROP TRIGGER IF EXISTS events_offer_day;
