# What the commands print for a person (`check`, `alerts`, `ack`, `silence`,
# `kpis`) and the KPI targets and notes of the checklist. Numbers arrive
# formatted ($n and the like are text); $count only picks a plural form.
# The English texts are those the commands printed before they spoke other
# languages: tests and scripts read them.

## flywheel check
cli-check-header = flywheel check as of { $at }: { $n } { $count ->
    [one] finding
   *[other] findings
  } ({ $critical } critical, { $warning } warning)
cli-link-experience = 1. Customer experience
cli-link-growth = 2. Sales growth
cli-link-leverage = 3. Operating leverage
cli-link-meta = Data and credentials
cli-check-first = check first: { $text }
cli-diagnosis = diagnosis: { $text }
cli-no-data = No data (not counted as findings)
cli-no-data-line = { $n } { $count ->
    [one] subject
   *[other] subjects
  } ({ $status }): e.g. { $example }
cli-no-data-keep = holding last state
cli-no-data-info = info

## Subjects
cli-subject-asin = asin { $id }
cli-subject-sku = sku { $id }
cli-subject-campaign = campaign { $id }

## flywheel alerts
cli-col-id = ID
cli-col-state = STATE
cli-col-severity = SEVERITY
cli-col-rule = RULE
cli-col-account = ACCOUNT
cli-col-subject = SUBJECT
cli-col-since = SINCE
cli-col-last-notified = LAST NOTIFIED
cli-col-muted = MUTED
cli-state-pending = pending
cli-state-firing = firing
cli-state-resolved = resolved
cli-silenced-until = silenced until { $time }
cli-acked-until = acked until { $time }
cli-times-in = times in { $zone }
cli-no-alerts-yet = no alerts yet
cli-no-open-alerts = no open alerts (flywheel alerts --all lists resolved ones too)

## flywheel ack and silence
cli-acknowledged = acknowledged { $id } ({ $rule } { $account } { $subject }) until { $time } { $zone }
cli-feedback-handled = ; marked { $n } feedback { $count ->
    [one] order
   *[other] orders
  } handled
cli-silence-rule = rule { $rule }
cli-silence-every-rule = rule *
cli-silence-account = account { $account }
cli-silenced = silence #{ $id }: { $what } muted until { $time } { $zone }; it covers { $n } open { $count ->
    [one] alert
   *[other] alerts
  } now
cli-silence-expired = ended silence #{ $id }: { $what } (was muted until { $time } { $zone }); the { $n } open { $count ->
    [one] alert
   *[other] alerts
  } it covered notify again when due
cli-silence-already-ended = silence #{ $id } already ended at { $time } { $zone }: nothing to end
cli-ack-undone = undid the acknowledgement of { $id } ({ $rule } { $account } { $subject }) that ran until { $time } { $zone }; its repeats notify again when due
cli-feedback-unhandled = ; { $n } feedback { $count ->
    [one] order
   *[other] orders
  } it marked handled { $count ->
    [one] is
   *[other] are
  } unhandled again
cli-ack-none = { $id } ({ $rule } { $account } { $subject }) has no acknowledgement in force: nothing to undo

## flywheel silences
cli-col-matches = MATCHES
cli-col-expires = EXPIRES
cli-col-note = NOTE
cli-col-created-by = BY
cli-col-created = CREATED
cli-silences-every-rule = *
cli-silence-in-force = in force
cli-silence-ended = ended
cli-no-silences-in-force = no silences in force (flywheel silences --all lists ended ones too)
cli-no-silences-yet = no silences yet

## KPI targets (the checklist's, `flywheel kpis` and the digest)
kpi-target-change-above = change > -{ $pct }%
kpi-target-change-below = change < +{ $pct }%
kpi-target-odr = < { $max } and NORMAL
kpi-target-zero = 0
kpi-target-range = { $min }-{ $max }
kpi-target-at-least = >= { $min }
kpi-target-at-most = <= { $max }
kpi-target-none-off = 0 off ({ $target })
kpi-target-none-off-plain = 0 off target
kpi-note-no-subjects = no subjects
kpi-note-with-data = { $known } of { $n } with data
kpi-note-off-target = ; off target: { $list }
kpi-note-more = , …
