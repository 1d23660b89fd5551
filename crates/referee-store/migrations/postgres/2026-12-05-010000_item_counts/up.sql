-- SQLite keeps item counts per (call, status) in a table maintained by triggers. PostgreSQL
-- counts the items themselves, because concurrent accepts and declines in one call would
-- all update the same counter rows and wait on each other's row locks. This migration only
-- keeps the version lists of both backends equal.
SELECT 1;
