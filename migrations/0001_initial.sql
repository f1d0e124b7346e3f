-- 0001_initial.sql: the first schema of flywheel's SQLite database.
--
-- Why this file exists: flywheel syncs SP-API and Ads API data on schedules, evaluates the
-- flywheel-health rules against it and emails alerts. Everything it knows survives restarts only
-- here: synced rows, each job's cursor and in-flight report ids (so a restart resumes instead of
-- re-requesting), API call counters, and the alert state machine with its outbox (so no email is
-- sent twice for one episode). docs/schema.md is the readable map of these tables.
--
-- Migrations are append-only: never edit this file once it has shipped; add NNNN_next.sql. The
-- runner wraps each file in one transaction and records the version in schema_migrations itself,
-- so this file has no BEGIN/COMMIT, no PRAGMA and does not create schema_migrations.
--
-- Conventions (every table follows them):
-- * STRICT tables: a value of the wrong type is an error, not a silent conversion.
-- * Accounts are named by the config's account name (accounts.name); every synced row carries it.
--   Marketplaces by Amazon's marketplace id ("ATVPDKIKX0DER").
-- * Ids: Amazon ids that are numeric (Ads profile, campaign, ad group, keyword ids) are INTEGER
--   (the Ads entity APIs send them as strings and the reports as JSON numbers; all fit in i64).
--   Order ids, ASINs, SKUs, FNSKUs, report ids and browse node ids are TEXT.
-- * Days: 'YYYY-MM-DD' TEXT, a calendar day in the marketplace's time zone (marketplaces.time_zone)
--   for SP-API data and in the Ads profile's time zone (ads_profiles.timezone) for Ads data, as
--   DESIGN 2.1 defines days. The store derives local days from timestamps when it writes (SQLite
--   cannot convert named time zones), so window queries are plain range scans.
-- * Timestamps: RFC 3339 UTC TEXT with whole seconds and a 'Z', exactly 'YYYY-MM-DDTHH:MM:SSZ'.
--   One fixed shape makes text comparison equal time comparison; CHECKs enforce it.
-- * Money: REAL in the unit Amazon reports (dollars, euros, yen; not cents), always beside a
--   currency column (ISO 4217). Why not integer minor units: Amazon serves decimal amounts in
--   currencies with different minor units (JPY 0, USD 2) and Ads costs with more decimals than the
--   currency has, and flywheel computes ratios and thresholds (ACoS, TACoS, margin) rather than
--   keeping books; an f64 holds any seller's amounts to ~15 significant digits. Never compare money
--   for equality in SQL and never sum across currencies.
-- * Ratios: columns ending _pct hold a percentage 0-100 (Amazon's buyBoxPercentage and
--   unitSessionPercentage); _share and _rate hold a fraction 0-1 (SQP shares, account health rates,
--   topOfSearchImpressionShare), in each case as Amazon sends it.
-- * Booleans: INTEGER 0/1 with a CHECK.
-- * JSON columns end in _json and are checked with json_valid().
-- * Natural keys: every synced table has a PRIMARY KEY or UNIQUE constraint naming the natural key,
--   so re-running a job upserts (INSERT ... ON CONFLICT DO UPDATE) and never duplicates. Key
--   columns are NOT NULL; where Amazon leaves a key part out, the store writes '' (text) or 0
--   (integer) as documented per table, because NULLs never collide in a UNIQUE index.
-- * Absence is not zero: a missing row means "unknown" unless a table's comment says otherwise.
-- * Foreign keys: to accounts and marketplaces everywhere (the store upserts both from the config
--   before any job runs), ON UPDATE CASCADE so an account can be renamed with one UPDATE.

------------------------------------------------------------------------------------------------
-- Accounts and marketplaces (from the config, not from Amazon)
------------------------------------------------------------------------------------------------

-- One row per configured seller account. Key: name (the config's account name).
CREATE TABLE accounts (
    name        TEXT NOT NULL PRIMARY KEY,
    -- Merchant token; no Amazon API returns it, so it comes from the config (needed by Listings).
    seller_id   TEXT,
    region      TEXT NOT NULL CHECK (region IN ('na', 'eu', 'fe')),
    created_at  TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    updated_at  TEXT NOT NULL CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z')
) STRICT;

-- The marketplaces an account sells in. Key: (account, marketplace_id). time_zone is the IANA zone
-- whose calendar days every SP-API date column of that marketplace uses (DESIGN 2.1).
CREATE TABLE marketplaces (
    account         TEXT NOT NULL REFERENCES accounts (name) ON UPDATE CASCADE,
    marketplace_id  TEXT NOT NULL,
    country_code    TEXT NOT NULL,          -- 'US', 'UK', 'DE', ...
    time_zone       TEXT NOT NULL,          -- 'America/Los_Angeles', 'Europe/Paris', ...
    currency        TEXT NOT NULL,          -- the marketplace's default currency
    created_at      TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    updated_at      TEXT NOT NULL CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    PRIMARY KEY (account, marketplace_id)
) STRICT;

------------------------------------------------------------------------------------------------
-- Catalogue
------------------------------------------------------------------------------------------------

-- The seller's products, one row per SKU. Key: (account, marketplace_id, sku).
-- Several jobs fill it (listings first; orders, inventory and sales & traffic add SKUs, ASINs and
-- parent ASINs they see); an upsert never replaces a known value with NULL. The browse node is
-- per ASIN and lives in item_browse_nodes.
CREATE TABLE products (
    account              TEXT NOT NULL,
    marketplace_id       TEXT NOT NULL,
    sku                  TEXT NOT NULL,
    asin                 TEXT,             -- child ASIN
    parent_asin          TEXT,
    fnsku                TEXT,
    title                TEXT,
    product_type         TEXT,
    -- 'FBA' (Amazon fulfils: AFN, fulfillmentChannelCode AMAZON_*) or 'FBM' (merchant: MFN, DEFAULT).
    fulfillment_channel  TEXT CHECK (fulfillment_channel IN ('FBA', 'FBM')),
    first_seen_at        TEXT NOT NULL CHECK (first_seen_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    updated_at           TEXT NOT NULL CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    PRIMARY KEY (account, marketplace_id, sku),
    FOREIGN KEY (account, marketplace_id) REFERENCES marketplaces (account, marketplace_id) ON UPDATE CASCADE
) STRICT;
CREATE INDEX products_by_asin ON products (account, marketplace_id, asin);

------------------------------------------------------------------------------------------------
-- Orders (job: orders)
------------------------------------------------------------------------------------------------

-- One row per order. Key: (account, order_id); Amazon order ids are unique across marketplaces.
-- Filled by GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL (history, gaps) and Orders
-- v2026-01-01 searchOrders (incremental); both paths write the same row. An upsert only applies
-- when excluded.last_updated_date >= the stored one, so an older source never overwrites a newer.
-- status is the one normalised vocabulary (mapping table in docs/schema.md); raw_status keeps
-- Amazon's value. 'unknown' is for a raw value the mapping does not know yet (never dropped).
-- Orders of another sales channel (MCF, sales_channel 'Non-Amazon') keep the marketplace the report
-- was requested for; rules exclude them by sales_channel.
CREATE TABLE orders (
    account              TEXT NOT NULL,
    order_id             TEXT NOT NULL,
    marketplace_id       TEXT NOT NULL,
    merchant_order_id    TEXT,
    purchase_date        TEXT NOT NULL CHECK (purchase_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    -- purchase_date as a calendar day in the marketplace's time zone: what window queries use.
    purchase_day         TEXT NOT NULL CHECK (purchase_day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    last_updated_date    TEXT NOT NULL CHECK (last_updated_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    status               TEXT NOT NULL CHECK (status IN ('pending', 'unshipped', 'partially_shipped',
                             'shipped', 'canceled', 'unfulfillable', 'invoice_unconfirmed',
                             'pending_availability', 'unknown')),
    raw_status           TEXT NOT NULL,
    fulfillment_channel  TEXT CHECK (fulfillment_channel IN ('FBA', 'FBM')),  -- AFN/AMAZON -> FBA, MFN/MERCHANT -> FBM
    sales_channel        TEXT,             -- 'Amazon.com', 'Amazon.de', 'Non-Amazon', ...
    ship_service_level   TEXT,
    is_business_order    INTEGER CHECK (is_business_order IN (0, 1)),
    -- Order amount: searchOrders proceeds grandTotal; from the flat file the same sum computed
    -- from the lines (item + shipping + gift wrap + their taxes - discounts). NULL when cancelled.
    currency             TEXT,
    order_total          REAL,
    source               TEXT NOT NULL CHECK (source IN ('report', 'api', 'import')),
    fetched_at           TEXT NOT NULL CHECK (fetched_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    PRIMARY KEY (account, order_id),
    FOREIGN KEY (account, marketplace_id) REFERENCES marketplaces (account, marketplace_id) ON UPDATE CASCADE
) STRICT;
-- Windows: units/sales per day and marketplace (stockout_risk, return_rate, growth_stall, fallbacks).
CREATE INDEX orders_by_day ON orders (account, marketplace_id, purchase_day);
CREATE INDEX orders_by_last_update ON orders (account, last_updated_date);

-- Order lines. Key: (account, order_id, sku) per DESIGN 3: when one order has several lines for the
-- same SKU, the parser adds them up (quantities and amounts) before the upsert. Amounts are the
-- line's totals (unit price x quantity), not unit prices. promotion_discount and
-- ship_promotion_discount are the discount's size, stored non-negative whatever sign the source uses.
-- The whole item set of an order is rewritten when the order is upserted.
CREATE TABLE order_items (
    account                  TEXT NOT NULL,
    order_id                 TEXT NOT NULL,
    sku                      TEXT NOT NULL,
    asin                     TEXT,
    title                    TEXT,
    quantity                 INTEGER NOT NULL CHECK (quantity >= 0),
    quantity_shipped         INTEGER CHECK (quantity_shipped >= 0),  -- flat file: quantity if item-status is shipped, else 0
    currency                 TEXT,
    item_price               REAL,
    item_tax                 REAL,
    shipping_price           REAL,
    promotion_discount       REAL CHECK (promotion_discount >= 0),
    ship_promotion_discount  REAL CHECK (ship_promotion_discount >= 0),
    item_status              TEXT,         -- Amazon's raw item status ('Shipped', 'Unshipped', 'Cancelled', ...)
    PRIMARY KEY (account, order_id, sku),
    FOREIGN KEY (account, order_id) REFERENCES orders (account, order_id) ON DELETE CASCADE ON UPDATE CASCADE
) STRICT;
CREATE INDEX order_items_by_sku ON order_items (account, sku);
CREATE INDEX order_items_by_asin ON order_items (account, asin);

------------------------------------------------------------------------------------------------
-- Inventory (jobs: inventory, inventory_planning, listings)
------------------------------------------------------------------------------------------------

-- Stock per SKU per observation. Key: (account, marketplace_id, sku, source, observed_at).
-- source 'fba_inventory': FBA getInventorySummaries (details=true, full pull); every row of one pull
-- shares observed_at (the pull's start), so "the latest snapshot" is one observed_at.
-- observed_at is the pull's start rounded down to the hour (the job runs hourly): a re-run within
-- the same hour overwrites that hour's snapshot instead of adding a second one (idempotent re-runs).
-- source 'listings': FBM stock from searchListingsItems fulfillmentAvailability (only fulfillable
-- is known; the FBA-only columns are NULL), kept so stockout days can be counted for FBM SKUs too.
-- The FBA Inventory API counts only local stock in the EU (Pan-EU remote stock is not in it).
CREATE TABLE inventory_snapshots (
    account            TEXT NOT NULL,
    marketplace_id     TEXT NOT NULL,
    sku                TEXT NOT NULL,
    source             TEXT NOT NULL CHECK (source IN ('fba_inventory', 'listings')),
    observed_at        TEXT NOT NULL CHECK (observed_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    observed_day       TEXT NOT NULL CHECK (observed_day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    asin               TEXT,
    fnsku              TEXT,
    condition          TEXT,
    fulfillable        INTEGER NOT NULL,
    inbound_working    INTEGER,
    inbound_shipped    INTEGER,
    inbound_receiving  INTEGER,
    reserved           INTEGER,
    unfulfillable      INTEGER,
    researching        INTEGER,
    total              INTEGER,
    PRIMARY KEY (account, marketplace_id, sku, source, observed_at),
    FOREIGN KEY (account, marketplace_id) REFERENCES marketplaces (account, marketplace_id) ON UPDATE CASCADE
) STRICT;
CREATE INDEX inventory_snapshots_by_time ON inventory_snapshots (account, marketplace_id, observed_at);
CREATE INDEX inventory_snapshots_by_day ON inventory_snapshots (account, marketplace_id, sku, observed_day);

-- GET_FBA_INVENTORY_PLANNING_DATA rows (the report that replaced inventory health/aged).
-- Key: (account, marketplace_id, snapshot_date, sku); snapshot_date is the report's own
-- snapshot-date column as a day. Columns the rules read are typed; every other column of the row
-- is kept in extra_json under its header name (the report has 65+ columns and changes them).
CREATE TABLE inventory_planning (
    account                        TEXT NOT NULL,
    marketplace_id                 TEXT NOT NULL,
    snapshot_date                  TEXT NOT NULL CHECK (snapshot_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    sku                            TEXT NOT NULL,
    asin                           TEXT,
    fnsku                          TEXT,
    condition                      TEXT,
    available                      INTEGER,
    inbound_quantity               INTEGER,
    reserved_quantity              INTEGER,
    unfulfillable_quantity         INTEGER,
    days_of_supply                 REAL,
    units_shipped_t7               INTEGER,
    units_shipped_t30              INTEGER,
    units_shipped_t60              INTEGER,
    units_shipped_t90              INTEGER,
    inv_age_0_to_90_days           INTEGER,
    inv_age_91_to_180_days         INTEGER,
    inv_age_181_to_270_days        INTEGER,
    inv_age_271_to_365_days        INTEGER,
    inv_age_365_plus_days          INTEGER,
    sales_rank                     INTEGER,
    currency                       TEXT,
    estimated_storage_cost_next_month REAL,
    recommended_action             TEXT,
    extra_json                     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(extra_json)),
    fetched_at                     TEXT NOT NULL CHECK (fetched_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    PRIMARY KEY (account, marketplace_id, snapshot_date, sku),
    FOREIGN KEY (account, marketplace_id) REFERENCES marketplaces (account, marketplace_id) ON UPDATE CASCADE
) STRICT;
CREATE INDEX inventory_planning_by_sku ON inventory_planning (account, marketplace_id, sku, snapshot_date);

------------------------------------------------------------------------------------------------
-- Sales & traffic (job: sales_traffic; GET_SALES_AND_TRAFFIC_REPORT, Brand Analytics role)
------------------------------------------------------------------------------------------------

-- One row per per-ASIN window report that completed. Key: (account, marketplace_id, window_start,
-- window_end), both days inclusive, marketplace time zone. Why it exists: per-ASIN rows carry no
-- date, and an ASIN with no orders in the window is simply absent. With this row present, an
-- absent ASIN had 0 units ordered but UNKNOWN sessions (no_data, not 0%); without it, nothing is
-- known about the window at all.
CREATE TABLE sales_traffic_windows (
    account         TEXT NOT NULL,
    marketplace_id  TEXT NOT NULL,
    window_start    TEXT NOT NULL CHECK (window_start GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    window_end      TEXT NOT NULL CHECK (window_end GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    asin_rows       INTEGER NOT NULL,       -- rows the report held (0 is a valid, complete answer)
    fetched_at      TEXT NOT NULL CHECK (fetched_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    PRIMARY KEY (account, marketplace_id, window_start, window_end),
    CHECK (window_start <= window_end),
    FOREIGN KEY (account, marketplace_id) REFERENCES marketplaces (account, marketplace_id) ON UPDATE CASCADE
) STRICT;

-- Per child ASIN totals over one window (asinGranularity=CHILD). Key: (account, marketplace_id,
-- asin, window_start, window_end). Re-fetching a window replaces its rows in one transaction: changed
-- rows are upserted and an ASIN that dropped out is deleted (it must not linger). As in every table the
-- report jobs write, an unchanged row is not rewritten: fetched_at is when its values last changed. Sums over a window are
-- Amazon's; never add windows together, and never compare them with the daily series (which counts
-- zero-order ASINs' traffic).
CREATE TABLE sales_traffic_asin (
    account                TEXT NOT NULL,
    marketplace_id         TEXT NOT NULL,
    asin                   TEXT NOT NULL,  -- childAsin
    window_start           TEXT NOT NULL,
    window_end             TEXT NOT NULL,
    parent_asin            TEXT,
    sessions               INTEGER,
    page_views             INTEGER,
    buy_box_pct            REAL,           -- buyBoxPercentage, 0-100
    unit_session_pct       REAL,           -- unitSessionPercentage, 0-100
    units_ordered          INTEGER,
    total_order_items      INTEGER,
    ordered_product_sales  REAL,
    currency               TEXT,
    fetched_at             TEXT NOT NULL CHECK (fetched_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    PRIMARY KEY (account, marketplace_id, asin, window_start, window_end),
    FOREIGN KEY (account, marketplace_id, window_start, window_end)
        REFERENCES sales_traffic_windows (account, marketplace_id, window_start, window_end)
        ON DELETE CASCADE ON UPDATE CASCADE
) STRICT;
CREATE INDEX sales_traffic_asin_by_window ON sales_traffic_asin (account, marketplace_id, window_start, window_end);

-- The account's daily series in one marketplace (dateGranularity=DAY). Key: (account,
-- marketplace_id, date). Days younger than 3 are re-read because Amazon fills them late, so rows
-- are overwritten; fetched_at says when. Unlike the per-ASIN rows, a day here counts all traffic.
CREATE TABLE sales_traffic_daily (
    account                          TEXT NOT NULL,
    marketplace_id                   TEXT NOT NULL,
    date                             TEXT NOT NULL CHECK (date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    sessions                         INTEGER,
    page_views                       INTEGER,
    buy_box_pct                      REAL,     -- 0-100
    unit_session_pct                 REAL,     -- 0-100
    order_item_session_pct           REAL,     -- 0-100
    units_ordered                    INTEGER,
    total_order_items                INTEGER,  -- Amazon's "orders" for the day is counted in order items
    ordered_product_sales            REAL,
    units_shipped                    INTEGER,
    orders_shipped                   INTEGER,
    shipped_product_sales            REAL,
    units_refunded                   INTEGER,
    refund_rate                      REAL,     -- as Amazon sends refundRate
    claims_granted                   INTEGER,
    claims_amount                    REAL,
    feedback_received                INTEGER,
    negative_feedback_received       INTEGER,
    received_negative_feedback_rate  REAL,     -- as Amazon sends it; rules compute from the counts
    currency                         TEXT,     -- of every amount on the row
    fetched_at                       TEXT NOT NULL CHECK (fetched_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    PRIMARY KEY (account, marketplace_id, date),
    FOREIGN KEY (account, marketplace_id) REFERENCES marketplaces (account, marketplace_id) ON UPDATE CASCADE
) STRICT;

------------------------------------------------------------------------------------------------
-- Customer experience (jobs: returns, seller_feedback, account_health, listings, customer_feedback)
------------------------------------------------------------------------------------------------

-- Customer returns. Key: (account, marketplace_id, source, order_id, sku, return_ref).
-- source 'fba': GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA; return_ref = license-plate-number.
-- source 'mfn': GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE; return_ref = Amazon RMA ID.
-- When the report leaves return_ref blank, the parser uses the return's date/time text instead, so
-- the key stays stable across re-reads. Rows with the same key within one file are added up.
-- A status change (e.g. a reimbursement) upserts over the same row.
CREATE TABLE returns (
    account          TEXT NOT NULL,
    marketplace_id   TEXT NOT NULL,
    source           TEXT NOT NULL CHECK (source IN ('fba', 'mfn')),
    order_id         TEXT NOT NULL,
    sku              TEXT NOT NULL,
    return_ref       TEXT NOT NULL,
    return_date      TEXT NOT NULL CHECK (return_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),  -- marketplace day
    returned_at      TEXT CHECK (returned_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),  -- NULL when the report gives a date only
    asin             TEXT,
    fnsku            TEXT,
    quantity         INTEGER NOT NULL CHECK (quantity >= 0),
    reason           TEXT,                 -- FBA reason / MFN Return Reason (Amazon's codes)
    disposition      TEXT,                 -- FBA detailed-disposition / MFN Resolution
    status           TEXT,                 -- FBA status / MFN Return request status
    report_type      TEXT NOT NULL,        -- the source report, for audit
    raw_json         TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(raw_json)),  -- the row by header name
    fetched_at       TEXT NOT NULL CHECK (fetched_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    PRIMARY KEY (account, marketplace_id, source, order_id, sku, return_ref),
    FOREIGN KEY (account, marketplace_id) REFERENCES marketplaces (account, marketplace_id) ON UPDATE CASCADE
) STRICT;
CREATE INDEX returns_by_sku_day ON returns (account, marketplace_id, sku, return_date);
CREATE INDEX returns_by_day ON returns (account, marketplace_id, return_date);

-- Seller feedback from GET_SELLER_FEEDBACK_DATA, which lists only 1-3 star feedback.
-- Key: (account, marketplace_id, order_id): a buyer leaves at most one seller feedback per order,
-- and an edit upserts over it. The report gives a date, no time, and no timestamp for the response:
-- response_seen_at is when flywheel first saw your_response non-empty. The rater's email is not
-- stored: no rule needs it, and a hash of an email is still personal data (easily guessed).
-- The acknowledged_* columns are user state written by `flywheel ack`; the sync's upsert must
-- never touch them (nor first_seen_at).
CREATE TABLE seller_feedback (
    account               TEXT NOT NULL,
    marketplace_id        TEXT NOT NULL,
    order_id              TEXT NOT NULL,
    feedback_date         TEXT NOT NULL CHECK (feedback_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),  -- marketplace day
    rating                INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comments              TEXT,
    your_response         TEXT,            -- NULL or '' when unanswered, as in the report
    arranged_fulfillment  TEXT,            -- who arranged fulfilment, as the report says (MWS-era/variant column)
    first_seen_at         TEXT NOT NULL CHECK (first_seen_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    last_seen_at          TEXT NOT NULL CHECK (last_seen_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    response_seen_at      TEXT CHECK (response_seen_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    acknowledged_at       TEXT CHECK (acknowledged_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    acknowledged_by       TEXT,
    acknowledgement_note  TEXT,
    PRIMARY KEY (account, marketplace_id, order_id),
    FOREIGN KEY (account, marketplace_id) REFERENCES marketplaces (account, marketplace_id) ON UPDATE CASCADE
) STRICT;
CREATE INDEX seller_feedback_by_day ON seller_feedback (account, marketplace_id, feedback_date);

-- GET_V2_SELLER_PERFORMANCE_REPORT, one snapshot per marketplace per day. Key: (account,
-- marketplace_id, snapshot_date), snapshot_date being the marketplace day of the fetch (a re-run the
-- same day overwrites). Parsed leniently (Amazon's own example fails Amazon's schema): every metric
-- may be NULL and statuses are free text. Rates are fractions as the report sends them (0.01 = 1%).
-- ODR comes in an MFN and an AFN flavour; late shipment, pre-fulfilment cancellation and valid
-- tracking concern merchant-fulfilled orders only.
CREATE TABLE account_health_snapshots (
    account                      TEXT NOT NULL,
    marketplace_id               TEXT NOT NULL,
    snapshot_date                TEXT NOT NULL CHECK (snapshot_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    account_status               TEXT,     -- accountStatuses[].status: NORMAL, AT_RISK, DEACTIVATED, (SUSPENDED seen)
    health_rating_status         TEXT,     -- accountHealthRating.accountHealthRatingStatus
    odr_mfn_rate                 REAL,
    odr_afn_rate                 REAL,
    late_shipment_rate           REAL,
    pre_fulfillment_cancel_rate  REAL,
    valid_tracking_rate          REAL,
    on_time_delivery_rate        REAL,
    invoice_defect_rate          REAL,
    raw_json                     TEXT NOT NULL CHECK (json_valid(raw_json)),  -- this marketplace's blocks
    fetched_at                   TEXT NOT NULL CHECK (fetched_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    PRIMARY KEY (account, marketplace_id, snapshot_date),
    FOREIGN KEY (account, marketplace_id) REFERENCES marketplaces (account, marketplace_id) ON UPDATE CASCADE
) STRICT;

-- Listing state per SKU from searchListingsItems (includedData summaries, issues,
-- fulfillmentAvailability, offers). Key: (account, marketplace_id, sku). Current state only: each full
-- pull upserts what it saw and deletes the marketplace's rows whose SKU it did not see (a listing
-- that is gone is gone; its issues cascade). Status history is not kept. observed_at is when the
-- row's values were last seen to change (an unchanged row is not rewritten: re-runs are no-ops).
CREATE TABLE listings (
    account                   TEXT NOT NULL,
    marketplace_id            TEXT NOT NULL,
    sku                       TEXT NOT NULL,
    asin                      TEXT,
    product_type              TEXT,
    item_name                 TEXT,
    condition_type            TEXT,
    statuses_json             TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(statuses_json)),  -- summaries[].status as sent
    is_buyable                INTEGER NOT NULL CHECK (is_buyable IN (0, 1)),
    is_discoverable           INTEGER NOT NULL CHECK (is_discoverable IN (0, 1)),
    -- 1 when an issue's enforcements carry LISTING_SUPPRESSED, SEARCH_SUPPRESSED or CATALOG_ITEM_REMOVED.
    is_suppressed             INTEGER NOT NULL CHECK (is_suppressed IN (0, 1)),
    fulfillment_channel_code  TEXT,         -- 'DEFAULT' = merchant-fulfilled, 'AMAZON_NA'/'AMAZON_EU'/... = FBA
    fbm_quantity              INTEGER,      -- fulfillmentAvailability quantity for DEFAULT; NULL for FBA
    -- The B2C offer price (includedData=offers): the price the fees job estimates fees at.
    price                     REAL,
    currency                  TEXT,
    amazon_created_at         TEXT,         -- summaries createdDate, as sent
    amazon_updated_at         TEXT,         -- summaries lastUpdatedDate, as sent
    first_seen_at             TEXT NOT NULL CHECK (first_seen_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    observed_at               TEXT NOT NULL CHECK (observed_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    PRIMARY KEY (account, marketplace_id, sku),
    FOREIGN KEY (account, marketplace_id) REFERENCES marketplaces (account, marketplace_id) ON UPDATE CASCADE
) STRICT;
CREATE INDEX listings_by_asin ON listings (account, marketplace_id, asin);

-- Issues of a listing. Key: (account, marketplace_id, sku, code, attribute_names_json): one code can
-- be raised for several attributes. attribute_names_json is the sorted JSON array ('[]' when none),
-- so the key is stable. Rewritten with its listing on every pull (rows not seen are deleted);
-- first_seen_at survives because the pull upserts before it deletes.
CREATE TABLE listing_issues (
    account                   TEXT NOT NULL,
    marketplace_id            TEXT NOT NULL,
    sku                       TEXT NOT NULL,
    code                      TEXT NOT NULL,
    attribute_names_json      TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(attribute_names_json)),
    severity                  TEXT NOT NULL,          -- ERROR, WARNING, INFO (as sent)
    message                   TEXT NOT NULL,
    categories_json           TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(categories_json)),
    enforcement_actions_json  TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(enforcement_actions_json)),
    exemption_status          TEXT,                   -- EXEMPT, EXEMPT_UNTIL_EXPIRY_DATE, NOT_EXEMPT
    first_seen_at             TEXT NOT NULL CHECK (first_seen_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    observed_at               TEXT NOT NULL CHECK (observed_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    PRIMARY KEY (account, marketplace_id, sku, code, attribute_names_json),
    FOREIGN KEY (account, marketplace_id, sku) REFERENCES listings (account, marketplace_id, sku)
        ON DELETE CASCADE ON UPDATE CASCADE
) STRICT;

-- An ASIN's browse node (Customer Feedback getItemBrowseNode). Key: (account, marketplace_id, asin).
-- The review_topics rule compares an ASIN's topics with its browse node's through this table.
CREATE TABLE item_browse_nodes (
    account           TEXT NOT NULL,
    marketplace_id    TEXT NOT NULL,
    asin              TEXT NOT NULL,
    browse_node_id    TEXT NOT NULL,
    browse_node_name  TEXT,               -- displayName
    fetched_at        TEXT NOT NULL CHECK (fetched_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    PRIMARY KEY (account, marketplace_id, asin),
    FOREIGN KEY (account, marketplace_id) REFERENCES marketplaces (account, marketplace_id) ON UPDATE CASCADE
) STRICT;
CREATE INDEX item_browse_nodes_by_node ON item_browse_nodes (account, marketplace_id, browse_node_id);

-- Review topics of an ASIN or a browse node over the API's date range (about 6 months) from
-- getItemReviewTopics / getBrowseNodeReviewTopics. Key: (account, marketplace_id, subject_kind,
-- subject_id, period_start, period_end, sentiment, topic). The API gives topic statistics, never
-- individual reviews, and answers 204 when there is no data (no rows, not zero).
-- occurrence_pct: asinMetrics.occurrencePercentage for an ASIN, browseNodeMetrics
-- .occurrencePercentage.allProducts for a browse node (Amazon calls it a percentage).
CREATE TABLE review_topics (
    account                          TEXT NOT NULL,
    marketplace_id                   TEXT NOT NULL,
    subject_kind                     TEXT NOT NULL CHECK (subject_kind IN ('asin', 'browse_node')),
    subject_id                       TEXT NOT NULL,   -- the ASIN or the browse node id
    period_start                     TEXT NOT NULL CHECK (period_start GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    period_end                       TEXT NOT NULL CHECK (period_end GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    sentiment                        TEXT NOT NULL CHECK (sentiment IN ('positive', 'negative')),
    topic                            TEXT NOT NULL,
    mentions                         INTEGER,         -- numberOfMentions (ASIN only)
    occurrence_pct                   REAL,
    star_rating_impact               REAL,            -- ASIN: asinMetrics; node: allProducts
    browse_node_occurrence_pct       REAL,            -- ASIN rows: the same topic in the ASIN's node
    browse_node_star_rating_impact   REAL,            -- ASIN rows: the same, star rating impact
    top25_occurrence_pct             REAL,            -- node rows: topTwentyFivePercentProducts
    top25_star_rating_impact         REAL,            -- node rows
    raw_json                         TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(raw_json)),  -- subtopics, child ASIN metrics
    fetched_at                       TEXT NOT NULL CHECK (fetched_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    PRIMARY KEY (account, marketplace_id, subject_kind, subject_id, period_start, period_end, sentiment, topic),
    FOREIGN KEY (account, marketplace_id) REFERENCES marketplaces (account, marketplace_id) ON UPDATE CASCADE
) STRICT;
CREATE INDEX review_topics_latest ON review_topics (account, marketplace_id, subject_kind, subject_id, period_end);

-- Monthly trend points of a review topic (getItemReviewTrends / getBrowseNodeReviewTrends).
-- Key: (account, marketplace_id, subject_kind, subject_id, sentiment, topic, period_start).
-- A re-fetch overwrites a month's point. The "rose >= 5 points over 3 months" test reads these.
CREATE TABLE review_topic_trends (
    account                     TEXT NOT NULL,
    marketplace_id              TEXT NOT NULL,
    subject_kind                TEXT NOT NULL CHECK (subject_kind IN ('asin', 'browse_node')),
    subject_id                  TEXT NOT NULL,
    sentiment                   TEXT NOT NULL CHECK (sentiment IN ('positive', 'negative')),
    topic                       TEXT NOT NULL,
    period_start                TEXT NOT NULL CHECK (period_start GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    period_end                  TEXT NOT NULL CHECK (period_end GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    occurrence_pct              REAL,     -- ASIN: asinMetrics; node: allProducts
    parent_occurrence_pct       REAL,     -- ASIN rows: parentAsinMetrics
    browse_node_occurrence_pct  REAL,     -- ASIN rows: browseNodeMetrics.occurrencePercentage.allProducts
    top25_occurrence_pct        REAL,     -- node rows: topTwentyFivePercentProducts
    raw_json                    TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(raw_json)),
    fetched_at                  TEXT NOT NULL CHECK (fetched_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    PRIMARY KEY (account, marketplace_id, subject_kind, subject_id, sentiment, topic, period_start),
    FOREIGN KEY (account, marketplace_id) REFERENCES marketplaces (account, marketplace_id) ON UPDATE CASCADE
) STRICT;

------------------------------------------------------------------------------------------------
-- Growth signals (jobs: catalog_ranks, pricing, search_query_performance)
------------------------------------------------------------------------------------------------

-- Best Sellers Rank per ASIN per day (searchCatalogItems includedData=salesRanks). There is no rank
-- history API, so this table is the history. Key: (account, marketplace_id, asin, snapshot_date);
-- a second sample on the same marketplace day overwrites the first. The main rank is the first
-- displayGroupRanks entry; the first classificationRanks entry is kept as evidence; all ranks are
-- in raw_json. An ASIN without a rank gets a row with NULL ranks (observed, unranked).
CREATE TABLE catalog_ranks (
    account               TEXT NOT NULL,
    marketplace_id        TEXT NOT NULL,
    asin                  TEXT NOT NULL,
    snapshot_date         TEXT NOT NULL CHECK (snapshot_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    display_group         TEXT,         -- websiteDisplayGroup, e.g. 'home_garden_display_on_website'
    display_group_title   TEXT,
    display_group_rank    INTEGER,
    classification_id     TEXT,
    classification_title  TEXT,
    classification_rank   INTEGER,
    raw_json              TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(raw_json)),  -- salesRanks for this marketplace
    observed_at           TEXT NOT NULL CHECK (observed_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    PRIMARY KEY (account, marketplace_id, asin, snapshot_date),
    FOREIGN KEY (account, marketplace_id) REFERENCES marketplaces (account, marketplace_id) ON UPDATE CASCADE
) STRICT;

-- Competitive summary per ASIN per observation (Product Pricing 2022-05-01 getCompetitiveSummary,
-- batches of 20). Key: (account, marketplace_id, asin, observed_at); observed_at is the pull's start
-- rounded down to the hour, so a re-run within the hour overwrites. Prices are landed (listing +
-- shipping) for condition New. The featured offer is the one holding the largest summed
-- glanceViewWeightPercentage over its segments. The featured offer is the Buy Box (the default, non-business
-- segment); is_featured_offer_ours compares its sellerId with accounts.seller_id (NULL: no featured
-- offer or seller id unknown). offer_count counts the offers Amazon listed, which it caps.
CREATE TABLE pricing_snapshots (
    account                  TEXT NOT NULL,
    marketplace_id           TEXT NOT NULL,
    asin                     TEXT NOT NULL,
    observed_at              TEXT NOT NULL CHECK (observed_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    observed_day             TEXT NOT NULL CHECK (observed_day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    currency                 TEXT,
    featured_offer_price     REAL,
    featured_offer_seller_id TEXT,
    is_featured_offer_ours   INTEGER CHECK (is_featured_offer_ours IN (0, 1)),
    -- Our own New offer's landed price (NULL: we have no offer in the answer, e.g. out of stock),
    -- and the glance-view share (0-100) of the segments where our offer is the featured one.
    our_price                REAL,
    our_featured_pct         REAL,
    lowest_new_fba_price     REAL,     -- lowest New offer fulfilled by Amazon (AFN)
    lowest_new_fbm_price     REAL,     -- lowest New offer fulfilled by the merchant (MFN)
    offer_count              INTEGER,
    raw_json                 TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(raw_json)),
    PRIMARY KEY (account, marketplace_id, asin, observed_at),
    FOREIGN KEY (account, marketplace_id) REFERENCES marketplaces (account, marketplace_id) ON UPDATE CASCADE
) STRICT;
CREATE INDEX pricing_snapshots_by_day ON pricing_snapshots (account, marketplace_id, observed_day);

-- Product Fees estimates (getMyFeesEstimates, batch). Key: (account, marketplace_id, sku, price):
-- an estimate is for one SKU at one price; the weekly job overwrites it and moves estimated_at.
-- margin_floor reads the newest estimate per SKU.
CREATE TABLE fee_estimates (
    account               TEXT NOT NULL,
    marketplace_id        TEXT NOT NULL,
    sku                   TEXT NOT NULL,
    price                 REAL NOT NULL,      -- the listing price the estimate was asked for
    currency              TEXT NOT NULL,      -- of price and every fee
    is_amazon_fulfilled   INTEGER NOT NULL CHECK (is_amazon_fulfilled IN (0, 1)),
    total_fees            REAL,
    referral_fee          REAL,
    fba_fee               REAL,               -- FBAFees (fulfilment); NULL for FBM
    variable_closing_fee  REAL,
    fee_detail_json       TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(fee_detail_json)),  -- FeeDetailList as sent
    estimated_at          TEXT NOT NULL CHECK (estimated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    PRIMARY KEY (account, marketplace_id, sku, price),
    FOREIGN KEY (account, marketplace_id) REFERENCES marketplaces (account, marketplace_id) ON UPDATE CASCADE
) STRICT;
CREATE INDEX fee_estimates_latest ON fee_estimates (account, marketplace_id, sku, estimated_at);

-- Brand Analytics Search Query Performance, WEEK periods. Key: (account, marketplace_id, asin,
-- week_start, search_query). A week runs Sunday to Saturday (the CHECK holds week_start to a
-- Sunday). Shares are fractions 0-1 as Amazon sends them. Amazon lists only the queries it ranks
-- for the ASIN, so an absent query is unknown, not zero.
CREATE TABLE search_query_performance (
    account              TEXT NOT NULL,
    marketplace_id       TEXT NOT NULL,
    asin                 TEXT NOT NULL,
    week_start           TEXT NOT NULL CHECK (week_start GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'
                                              AND strftime('%w', week_start) = '0'),
    week_end             TEXT NOT NULL CHECK (week_end GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    search_query         TEXT NOT NULL,
    search_query_score   INTEGER,      -- Amazon's rank of the query for the ASIN
    search_query_volume  INTEGER,
    impressions_total    INTEGER,      -- totalQueryImpressionCount
    impressions_asin     INTEGER,      -- asinImpressionCount
    impression_share     REAL,         -- asinImpressionShare
    clicks_total         INTEGER,
    clicks_asin          INTEGER,
    click_share          REAL,
    cart_adds_total      INTEGER,
    cart_adds_asin       INTEGER,
    cart_add_share       REAL,
    purchases_total      INTEGER,
    purchases_asin       INTEGER,
    purchase_share       REAL,
    fetched_at           TEXT NOT NULL CHECK (fetched_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    PRIMARY KEY (account, marketplace_id, asin, week_start, search_query),
    FOREIGN KEY (account, marketplace_id) REFERENCES marketplaces (account, marketplace_id) ON UPDATE CASCADE
) STRICT;
CREATE INDEX search_query_performance_by_week ON search_query_performance (account, marketplace_id, week_start);

------------------------------------------------------------------------------------------------
-- Amazon Ads (job: ads)
------------------------------------------------------------------------------------------------

-- Ads profiles (GET /v2/profiles), one per advertiser and marketplace. Key: profile_id (global).
-- timezone is the zone of every Ads date column of the profile ("used for all date-based campaign
-- management and reporting"). Every Ads row hangs off a profile; TACoS joins profiles to SP-API
-- data through (account, marketplace_id).
CREATE TABLE ads_profiles (
    profile_id      INTEGER NOT NULL PRIMARY KEY,
    account         TEXT NOT NULL REFERENCES accounts (name) ON UPDATE CASCADE,
    country_code    TEXT NOT NULL,
    currency        TEXT NOT NULL,
    timezone        TEXT NOT NULL,
    marketplace_id  TEXT,          -- accountInfo.marketplaceStringId
    account_type    TEXT NOT NULL CHECK (account_type IN ('seller', 'vendor', 'agency')),
    account_name    TEXT,
    account_info_id TEXT,          -- accountInfo.id (not unique across marketplaces)
    fetched_at      TEXT NOT NULL CHECK (fetched_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z')
) STRICT;
CREATE INDEX ads_profiles_by_account ON ads_profiles (account, marketplace_id);

-- Campaign metadata. Key: (profile_id, ad_product, campaign_id). SP rows come from
-- POST /sp/campaigns/list (names, states, budgets change; updated_at is our last write);
-- SB/SD rows are filled from the campaign name/status columns of their reports when no list call
-- exists. Reports only hold campaigns with activity, so idle campaigns are known only from here.
CREATE TABLE ads_campaigns (
    profile_id      INTEGER NOT NULL REFERENCES ads_profiles (profile_id) ON DELETE CASCADE,
    ad_product      TEXT NOT NULL CHECK (ad_product IN ('SP', 'SB', 'SD')),
    campaign_id     INTEGER NOT NULL,
    name            TEXT,
    state           TEXT,          -- ENABLED, PAUSED, ARCHIVED, ... as sent
    targeting_type  TEXT,          -- AUTO, MANUAL (SP)
    daily_budget    REAL,
    currency        TEXT,
    portfolio_id    INTEGER,
    start_date      TEXT CHECK (start_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    end_date        TEXT CHECK (end_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    updated_at      TEXT NOT NULL CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    PRIMARY KEY (profile_id, ad_product, campaign_id)
) STRICT;

-- Daily campaign metrics from reporting v3 spCampaigns / sbCampaigns / sdCampaigns (groupBy
-- campaign, DAILY). Key: (profile_id, ad_product, date, campaign_id); date is the profile's day.
-- The last 45 days are re-pulled every run because Amazon restates conversions up to 28 days after
-- the event, so rows are overwritten and fetched_at says when.
-- Column mapping: SP fills purchases/sales/units 7d and 14d from purchases7d, sales7d,
-- unitsSoldClicks7d, purchases14d, sales14d, unitsSoldClicks14d. SB and SD have no 7-day columns:
-- their purchasesClicks and salesClicks (14 days, click-attributed) go into purchases_14d and
-- sales_14d, and the 7d and units columns stay NULL. top_of_search_impression_share is SP only
-- (a fraction, NULL when Amazon has none).
CREATE TABLE ads_campaign_daily (
    profile_id                      INTEGER NOT NULL REFERENCES ads_profiles (profile_id) ON DELETE CASCADE,
    ad_product                      TEXT NOT NULL CHECK (ad_product IN ('SP', 'SB', 'SD')),
    date                            TEXT NOT NULL CHECK (date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    campaign_id                     INTEGER NOT NULL,
    campaign_name                   TEXT,
    campaign_status                 TEXT,
    campaign_budget_amount          REAL,
    impressions                     INTEGER NOT NULL,
    clicks                          INTEGER NOT NULL,
    cost                            REAL NOT NULL,
    purchases_7d                    INTEGER,
    purchases_14d                   INTEGER,
    sales_7d                        REAL,
    sales_14d                       REAL,
    units_7d                        INTEGER,
    units_14d                       INTEGER,
    top_of_search_impression_share  REAL,
    currency                        TEXT NOT NULL,   -- campaignBudgetCurrencyCode, else the profile's
    fetched_at                      TEXT NOT NULL CHECK (fetched_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    PRIMARY KEY (profile_id, ad_product, date, campaign_id)
) STRICT;
CREATE INDEX ads_campaign_daily_by_campaign ON ads_campaign_daily (profile_id, campaign_id, date);

-- Daily search-term metrics (reporting v3 spSearchTerm, groupBy searchTerm; ad_product leaves room
-- for sbSearchTerm). Key: (profile_id, ad_product, date, campaign_id, ad_group_id, keyword_id,
-- search_term). keyword_id is 0 when Amazon sends none. The API version of this report holds only
-- terms with at least one click; '*' is the term of placements without a query.
CREATE TABLE ads_search_term_daily (
    profile_id     INTEGER NOT NULL REFERENCES ads_profiles (profile_id) ON DELETE CASCADE,
    ad_product     TEXT NOT NULL CHECK (ad_product IN ('SP', 'SB', 'SD')),
    date           TEXT NOT NULL CHECK (date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    campaign_id    INTEGER NOT NULL,
    ad_group_id    INTEGER NOT NULL,
    keyword_id     INTEGER NOT NULL,
    search_term    TEXT NOT NULL,
    keyword        TEXT,            -- keyword text or targeting expression ('close-match', ...)
    match_type     TEXT,
    impressions    INTEGER NOT NULL,
    clicks         INTEGER NOT NULL,
    cost           REAL NOT NULL,
    purchases_7d   INTEGER,
    purchases_14d  INTEGER,
    sales_7d       REAL,
    sales_14d      REAL,
    currency       TEXT NOT NULL,
    fetched_at     TEXT NOT NULL CHECK (fetched_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    PRIMARY KEY (profile_id, ad_product, date, campaign_id, ad_group_id, keyword_id, search_term)
) STRICT;
CREATE INDEX ads_search_term_daily_by_term ON ads_search_term_daily (profile_id, campaign_id, search_term, date);

-- Daily advertised-product metrics (reporting v3 spAdvertisedProduct, groupBy advertiser;
-- ad_product leaves room for sdAdvertisedProduct). Key: (profile_id, ad_product, date, campaign_id,
-- ad_group_id, advertised_asin, advertised_sku); advertised_sku is '' when Amazon sends none
-- (vendors). Used to attribute ad cost and sales to ASINs (tacos, ad_reliance, margin_floor).
CREATE TABLE ads_advertised_product_daily (
    profile_id       INTEGER NOT NULL REFERENCES ads_profiles (profile_id) ON DELETE CASCADE,
    ad_product       TEXT NOT NULL CHECK (ad_product IN ('SP', 'SB', 'SD')),
    date             TEXT NOT NULL CHECK (date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    campaign_id      INTEGER NOT NULL,
    ad_group_id      INTEGER NOT NULL,
    advertised_asin  TEXT NOT NULL,
    advertised_sku   TEXT NOT NULL,
    impressions      INTEGER NOT NULL,
    clicks           INTEGER NOT NULL,
    cost             REAL NOT NULL,
    purchases_7d     INTEGER,
    purchases_14d    INTEGER,
    sales_7d         REAL,
    sales_14d        REAL,
    units_7d         INTEGER,
    units_14d        INTEGER,
    currency         TEXT NOT NULL,
    fetched_at       TEXT NOT NULL CHECK (fetched_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    PRIMARY KEY (profile_id, ad_product, date, campaign_id, ad_group_id, advertised_asin, advertised_sku)
) STRICT;
CREATE INDEX ads_advertised_product_daily_by_asin ON ads_advertised_product_daily (profile_id, advertised_asin, date);
CREATE INDEX ads_advertised_product_daily_by_sku ON ads_advertised_product_daily (profile_id, advertised_sku, date);

------------------------------------------------------------------------------------------------
-- Operations: jobs, cursors, in-flight reports, API accounting, credentials
------------------------------------------------------------------------------------------------

-- One row per job attempt. Key: id. Inserted as 'running' when the attempt starts and updated when
-- it ends; a row still 'running' at startup belongs to a crashed daemon and is closed as 'failed'.
-- data_freshness reads the last 'ok' finish per (job, account); `status` shows the latest rows.
-- 'unavailable': Amazon answered 403 (a missing role); 'skipped': not run (e.g. no budget, disabled).
CREATE TABLE job_runs (
    id              INTEGER PRIMARY KEY,
    job             TEXT NOT NULL,
    account         TEXT REFERENCES accounts (name) ON UPDATE CASCADE,  -- NULL for jobs of no account
    marketplace_id  TEXT,          -- NULL when the run covers the whole account
    started_at      TEXT NOT NULL CHECK (started_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    finished_at     TEXT CHECK (finished_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    status          TEXT NOT NULL CHECK (status IN ('running', 'ok', 'failed', 'unavailable', 'skipped')),
    row_count       INTEGER NOT NULL DEFAULT 0,    -- rows written
    error           TEXT,
    attempt         INTEGER NOT NULL DEFAULT 1 CHECK (attempt >= 1),   -- 1 + retries after failure
    CHECK ((status = 'running') = (finished_at IS NULL))
) STRICT;
CREATE INDEX job_runs_by_job ON job_runs (job, account, status, finished_at);
CREATE INDEX job_runs_by_start ON job_runs (started_at);

-- Where each job resumes. Key: (job, account, marketplace_id); marketplace_id is '' for a cursor of
-- the whole account (e.g. the ads job, whose per-profile positions live inside cursor_json).
-- Written in the same transaction as the rows it covers, so a crash loses nothing and doubles nothing.
CREATE TABLE job_cursors (
    job             TEXT NOT NULL,
    account         TEXT NOT NULL REFERENCES accounts (name) ON UPDATE CASCADE,
    marketplace_id  TEXT NOT NULL DEFAULT '',
    cursor_json     TEXT NOT NULL CHECK (json_valid(cursor_json)),
    updated_at      TEXT NOT NULL CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    PRIMARY KEY (job, account, marketplace_id)
) STRICT;

-- Reports requested and not yet consumed, so a restart resumes polling instead of re-requesting
-- (SP createReport costs one token of a 1-per-minute bucket; Ads reports can stay PENDING for
-- hours, and an Ads 425 names a duplicate to reuse). Key: (api, account, report_type, params_hash):
-- params_hash is a hash of the canonical request (marketplaces or profile, dates, options, columns,
-- groupBy), params_json the request itself. The row is inserted right after createReport returns,
-- and deleted in the transaction that writes the report's rows (or when the report ends
-- FATAL/FAILED/CANCELLED and that outcome has been recorded in job_runs).
-- status is Amazon's: SP IN_QUEUE/IN_PROGRESS/DONE/CANCELLED/FATAL, Ads PENDING/PROCESSING/COMPLETED/FAILED.
CREATE TABLE pending_reports (
    id              INTEGER PRIMARY KEY,
    api             TEXT NOT NULL CHECK (api IN ('sp', 'ads')),
    account         TEXT NOT NULL REFERENCES accounts (name) ON UPDATE CASCADE,
    job             TEXT NOT NULL,
    report_type     TEXT NOT NULL,     -- SP reportType or Ads reportTypeId
    marketplace_id  TEXT,              -- SP
    profile_id      INTEGER,           -- Ads
    params_hash     TEXT NOT NULL,
    params_json     TEXT NOT NULL CHECK (json_valid(params_json)),
    report_id       TEXT NOT NULL,
    status          TEXT NOT NULL,
    document_id     TEXT,              -- SP reportDocumentId once DONE (Ads: the URL is fetched fresh)
    poll_count      INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    last_polled_at  TEXT CHECK (last_polled_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    -- SP: consecutive FATAL (or empty-document) outcomes of this request. The row is then kept
    -- with status FATAL so the next createReport waits 5 min x 2^(failures-1), capped at 6 h
    -- (measured from last_polled_at); a successful report deletes the row and so resets it.
    failures        INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
    UNIQUE (api, account, report_type, params_hash)
) STRICT;
CREATE INDEX pending_reports_by_report_id ON pending_reports (api, report_id);

-- API calls per hour, for `flywheel status` and /metrics. Key: (account, api, operation,
-- status_class, hour_start); each call increments calls (and throttled on 429) with an upsert.
-- hour_start is the UTC hour, 'YYYY-MM-DDTHH:00:00Z'. status_class 'network' = no HTTP answer.
CREATE TABLE api_call_counts (
    account       TEXT NOT NULL REFERENCES accounts (name) ON UPDATE CASCADE,
    api           TEXT NOT NULL CHECK (api IN ('sp', 'ads', 'lwa')),
    operation     TEXT NOT NULL,     -- model operationId ('searchOrders') or Ads call name
    status_class  TEXT NOT NULL CHECK (status_class IN ('2xx', '3xx', '4xx', '5xx', 'network')),
    hour_start    TEXT NOT NULL CHECK (hour_start GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:00:00Z'),
    calls         INTEGER NOT NULL DEFAULT 0,
    throttled     INTEGER NOT NULL DEFAULT 0,   -- of which 429
    PRIMARY KEY (account, api, operation, status_class, hour_start),
    CHECK (throttled <= calls)
) STRICT;
CREATE INDEX api_call_counts_by_hour ON api_call_counts (hour_start);

-- Rate learned from x-amzn-RateLimit-Limit on the last 2xx (SP-API sends it on 200/400/404 only,
-- never on 429). Key: (account, api, operation). The burst is always the documented default and
-- is not stored. Operations without a row use the documented or assumed rate.
CREATE TABLE learned_rate_limits (
    account       TEXT NOT NULL REFERENCES accounts (name) ON UPDATE CASCADE,
    api           TEXT NOT NULL CHECK (api IN ('sp', 'ads')),
    operation     TEXT NOT NULL,
    rate_per_sec  REAL NOT NULL CHECK (rate_per_sec > 0),
    observed_at   TEXT NOT NULL CHECK (observed_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    PRIMARY KEY (account, api, operation)
) STRICT;

-- Credentials the token endpoint refused (LWA invalid_client, invalid_grant, unauthorized_client,
-- ...). Key: (account, api, error_kind). Open while cleared_at is NULL; the next successful token
-- refresh for (account, api) sets cleared_at. A recurrence reopens the row (cleared_at back to NULL,
-- first_seen_at kept). The credentials rule and `doctor` read the open rows.
CREATE TABLE credential_problems (
    account        TEXT NOT NULL REFERENCES accounts (name) ON UPDATE CASCADE,
    api            TEXT NOT NULL CHECK (api IN ('sp', 'ads')),
    error_kind     TEXT NOT NULL,     -- the LWA error code, or 'http_401' etc. for other refusals
    detail         TEXT,              -- error_description, never a secret
    first_seen_at  TEXT NOT NULL CHECK (first_seen_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    observed_at    TEXT NOT NULL CHECK (observed_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    cleared_at     TEXT CHECK (cleared_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    PRIMARY KEY (account, api, error_kind)
) STRICT;

------------------------------------------------------------------------------------------------
-- Alerts (DESIGN 5): state per fingerprint, acknowledgements, silences, outbox
------------------------------------------------------------------------------------------------

-- The Alertmanager-style state of one alert. Key: fingerprint = hash of the rule id and the subject
-- labels (labels_json, canonical: keys sorted). One episode runs from started_at (first pending) to
-- resolved_at; a new episode after resolution resets started_at, firing_since, resolved_at,
-- notify_count and thread_message_id. Written in the same transaction as the outbox rows it causes,
-- so "notified" is never recorded without the email and never twice.
CREATE TABLE alerts (
    fingerprint        TEXT NOT NULL PRIMARY KEY,
    rule               TEXT NOT NULL,
    account            TEXT NOT NULL REFERENCES accounts (name) ON UPDATE CASCADE,
    marketplace_id     TEXT,
    labels_json        TEXT NOT NULL CHECK (json_valid(labels_json)),   -- subject keys as in the finding JSON
    state              TEXT NOT NULL CHECK (state IN ('pending', 'firing', 'resolved')),
    severity           TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    value              REAL,
    threshold          REAL,
    started_at         TEXT NOT NULL CHECK (started_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    firing_since       TEXT CHECK (firing_since GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    resolved_at        TEXT CHECK (resolved_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    last_evaluated_at  TEXT NOT NULL CHECK (last_evaluated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    last_notified_at   TEXT CHECK (last_notified_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    notify_count       INTEGER NOT NULL DEFAULT 0,     -- emails for this episode (firing + repeats + resolved)
    last_finding_json  TEXT NOT NULL CHECK (json_valid(last_finding_json)),
    thread_message_id  TEXT,       -- Message-ID of this episode's first firing email (In-Reply-To target)
    CHECK ((state = 'resolved') = (resolved_at IS NOT NULL)),
    CHECK (state <> 'firing' OR firing_since IS NOT NULL)
) STRICT;
CREATE INDEX alerts_by_account_state ON alerts (account, state);
CREATE INDEX alerts_by_rule ON alerts (rule, state);

-- Acknowledgements from `flywheel ack`: the alert stays in its state but is not notified again
-- until expires_at. Key: id (history is kept; the one in force is the newest unexpired).
CREATE TABLE alert_acks (
    id           INTEGER PRIMARY KEY,
    fingerprint  TEXT NOT NULL REFERENCES alerts (fingerprint) ON DELETE CASCADE,
    expires_at   TEXT NOT NULL CHECK (expires_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    note         TEXT,
    created_by   TEXT,
    created_at   TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z')
) STRICT;
CREATE INDEX alert_acks_by_fingerprint ON alert_acks (fingerprint, expires_at);

-- Silences from `flywheel silence`: mute every alert of a rule ('*' = any rule) whose subject
-- matches all non-NULL matchers, until expires_at. Key: id. A NULL matcher matches anything.
CREATE TABLE silences (
    id              INTEGER PRIMARY KEY,
    rule            TEXT NOT NULL,
    account         TEXT REFERENCES accounts (name) ON UPDATE CASCADE,
    marketplace_id  TEXT,
    asin            TEXT,
    sku             TEXT,
    campaign_id     INTEGER,
    search_term     TEXT,
    expires_at      TEXT NOT NULL CHECK (expires_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    note            TEXT,
    created_by      TEXT,
    created_at      TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z')
) STRICT;
CREATE INDEX silences_by_expiry ON silences (expires_at);

-- The durable outbox: one row per email. Key: id. Rows are written in the same transaction as the
-- alert state that caused them; the sender delivers due rows (sent_at IS NULL AND next_attempt_at
-- <= now), sets sent_at only after the server accepted the message, and otherwise bumps attempts,
-- last_error and next_attempt_at (capped backoff). message_id derives from the row (the store sets
-- it in the inserting transaction), so a resend after a crash carries the same Message-ID.
-- in_reply_to threads a resolution under its firing email (References = the same id).
CREATE TABLE outbox (
    id                  INTEGER PRIMARY KEY,
    account             TEXT REFERENCES accounts (name) ON UPDATE CASCADE,   -- NULL for `send-test-email`
    kind                TEXT NOT NULL CHECK (kind IN ('firing', 'resolved', 'digest', 'test')),
    recipients_json     TEXT NOT NULL CHECK (json_valid(recipients_json) AND json_type(recipients_json) = 'array'),
    subject             TEXT NOT NULL,
    body_text           TEXT NOT NULL,
    body_html           TEXT,
    alert_fingerprints_json TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(alert_fingerprints_json)),  -- alerts this email reports
    message_id          TEXT UNIQUE,
    in_reply_to         TEXT,
    created_at          TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     TEXT NOT NULL CHECK (next_attempt_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    last_error          TEXT,
    sent_at             TEXT CHECK (sent_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z')
) STRICT;
-- The sender's queue: only unsent rows are indexed, so the index stays tiny however long the history.
CREATE INDEX outbox_unsent ON outbox (next_attempt_at) WHERE sent_at IS NULL;
CREATE INDEX outbox_by_created ON outbox (created_at);

-- Inline attachments of an outbox email (trend-chart PNGs referenced from the HTML by Content-ID).
-- Key: (outbox_id, content_id).
CREATE TABLE outbox_attachments (
    outbox_id     INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    content_id    TEXT NOT NULL,
    filename      TEXT NOT NULL,
    content_type  TEXT NOT NULL,     -- 'image/png'
    data          BLOB NOT NULL,
    PRIMARY KEY (outbox_id, content_id)
) STRICT;

------------------------------------------------------------------------------------------------
-- KPIs (DESIGN 2.3): the weekly 12-KPI checklist as SQL views (`flywheel kpis` reads the same views)
------------------------------------------------------------------------------------------------
-- Why this block: a seller or their analyst should be able to read the checklist with any SQLite
-- tool, without flywheel, and get exactly what `flywheel kpis` prints. So the KPIs are defined once,
-- here, and `flywheel kpis` only records the evaluation date, reads kpi_all and adds targets and
-- status from the config. The views follow DESIGN 2.1: windows end the day before the evaluation
-- date `at` (marketplace days), ratios are ratios of sums, the Ads window is the matured one
-- (ending attribution_days + 1 days before `at`), an ASIN absent from a per-ASIN window report has
-- no value (NULL, not 0), and snapshots count only when observed. SQLite cannot convert named time
-- zones, so the run that records the date also records the UTC instants and settings the views need.

-- The evaluation date per marketplace, written by every `flywheel kpis` (and `evaluate`) run; the
-- kpi_* views compute as of this date. Key: (account, marketplace_id): one date per marketplace.
-- at_start/at_end: the start of `at` and of the next day in the marketplace zone, as UTC instants;
-- window30_start: the start of at - 30 days (units shipped are counted by ship time).
-- sla_last_day: the newest feedback day already older than the response SLA at at_start.
-- cover_days_json: {"default": lead time + safety days, "skus": {"<sku>": days, ...}} from the
-- config's stockout_risk rule and its per-SKU overrides.
CREATE TABLE evaluation_dates (
    account           TEXT NOT NULL,
    marketplace_id    TEXT NOT NULL,
    at                TEXT NOT NULL CHECK (at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    at_start          TEXT NOT NULL CHECK (at_start GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    at_end            TEXT NOT NULL CHECK (at_end GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    window30_start    TEXT NOT NULL CHECK (window30_start GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    attribution_days  INTEGER NOT NULL CHECK (attribution_days >= 1),
    sla_max_rating    INTEGER NOT NULL,
    sla_last_day      TEXT NOT NULL CHECK (sla_last_day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    cover_days_json   TEXT NOT NULL CHECK (json_valid(cover_days_json)),
    recorded_by       TEXT NOT NULL CHECK (recorded_by IN ('kpis', 'evaluate')),
    recorded_at       TEXT NOT NULL CHECK (recorded_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    PRIMARY KEY (account, marketplace_id),
    FOREIGN KEY (account, marketplace_id) REFERENCES marketplaces (account, marketplace_id) ON UPDATE CASCADE
) STRICT;

-- Subjects: the ASINs, SKUs and campaigns a marketplace has KPIs for.
CREATE VIEW kpi_asins AS
SELECT account, marketplace_id, asin FROM products WHERE asin IS NOT NULL AND asin <> ''
UNION SELECT account, marketplace_id, asin FROM listings WHERE asin IS NOT NULL AND asin <> ''
UNION SELECT account, marketplace_id, asin FROM sales_traffic_asin
UNION SELECT account, marketplace_id, asin FROM catalog_ranks;

CREATE VIEW kpi_skus AS
SELECT account, marketplace_id, sku FROM products
UNION SELECT account, marketplace_id, sku FROM listings;

CREATE VIEW kpi_campaigns AS
SELECT p.account, p.marketplace_id, c.profile_id, c.ad_product, c.campaign_id
FROM ads_campaigns c JOIN ads_profiles p ON p.profile_id = c.profile_id
WHERE p.marketplace_id IS NOT NULL
UNION
SELECT p.account, p.marketplace_id, d.profile_id, d.ad_product, d.campaign_id
FROM ads_campaign_daily d JOIN ads_profiles p ON p.profile_id = d.profile_id
WHERE p.marketplace_id IS NOT NULL;

-- conversion_rate: units ordered / sessions x 100, last 14 days. Marketplace: the daily series;
-- ASIN: the per-ASIN 14-day window report (absent ASIN: NULL).
CREATE VIEW kpi_conversion_rate AS
WITH m AS (
    SELECT e.account, e.marketplace_id, e.at,
           SUM(d.units_ordered) AS units, SUM(d.sessions) AS sessions
    FROM evaluation_dates e
    LEFT JOIN sales_traffic_daily d
        ON d.account = e.account AND d.marketplace_id = e.marketplace_id
       AND d.date BETWEEN date(e.at, '-14 days') AND date(e.at, '-1 day')
    GROUP BY e.account, e.marketplace_id
)
SELECT account, marketplace_id, at, NULL AS asin,
       CASE WHEN sessions > 0 THEN units * 100.0 / sessions END AS value, units, sessions
FROM m
UNION ALL
SELECT a.account, a.marketplace_id, e.at, a.asin,
       CASE WHEN r.sessions > 0 THEN r.units_ordered * 100.0 / r.sessions END,
       r.units_ordered, r.sessions
FROM evaluation_dates e
JOIN kpi_asins a ON a.account = e.account AND a.marketplace_id = e.marketplace_id
LEFT JOIN sales_traffic_asin r
    ON r.account = a.account AND r.marketplace_id = a.marketplace_id AND r.asin = a.asin
   AND r.window_start = date(e.at, '-14 days') AND r.window_end = date(e.at, '-1 day');

-- sessions: last 7 days, change_pct vs the prior 7. Same sources as conversion_rate.
CREATE VIEW kpi_sessions AS
WITH m AS (
    SELECT e.account, e.marketplace_id, e.at,
           SUM(CASE WHEN d.date >= date(e.at, '-7 days') THEN d.sessions END) AS last7,
           SUM(CASE WHEN d.date < date(e.at, '-7 days') THEN d.sessions END) AS prior7
    FROM evaluation_dates e
    LEFT JOIN sales_traffic_daily d
        ON d.account = e.account AND d.marketplace_id = e.marketplace_id
       AND d.date BETWEEN date(e.at, '-14 days') AND date(e.at, '-1 day')
    GROUP BY e.account, e.marketplace_id
),
a AS (
    SELECT a.account, a.marketplace_id, e.at, a.asin, r.sessions AS last7, p.sessions AS prior7
    FROM evaluation_dates e
    JOIN kpi_asins a ON a.account = e.account AND a.marketplace_id = e.marketplace_id
    LEFT JOIN sales_traffic_asin r
        ON r.account = a.account AND r.marketplace_id = a.marketplace_id AND r.asin = a.asin
       AND r.window_start = date(e.at, '-7 days') AND r.window_end = date(e.at, '-1 day')
    LEFT JOIN sales_traffic_asin p
        ON p.account = a.account AND p.marketplace_id = a.marketplace_id AND p.asin = a.asin
       AND p.window_start = date(e.at, '-14 days') AND p.window_end = date(e.at, '-8 days')
)
SELECT account, marketplace_id, at, NULL AS asin, last7 AS value,
       CASE WHEN prior7 > 0 THEN (last7 - prior7) * 100.0 / prior7 END AS change_pct, last7, prior7
FROM m
UNION ALL
SELECT account, marketplace_id, at, asin, last7,
       CASE WHEN prior7 > 0 THEN (last7 - prior7) * 100.0 / prior7 END, last7, prior7
FROM a;

-- buy_box_pct: page-view weighted buy box percentage, last 7 days.
CREATE VIEW kpi_buy_box_pct AS
WITH m AS (
    SELECT e.account, e.marketplace_id, e.at,
           SUM(d.buy_box_pct * d.page_views) AS weighted, SUM(d.page_views) AS page_views
    FROM evaluation_dates e
    LEFT JOIN sales_traffic_daily d
        ON d.account = e.account AND d.marketplace_id = e.marketplace_id
       AND d.date BETWEEN date(e.at, '-7 days') AND date(e.at, '-1 day')
    GROUP BY e.account, e.marketplace_id
)
SELECT account, marketplace_id, at, NULL AS asin,
       CASE WHEN page_views > 0 THEN weighted / page_views END AS value, page_views
FROM m
UNION ALL
SELECT a.account, a.marketplace_id, e.at, a.asin,
       CASE WHEN r.page_views > 0 THEN r.buy_box_pct END, r.page_views
FROM evaluation_dates e
JOIN kpi_asins a ON a.account = e.account AND a.marketplace_id = e.marketplace_id
LEFT JOIN sales_traffic_asin r
    ON r.account = a.account AND r.marketplace_id = a.marketplace_id AND r.asin = a.asin
   AND r.window_start = date(e.at, '-7 days') AND r.window_end = date(e.at, '-1 day');

-- bsr: median main display-group rank over the observed days of the last 7, change_pct vs the
-- prior 7 (a positive change is a worse rank).
CREATE VIEW kpi_bsr AS
WITH r AS (
    SELECT c.account, c.marketplace_id, c.asin,
           CASE WHEN c.snapshot_date >= date(e.at, '-7 days') THEN 'last' ELSE 'prior' END AS w,
           c.display_group_rank AS v
    FROM evaluation_dates e
    JOIN catalog_ranks c
        ON c.account = e.account AND c.marketplace_id = e.marketplace_id
       AND c.snapshot_date BETWEEN date(e.at, '-14 days') AND date(e.at, '-1 day')
    WHERE c.display_group_rank IS NOT NULL
),
o AS (
    SELECT r.*, ROW_NUMBER() OVER (PARTITION BY account, marketplace_id, asin, w ORDER BY v) AS rn,
           COUNT(*) OVER (PARTITION BY account, marketplace_id, asin, w) AS n
    FROM r
),
med AS (
    SELECT account, marketplace_id, asin, w, AVG(v) AS median, MAX(n) AS days
    FROM o WHERE rn IN ((n + 1) / 2, (n + 2) / 2)
    GROUP BY account, marketplace_id, asin, w
)
SELECT a.account, a.marketplace_id, e.at, a.asin, l.median AS value,
       CASE WHEN p.median > 0 THEN (l.median - p.median) * 100.0 / p.median END AS change_pct,
       l.days AS days_observed, p.median AS prior_median, p.days AS prior_days_observed
FROM evaluation_dates e
JOIN kpi_asins a ON a.account = e.account AND a.marketplace_id = e.marketplace_id
LEFT JOIN med l ON l.account = a.account AND l.marketplace_id = a.marketplace_id AND l.asin = a.asin AND l.w = 'last'
LEFT JOIN med p ON p.account = a.account AND p.marketplace_id = a.marketplace_id AND p.asin = a.asin AND p.w = 'prior';

-- acos: ad cost / attributed sales x 100 over the matured 14-day window (SP: sales_7d or
-- sales_14d by attribution_days; SB/SD: sales_14d, their only attribution). Per campaign, and per
-- marketplace over all its campaigns (no marketplace row when it has no campaigns).
CREATE VIEW kpi_acos AS
WITH w AS (
    SELECT e.*, date(e.at, '-' || (e.attribution_days + 14) || ' days') AS a_start,
           date(e.at, '-' || (e.attribution_days + 1) || ' days') AS a_end
    FROM evaluation_dates e
),
c AS (
    SELECT k.account, k.marketplace_id, w.at, k.campaign_id, SUM(d.cost) AS cost,
           SUM(CASE WHEN d.ad_product = 'SP' AND w.attribution_days = 7 THEN d.sales_7d
                    ELSE d.sales_14d END) AS sales
    FROM w
    JOIN kpi_campaigns k ON k.account = w.account AND k.marketplace_id = w.marketplace_id
    LEFT JOIN ads_campaign_daily d
        ON d.profile_id = k.profile_id AND d.ad_product = k.ad_product AND d.campaign_id = k.campaign_id
       AND d.date BETWEEN w.a_start AND w.a_end
    GROUP BY k.account, k.marketplace_id, k.profile_id, k.ad_product, k.campaign_id
)
SELECT account, marketplace_id, at, NULL AS campaign_id,
       CASE WHEN SUM(sales) > 0 THEN COALESCE(SUM(cost), 0) * 100.0 / SUM(sales) END AS value,
       SUM(cost) AS cost, SUM(sales) AS sales
FROM c GROUP BY account, marketplace_id
UNION ALL
SELECT account, marketplace_id, at, CAST(campaign_id AS TEXT),
       CASE WHEN sales > 0 THEN COALESCE(cost, 0) * 100.0 / sales END, cost, sales
FROM c;

-- tacos: ad cost (SP + SB + SD) / total ordered product sales (daily series) x 100, matured
-- 14-day window; NULL for a marketplace without campaigns.
CREATE VIEW kpi_tacos AS
WITH w AS (
    SELECT e.*, date(e.at, '-' || (e.attribution_days + 14) || ' days') AS a_start,
           date(e.at, '-' || (e.attribution_days + 1) || ' days') AS a_end
    FROM evaluation_dates e
),
ads AS (
    SELECT w.account, w.marketplace_id, COUNT(k.campaign_id) AS campaigns,
           (SELECT SUM(d.cost) FROM ads_campaign_daily d JOIN ads_profiles p ON p.profile_id = d.profile_id
            WHERE p.account = w.account AND p.marketplace_id = w.marketplace_id
              AND d.date BETWEEN w.a_start AND w.a_end) AS cost
    FROM w
    LEFT JOIN kpi_campaigns k ON k.account = w.account AND k.marketplace_id = w.marketplace_id
    GROUP BY w.account, w.marketplace_id
),
s AS (
    SELECT w.account, w.marketplace_id, w.at, SUM(d.ordered_product_sales) AS sales
    FROM w
    LEFT JOIN sales_traffic_daily d
        ON d.account = w.account AND d.marketplace_id = w.marketplace_id
       AND d.date BETWEEN w.a_start AND w.a_end
    GROUP BY w.account, w.marketplace_id
)
SELECT s.account, s.marketplace_id, s.at,
       CASE WHEN ads.campaigns > 0 AND s.sales > 0 THEN COALESCE(ads.cost, 0) * 100.0 / s.sales END AS value,
       ads.cost, s.sales
FROM s JOIN ads ON ads.account = s.account AND ads.marketplace_id = s.marketplace_id;

-- return_rate: units returned (return date in the last 30 days) / units shipped in the last 30
-- days x 100; shipped units are those of orders whose status is shipped, counted at their last
-- update (when they shipped), MCF orders excluded. Per SKU, and per marketplace over all SKUs.
CREATE VIEW kpi_return_rate AS
WITH shipped AS (
    SELECT e.account, e.marketplace_id, i.sku, SUM(COALESCE(i.quantity_shipped, i.quantity)) AS units
    FROM evaluation_dates e
    JOIN orders o
        ON o.account = e.account AND o.marketplace_id = e.marketplace_id
       AND o.status IN ('shipped', 'partially_shipped')
       AND o.last_updated_date >= e.window30_start AND o.last_updated_date < e.at_start
       AND COALESCE(o.sales_channel, '') <> 'Non-Amazon'
    JOIN order_items i ON i.account = o.account AND i.order_id = o.order_id
    GROUP BY e.account, e.marketplace_id, i.sku
),
returned AS (
    SELECT e.account, e.marketplace_id, r.sku, SUM(r.quantity) AS units
    FROM evaluation_dates e
    JOIN returns r
        ON r.account = e.account AND r.marketplace_id = e.marketplace_id
       AND r.return_date BETWEEN date(e.at, '-30 days') AND date(e.at, '-1 day')
    GROUP BY e.account, e.marketplace_id, r.sku
)
SELECT e.account, e.marketplace_id, e.at, NULL AS sku,
       CASE WHEN (SELECT SUM(units) FROM shipped s WHERE s.account = e.account AND s.marketplace_id = e.marketplace_id) > 0
            THEN COALESCE((SELECT SUM(units) FROM returned r WHERE r.account = e.account AND r.marketplace_id = e.marketplace_id), 0) * 100.0
                 / (SELECT SUM(units) FROM shipped s WHERE s.account = e.account AND s.marketplace_id = e.marketplace_id)
       END AS value,
       (SELECT SUM(units) FROM returned r WHERE r.account = e.account AND r.marketplace_id = e.marketplace_id) AS units_returned,
       (SELECT SUM(units) FROM shipped s WHERE s.account = e.account AND s.marketplace_id = e.marketplace_id) AS units_shipped
FROM evaluation_dates e
UNION ALL
SELECT k.account, k.marketplace_id, e.at, k.sku,
       CASE WHEN s.units > 0 THEN COALESCE(r.units, 0) * 100.0 / s.units END, r.units, s.units
FROM evaluation_dates e
JOIN kpi_skus k ON k.account = e.account AND k.marketplace_id = e.marketplace_id
LEFT JOIN shipped s ON s.account = k.account AND s.marketplace_id = k.marketplace_id AND s.sku = k.sku
LEFT JOIN returned r ON r.account = k.account AND r.marketplace_id = k.marketplace_id AND r.sku = k.sku;

-- feedback_sla_breaches: 1-3 star seller feedback of the last 90 days (Amazon lets a seller
-- respond for 90 days) that is past the response SLA at the start of `at`, still unanswered and
-- unacknowledged at the end of `at`. NULL until the seller_feedback job has succeeded once.
CREATE VIEW kpi_feedback_sla_breaches AS
SELECT e.account, e.marketplace_id, e.at,
       CASE WHEN EXISTS (SELECT 1 FROM job_runs j
                         WHERE j.job = 'seller_feedback' AND j.account = e.account
                           AND j.status = 'ok' AND j.finished_at < e.at_end)
            THEN (SELECT COUNT(*) FROM seller_feedback f
                  WHERE f.account = e.account AND f.marketplace_id = e.marketplace_id
                    AND f.rating <= e.sla_max_rating
                    AND f.feedback_date BETWEEN date(e.at, '-90 days') AND e.sla_last_day
                    AND (COALESCE(f.your_response, '') = '' OR f.response_seen_at >= e.at_end)
                    AND (f.acknowledged_at IS NULL OR f.acknowledged_at >= e.at_end))
       END AS value
FROM evaluation_dates e;

-- negative_feedback_rate: negative (1-2 star) feedback received / orders (order items) x 100,
-- last 30 days of the daily series.
CREATE VIEW kpi_negative_feedback_rate AS
SELECT e.account, e.marketplace_id, e.at,
       CASE WHEN SUM(d.total_order_items) > 0
            THEN SUM(d.negative_feedback_received) * 100.0 / SUM(d.total_order_items) END AS value,
       SUM(d.negative_feedback_received) AS negative, SUM(d.total_order_items) AS orders
FROM evaluation_dates e
LEFT JOIN sales_traffic_daily d
    ON d.account = e.account AND d.marketplace_id = e.marketplace_id
   AND d.date BETWEEN date(e.at, '-30 days') AND date(e.at, '-1 day')
GROUP BY e.account, e.marketplace_id;

-- days_of_supply per SKU: (available + inbound) / daily units ordered over the last 14 days.
-- Stock is the inventory observation nearest the start of `at` within the day before and `at`
-- itself (FBA: fulfillable + inbound; FBM: the listing quantity); no observation, no row.
-- cover_days is the lead time + safety days the SKU needs (stockout_risk_skus compares).
CREATE VIEW kpi_days_of_supply AS
WITH snap AS (
    SELECT s.account, s.marketplace_id, s.sku, s.observed_at, s.fulfillable AS available,
           COALESCE(s.inbound_working, 0) + COALESCE(s.inbound_shipped, 0) + COALESCE(s.inbound_receiving, 0) AS inbound,
           ROW_NUMBER() OVER (PARTITION BY s.account, s.marketplace_id, s.sku
                              ORDER BY abs(julianday(s.observed_at) - julianday(e.at_start)), s.source) AS rn
    FROM evaluation_dates e
    JOIN inventory_snapshots s
        ON s.account = e.account AND s.marketplace_id = e.marketplace_id
       AND s.observed_at > strftime('%Y-%m-%dT%H:%M:%SZ', e.at_start, '-1 day') AND s.observed_at < e.at_end
),
units AS (
    SELECT e.account, e.marketplace_id, i.sku, SUM(i.quantity) AS units
    FROM evaluation_dates e
    JOIN orders o
        ON o.account = e.account AND o.marketplace_id = e.marketplace_id
       AND o.purchase_day BETWEEN date(e.at, '-14 days') AND date(e.at, '-1 day')
       AND o.status <> 'canceled' AND COALESCE(o.sales_channel, '') <> 'Non-Amazon'
    JOIN order_items i ON i.account = o.account AND i.order_id = o.order_id
    GROUP BY e.account, e.marketplace_id, i.sku
)
SELECT s.account, s.marketplace_id, e.at, s.sku,
       CASE WHEN u.units > 0 THEN (s.available + s.inbound) / (u.units / 14.0) END AS value,
       s.available, s.inbound, COALESCE(u.units, 0) AS units_14d, s.observed_at,
       COALESCE((SELECT j.value FROM json_each(e.cover_days_json, '$.skus') j WHERE j.key = s.sku),
                json_extract(e.cover_days_json, '$.default')) AS cover_days
FROM snap s
JOIN evaluation_dates e ON e.account = s.account AND e.marketplace_id = s.marketplace_id
LEFT JOIN units u ON u.account = s.account AND u.marketplace_id = s.marketplace_id AND u.sku = s.sku
WHERE s.rn = 1;

-- stockout_risk_skus: SKUs out of stock or with days of supply below their cover days.
CREATE VIEW kpi_stockout_risk_skus AS
SELECT e.account, e.marketplace_id, e.at,
       CASE WHEN COUNT(d.sku) > 0
            THEN SUM(CASE WHEN d.available <= 0 OR d.value < d.cover_days THEN 1 ELSE 0 END) END AS value,
       COUNT(d.sku) AS skus_observed
FROM evaluation_dates e
LEFT JOIN kpi_days_of_supply d ON d.account = e.account AND d.marketplace_id = e.marketplace_id
GROUP BY e.account, e.marketplace_id;

-- account_health: order defect rate in percent (MFN and AFN orders together, from the report's
-- counts; the higher channel rate when the counts are missing), label = the account status; from
-- the newest snapshot of the 7 days up to `at`.
CREATE VIEW kpi_account_health AS
WITH h AS (
    SELECT h.*, e.at,
           json_extract(h.raw_json, '$.performanceMetrics.orderDefectRate.mfn.orderCount') AS mfn_orders,
           json_extract(h.raw_json, '$.performanceMetrics.orderDefectRate.mfn.orderWithDefects.count') AS mfn_defects,
           json_extract(h.raw_json, '$.performanceMetrics.orderDefectRate.afn.orderCount') AS afn_orders,
           json_extract(h.raw_json, '$.performanceMetrics.orderDefectRate.afn.orderWithDefects.count') AS afn_defects,
           ROW_NUMBER() OVER (PARTITION BY h.account, h.marketplace_id ORDER BY h.snapshot_date DESC) AS rn
    FROM evaluation_dates e
    JOIN account_health_snapshots h
        ON h.account = e.account AND h.marketplace_id = e.marketplace_id
       AND h.snapshot_date BETWEEN date(e.at, '-7 days') AND e.at
)
SELECT e.account, e.marketplace_id, e.at,
       CASE WHEN COALESCE(h.mfn_orders, 0) + COALESCE(h.afn_orders, 0) > 0
                 AND (h.mfn_defects IS NOT NULL OR h.afn_defects IS NOT NULL)
            THEN (COALESCE(h.mfn_defects, 0) + COALESCE(h.afn_defects, 0)) * 100.0
                 / (COALESCE(h.mfn_orders, 0) + COALESCE(h.afn_orders, 0))
            ELSE 100.0 * COALESCE(max(h.odr_mfn_rate, h.odr_afn_rate), h.odr_mfn_rate, h.odr_afn_rate)
       END AS value,
       h.account_status AS label, h.snapshot_date
FROM evaluation_dates e
LEFT JOIN h ON h.account = e.account AND h.marketplace_id = e.marketplace_id AND h.rn = 1;

-- Every KPI record in one shape (DESIGN 2.3): kpi, subject, value, change_pct, label.
CREATE VIEW kpi_all AS
SELECT 'conversion_rate' AS kpi, account, marketplace_id, at, asin, NULL AS sku, NULL AS campaign_id,
       value, NULL AS change_pct, NULL AS label FROM kpi_conversion_rate
UNION ALL SELECT 'sessions', account, marketplace_id, at, asin, NULL, NULL, value, change_pct, NULL FROM kpi_sessions
UNION ALL SELECT 'buy_box_pct', account, marketplace_id, at, asin, NULL, NULL, value, NULL, NULL FROM kpi_buy_box_pct
UNION ALL SELECT 'bsr', account, marketplace_id, at, asin, NULL, NULL, value, change_pct, NULL FROM kpi_bsr
UNION ALL SELECT 'acos', account, marketplace_id, at, NULL, NULL, campaign_id, value, NULL, NULL FROM kpi_acos
UNION ALL SELECT 'tacos', account, marketplace_id, at, NULL, NULL, NULL, value, NULL, NULL FROM kpi_tacos
UNION ALL SELECT 'return_rate', account, marketplace_id, at, NULL, sku, NULL, value, NULL, NULL FROM kpi_return_rate
UNION ALL SELECT 'feedback_sla_breaches', account, marketplace_id, at, NULL, NULL, NULL, value, NULL, NULL FROM kpi_feedback_sla_breaches
UNION ALL SELECT 'negative_feedback_rate', account, marketplace_id, at, NULL, NULL, NULL, value, NULL, NULL FROM kpi_negative_feedback_rate
UNION ALL SELECT 'days_of_supply', account, marketplace_id, at, NULL, sku, NULL, value, NULL, NULL FROM kpi_days_of_supply
UNION ALL SELECT 'stockout_risk_skus', account, marketplace_id, at, NULL, NULL, NULL, value, NULL, NULL FROM kpi_stockout_risk_skus
UNION ALL SELECT 'account_health', account, marketplace_id, at, NULL, NULL, NULL, value, NULL, label FROM kpi_account_health;
