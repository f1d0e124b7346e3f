-- 0006_status_ops.sql: an alert remembers when an email about it was last delivered, and a given-up
-- email remembers when an operator saw it.
--
-- Why (issue "Operator experience", `status` as a health check):
-- * `alerts.last_notified_at` is written when an email is queued, in the transaction that decides to
--   notify (the repeat interval counts from it), so `flywheel alerts` showed LAST NOTIFIED for mail
--   that never left. `last_delivered_at` is when the server accepted an email reporting the alert
--   (firing, repeat or resolution). It is set by the trigger below in the same statement that marks
--   the outbox row sent, so it can be neither missed nor early, and it is kept on the alert so it
--   outlives the outbox's retention. Alerts notified before this migration take the newest delivery
--   still in the outbox.
-- * `status` exits 1 while an email was given up on (a permanent refusal, or retried for 48 h), so
--   that an operator notices; `flywheel status --clear-failures` records here that they did. The
--   row itself stays (nothing is deleted): it is the record of what the seller missed.

ALTER TABLE alerts ADD COLUMN last_delivered_at TEXT CHECK (last_delivered_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z');
ALTER TABLE outbox ADD COLUMN failure_seen_at TEXT CHECK (failure_seen_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z');

UPDATE alerts SET last_delivered_at = (
    SELECT MAX(o.sent_at) FROM outbox o, json_each(o.alert_fingerprints_json) j
     WHERE o.sent_at IS NOT NULL AND j.value = alerts.fingerprint
);

CREATE TRIGGER outbox_delivered_alerts AFTER UPDATE OF sent_at ON outbox
WHEN OLD.sent_at IS NULL AND NEW.sent_at IS NOT NULL
BEGIN
    UPDATE alerts SET last_delivered_at = NEW.sent_at
     WHERE fingerprint IN (SELECT value FROM json_each(NEW.alert_fingerprints_json))
       AND (last_delivered_at IS NULL OR last_delivered_at < NEW.sent_at);
END;
