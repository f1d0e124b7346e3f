-- 0005_alerts_notified.sql: an alert remembers its severity and value as last notified.
--
-- Why: a repeat email shows in full only what is new or worse since the seller last heard of it
-- (issue "The alert a seller acts on"), and a warning that turns critical (a SKU running out of
-- stock) is told at once rather than at the next repeat. `severity` and `value` are overwritten
-- by every evaluation, so "as last notified" needs its own columns. NULL until the alert is next
-- notified (alerts notified before this migration compare with nothing: never "worse").

ALTER TABLE alerts ADD COLUMN notified_severity TEXT CHECK (notified_severity IN ('info', 'warning', 'critical'));
ALTER TABLE alerts ADD COLUMN notified_value REAL;
