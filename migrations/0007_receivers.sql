-- 0007_receivers.sql: the outbox gets a receiver dimension (`[[receivers]]`: chat robots, webhooks
-- and email receivers of their own), alerts remember which receivers were told of them, and a
-- receiver with a daily `batch` time holds its non-critical notifications until then.
--
-- Why (issue "Alerts where the team already works", DESIGN §5.2): each receiver must get each
-- message exactly once, durably, with the same guarantees as email. Chat messages ride in the
-- existing outbox so that they share its claim, retry, give-up, retention, `status` and
-- "last delivered" machinery (the trigger of 0006 counts a chat delivery as a delivery):
-- * `receiver` names the `[[receivers]]` entry a row is for (NULL: the implicit email receiver of
--   `[email]` + `alert_to`, and every row written before this migration).
-- * `platform` is set for chat and webhook rows (NULL: an email); the email sender takes only rows
--   without one, the chat sender only rows with one.
-- * `bodies_json` is the array of JSON bodies to post, rendered when the row is queued (so a resend
--   says the same); `bodies_sent` counts those the platform already took (WeCom with @-mentions
--   posts two: a retry resumes after the last one taken, never posting one twice).
-- * `alert_receivers`: (fingerprint, receiver) for every receiver told of an alert's current
--   episode (firing or repeat); a resolution goes to exactly those, and the row goes with it.
-- * `receiver_held`: notifications a batch receiver holds until `due_at` (its next batch time),
--   written in the round's transaction; the first round at or after `due_at` merges them into one
--   message and deletes them in the same transaction.

ALTER TABLE outbox ADD COLUMN receiver TEXT;
ALTER TABLE outbox ADD COLUMN platform TEXT CHECK (platform IN ('slack', 'wecom', 'dingtalk', 'feishu', 'lark', 'webhook'));
ALTER TABLE outbox ADD COLUMN bodies_json TEXT CHECK (bodies_json IS NULL OR (json_valid(bodies_json) AND json_type(bodies_json) = 'array'));
ALTER TABLE outbox ADD COLUMN bodies_sent INTEGER NOT NULL DEFAULT 0;

CREATE INDEX outbox_unsent_by_receiver ON outbox (receiver, next_attempt_at) WHERE sent_at IS NULL;

CREATE TABLE alert_receivers (
    fingerprint TEXT NOT NULL,
    receiver    TEXT NOT NULL,
    told_at     TEXT NOT NULL CHECK (told_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    PRIMARY KEY (fingerprint, receiver)
) STRICT, WITHOUT ROWID;

CREATE TABLE receiver_held (
    receiver    TEXT NOT NULL,
    account     TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('firing', 'repeat', 'resolved')),
    held_at     TEXT NOT NULL CHECK (held_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    due_at      TEXT NOT NULL CHECK (due_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    PRIMARY KEY (receiver, account, fingerprint, kind)
) STRICT;
