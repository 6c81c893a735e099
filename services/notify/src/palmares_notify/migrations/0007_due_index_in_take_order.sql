-- The senders take the next due email with `ORDER BY next_attempt_at, created_at LIMIT 1`.
-- The index must give that whole order: on `next_attempt_at` alone, PostgreSQL sorts
-- every pending row for each email taken, since the awards of a palmarès all share one
-- `next_attempt_at` (the instant of their transaction).
DROP INDEX notifications_due;
CREATE INDEX notifications_due ON notifications (next_attempt_at, created_at) WHERE status = 'pending';
