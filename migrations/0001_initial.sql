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
    -- Order amount: Amazon's order total when the source gives one (searchOrders proceeds
    -- grandTotal), else the sum of the items' item_price (the flat file has no order total).
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
    quantity_shipped         INTEGER CHECK (quantity_shipped >= 0),  -- NULL from the flat file
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
-- asin, window_start, window_end). Re-fetching a window replaces its rows (delete the window's rows,
-- then insert, in one transaction: an ASIN that dropped out must not linger). Sums over a window are
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
-- fulfillmentAvailability). Key: (account, marketplace_id, sku). Current state only: each full pull
-- upserts what it saw and deletes the marketplace's rows with an older observed_at (a listing that
-- is gone is gone; its issues cascade). Status history is not kept.
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
-- batches of 20). Key: (account, marketplace_id, asin, observed_at). Prices are landed (listing +
-- shipping) for condition New. The featured offer is the Buy Box (the default, non-business
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
