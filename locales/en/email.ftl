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
kind-worse = WORSE
kind-worse-since = WORSE: { $was } in the last email; firing since { $since }
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

## The alert email's frame, summary and cards
email-title = flywheel · { $account }
email-as-of = { $marketplace } · as of { $time }
email-as-of-many = as of { $time }
colon = {": "}
subject-colon = {": "}
subject-still-firing = still firing: { $counts }
still-firing-heading = Still firing ({ $n })
resolved-heading = Resolved ({ $n })
omitted-note = { $count ->
    [one] and { $n } more alert not listed here: run flywheel alerts to see every one.
   *[other] and { $n } more alerts not listed here: run flywheel alerts to see every one.
}
ack-line = Acknowledge: flywheel ack { $ids }
campaign-id = Campaign { $id }
card-marketplace = { $marketplace }: { $link }
stake-per-day = ≈{ $amount }/day at stake
stake-share = ≈{ $amount }/day at stake ({ $share } of daily sales)
history-none = no history stored yet
chart-now = now { $value } ({ $date })
chart-range = min { $min } · max { $max }
chart-rolling = { $n }-day rolling

## What a finding says, with its numbers
unit-clicks = { $count ->
    [one] { $n } click
   *[other] { $n } clicks
}
hl-out-of-stock = out of stock
hl-no-sales = ad spend without sales
hl-feedback-response-sla = { $count ->
    [one] { $value } negative feedback unanswered past { $threshold }
   *[other] { $value } negative feedbacks unanswered past { $threshold }
}
hl-feedback-rate = negative feedback on { $value } of orders (limit { $threshold })
hl-review-topics = a complaint rose { $value } in reviews (alert at { $threshold })
hl-rating-floor = star rating { $value }, below { $threshold }
hl-return-rate = return rate { $value } (limit { $threshold })
hl-listing-health = { $count ->
    [one] { $value } listing issue
   *[other] { $value } listing issues
}
hl-account-health = order defect rate { $value } (limit { $threshold })
hl-conversion-rate = conversion { $value }, below { $threshold }
hl-traffic-trend = sessions down { $value } (alert at { $threshold })
hl-buy-box = Buy Box share { $value }, below { $threshold }
hl-bsr-trend = BSR { $value } worse (alert at { $threshold })
hl-keyword-share = impression share down { $value } (alert at { $threshold })
hl-growth-stall = { $value } ordered, { $threshold } before
hl-acos-band = ACoS { $value }, target { $threshold }
hl-tacos = TACoS { $value } (limit { $threshold })
hl-ad-reliance = ads bring { $value } of sales (limit { $threshold })
hl-cpc-trend = CPC up { $value } (alert at { $threshold })
hl-wasted-spend = { $value } and no order (alert at { $threshold })
hl-stockout-risk = { $value } of cover left, needs { $threshold }
hl-inventory-turnover = { $value } of supply (limit { $threshold })
hl-margin-floor = margin { $value } of the price (floor { $threshold })
hl-data-freshness = data { $value } old (allowed { $threshold })
hl-credentials = { $count ->
    [one] { $value } credentials problem
   *[other] { $value } credentials problems
}

## growth_stall's diagnosis as a sentence
diag-units = Sales down { $pct } ({ $before } → { $now } units)
diag-colon = {": "}
diag-separator = {"; "}
diag-out-of-stock = out of stock now
diag-stockout = out of stock for { $days } recently
diag-traffic-fell = traffic fell { $pct }
diag-traffic-rose = traffic rose { $pct }
diag-traffic-steady = traffic steady
diag-conversion-fell = conversion fell { $before } → { $now }
diag-conversion-rose = conversion rose { $before } → { $now }
diag-conversion-steady = conversion steady
check-stock = Stock
check-buy-box = Buy Box
check-price = Price
check-review-topics = Reviews
check-returns = Returns
check-listing = Listing
check-cpc = Ads
check-impression-share = Ad impression share
check-bsr = BSR
check-keyword-share = Keyword share

## What the seller does first, per rule (the Do-first list)
act-feedback-response-sla = Answer negative feedback
act-feedback-rate = Find why buyers leave negative feedback
act-review-topics = Fix what reviews complain about
act-rating-floor = Fix the cause of low ratings
act-return-rate = Stop the returns
act-listing-health = Fix the listing
act-account-health = Act on Account Health
act-conversion-rate = Fix conversion (price, reviews, images)
act-traffic-trend = Win back traffic
act-buy-box = Win back the Buy Box
act-bsr-trend = Find what cut sales
act-keyword-share = Defend the keyword
act-growth-stall = Restart growth
act-acos-band = Bring ACoS back into its band
act-tacos = Cut ad spend per sale
act-ad-reliance = Build organic sales
act-cpc-trend = Check the rising bids
act-wasted-spend = Add negative keywords
act-stockout-risk = Restock
act-inventory-turnover = Move slow stock
act-margin-floor = Fix the margin (price or cost)
act-data-freshness = Fix the data sync (flywheel doctor)
act-credentials = Renew the credentials (flywheel doctor)

## What a chart plots
chart-feedback-response-sla = Negative feedback unanswered past the deadline
chart-feedback-rate = Negative feedback rate
chart-review-topics = Share of reviews on the topic
chart-rating-floor = Star rating
chart-return-rate = Return rate
chart-listing-health = Listing issues
chart-account-health = Order defect rate
chart-conversion-rate = Conversion rate
chart-traffic-trend = Sessions
chart-buy-box = Buy Box share
chart-bsr-trend = Median BSR
chart-keyword-share = Impression share of the search term
chart-growth-stall = Units ordered
chart-acos-band = ACoS
chart-tacos = TACoS
chart-ad-reliance = Ad share of sales
chart-cpc-trend = CPC
chart-wasted-spend = Clicks on the search term
chart-stockout-risk = Days of cover
chart-inventory-turnover = Days of supply
chart-margin-floor = Margin per unit
chart-data-freshness = Hours since the last sync
chart-credentials = Credentials problems

## The weekly digest: summary, checklist, lists
digest-subject = weekly digest
digest-kpis-off = { $count ->
    [one] { $n } KPI off target
   *[other] { $n } KPIs off target
}
digest-open-count = { $count ->
    [one] { $n } open alert
   *[other] { $n } open alerts
}
digest-unavailable-count = { $n } source(s) unavailable
digest-generated = { $account } · generated { $time }
digest-checklist = { $marketplace }: flywheel health checklist as of { $date }
digest-target = target { $target }
digest-more = and { $n } more{ $hint }
digest-hint-alerts = : run flywheel alerts.
digest-hint-doctor = : run flywheel doctor.
digest-since = since { $time }
digest-resolved-line = resolved: { $title } { $name } at { $time }
digest-improved-line = { $kpi } in { $marketplace }: { $from } → { $to }
digest-unavailable-line = job { $job } unavailable since { $since }
digest-rules-without-data = rules without data: { $rules }
digest-alive-none = flywheel has not synced in the last 7 days: check that the daemon runs (systemctl status flywheel)
digest-alive = { $count ->
    [one] flywheel has synced once in the last 7 days
   *[other] flywheel has synced { $n } times in the last 7 days
}
digest-alive-separator = {"; "}
digest-last-round-ok = last sync round { $time } ok
digest-last-round-failed = last sync round { $time }: { $failed } of { $jobs } jobs failed
digest-alive-end = .
kpi-conversion-rate = Conversion rate, 14 days
kpi-sessions = Sessions, 7 days
kpi-buy-box-pct = Buy Box, 7 days
kpi-bsr = ASINs whose BSR worsened
kpi-acos = ACoS, matured 14 days
kpi-tacos = TACoS, matured 14 days
kpi-return-rate = Return rate, 30 days
kpi-feedback-sla-breaches = Negative feedback unanswered
kpi-negative-feedback-rate = Negative feedback rate, 30 days
kpi-days-of-supply = SKUs outside their days of supply
kpi-stockout-risk-skus = SKUs at stockout risk
kpi-account-health = Order defect rate
