-- The up migration changes nothing on PostgreSQL.
SELECT 1;
