-- Refresh-token rotation (SQLite's 0008 adds a trigger for it). PostgreSQL needs no schema
-- change: the rotation keeps the used predecessor beside its successor with a data-modifying
-- CTE in the same statement (store::grants). This migration exists so that both dialects keep
-- one numbering.
SELECT 1;
