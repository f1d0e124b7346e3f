-- 0004_pricing_competitive_price.sql: pricing_snapshots keeps Amazon's competitive reference price.
--
-- Why: getCompetitiveSummary's referencePrices carry the price Amazon compares an offer with when it
-- decides Featured Offer eligibility: the lowest price of an equivalent item recently found at
-- another reputable retailer. Since 2025-09-30 that is `CompetitivePrice` in every marketplace but
-- JP, and `CompetitivePriceThreshold` (no longer returned elsewhere) in JP. An offer priced above it
-- can lose the Buy Box, so it is the first thing to compare with our price when the Buy Box goes.
-- Rows written before this migration have NULL (their raw_json did not ask for reference prices).

ALTER TABLE pricing_snapshots ADD COLUMN competitive_price REAL;
