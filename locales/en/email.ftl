# The fixed words of messages: severities, states, the flywheel's links,
# the phrases of alert cards, footers, the digest, link names and units.
# Numbers arrive already formatted ($n, a string); $count, where present,
# is the number itself and only picks the plural form.

## Severities: in running text, and as a card's tag
severity-critical = critical
severity-warning = warning
severity-info = info
severity-critical-tag = CRITICAL
severity-warning-tag = WARNING
severity-info-tag = INFO
count-critical = { $n } critical
count-warning = { $count ->
    [one] { $n } warning
   *[other] { $n } warnings
}
count-info = { $n } info
count-resolved = { $n } resolved

## Alert states
kind-new = NEW
kind-still-firing = STILL FIRING
kind-still-firing-since = STILL FIRING since { $since }
kind-resolved = RESOLVED
kind-resolved-at = RESOLVED at { $at }
state-firing = firing
state-resolved = resolved

## The flywheel and its links
flywheel = the flywheel
link-experience = customer experience
link-growth = sales growth
link-leverage = operating leverage
link-meta = flywheel itself
link-heading = Link { $n }: { $name }
link-state-healthy = healthy
link-state-warnings = { $count ->
    [one] { $n } warning
   *[other] { $n } warnings
}
link-state-critical = { $n } critical

## An alert card
do-first = Do first
what-to-check-first = What to check first
evidence = Evidence
acknowledge = Acknowledge
silence = Silence
window = Window
value = Value
threshold = threshold
value-vs-threshold = { $value } (threshold { $threshold })
window-range = { $start } to { $end }
diagnosis = Diagnosis
conversion-fell = conversion fell
traffic-fell = traffic fell
other-rules-firing = Other rules firing
trend = Trend
trend-stats = min { $min }, max { $max }, last { $last } on { $date }
trend-no-data = no data in these { $n } points
chart-threshold = threshold { $value }
history-starts = history starts { $date }
more-items = { $n } more
resolved-tail = (resolved)
ack-tail = (ack { $id })
no-alerts = No alerts.
one-line-note = Alerts after the first ones are listed one line each: run flywheel alerts for the details.
subject-resolved = resolved
subject-no-alerts = no alerts
yes = yes
no = no
unknown = unknown
list-separator = {", "}
marketplace-level = { $marketplace } marketplace

## Footer of an alert email
footer-acknowledge = Acknowledge an alert (no repeats for 7 days): flywheel ack <id>, the 8-character id shown with it.
footer-silence = Silence a rule for a subject: flywheel silence --rule <rule> --asin <ASIN> (or --sku, --campaign, --account) --for 7d --note '...'. List alerts: flywheel alerts.
footer-sent = Sent by flywheel at { $time } ({ $zone }).

## The weekly digest
digest-title = Weekly flywheel health check (12 core KPIs)
digest-open-alerts = Open alerts ({ $n })
digest-no-open-alerts = None: every rule is quiet.
digest-improved = What improved this week
digest-nothing-improved = Nothing resolved or improved this week.
digest-unavailable = Data unavailable (missing roles)
digest-grant-role = Grant the role in Seller Central (Apps and Services > Develop Apps), then run flywheel doctor.
digest-more-marketplaces = The checklists of { $n } more marketplace(s) ({ $list }) did not fit: run flywheel kpis.
digest-sent = Sent by flywheel at { $time } ({ $zone }). flywheel kpis prints the checklist any day; flywheel alerts lists every alert.
kpi-status-ok = OK
kpi-status-warning = WARNING
kpi-status-critical = CRITICAL
kpi-status-no-data = NO DATA

## Where a link in a message goes
page-detail = Product page
page-home = Seller Central
page-account-health = Account Health
page-feedback-manager = Feedback Manager
page-manage-inventory = Manage Inventory
page-restock = Restock Inventory
page-returns = Manage Returns
page-edit-listing = Edit listing
page-fix-listing = Fix listing
page-brand-analytics = Brand Analytics
page-campaigns = Campaign manager
page-campaign = Campaign in the advertising console

## Units (the number arrives formatted)
unit-hours = { $n } h
unit-days = { $count ->
    [one] { $n } day
   *[other] { $n } days
}
unit-points = { $n } pts
unit-stars = { $n }★
unit-times = { $n }×
unit-rank = #{ $n }
unit-units = { $count ->
    [one] { $n } unit
   *[other] { $n } units
}
days-ago = { $count ->
    [one] { $n } day ago
   *[other] { $n } days ago
}

## Marketplaces
marketplace-CA = Canada
marketplace-US = United States
marketplace-MX = Mexico
marketplace-BR = Brazil
marketplace-IE = Ireland
marketplace-ES = Spain
marketplace-UK = United Kingdom
marketplace-FR = France
marketplace-BE = Belgium
marketplace-NL = Netherlands
marketplace-DE = Germany
marketplace-IT = Italy
marketplace-SE = Sweden
marketplace-ZA = South Africa
marketplace-PL = Poland
marketplace-EG = Egypt
marketplace-TR = Turkey
marketplace-SA = Saudi Arabia
marketplace-AE = United Arab Emirates
marketplace-IN = India
marketplace-SG = Singapore
marketplace-AU = Australia
marketplace-JP = Japan
