-- Installed by scripts/devdb.sh (as the cluster superuser) into FerretDB's PostgreSQL database at
-- every start; idempotent.
--
-- Why: FerretDB 1.24 pushes a top-level equality filter {f: v} down as `_jsonb -> 'f' @> v` (a
-- parameterized `_jsonb->$1 @> $2`), but the indexes it creates for MongoDB indexes are B-trees on
-- `(_jsonb -> 'f')`, which `@>` cannot use: every equality lookup, `_id` included, is a sequential
-- scan. A GIN index on the same expression serves `@>`. So for every B-tree index whose first key is
-- a top-level `(_jsonb -> 'f'::text)` (FerretDB's unique `_id_` index of every collection, and every
-- index the backend creates with create_index), we add `USING gin ((_jsonb -> 'f'::text))`.
-- The GIN indexes are invisible to FerretDB (its metadata table does not list them) and go away
-- with the table; a dropped MongoDB index leaves its GIN behind (harmless, only write cost).

CREATE SCHEMA IF NOT EXISTS oddxer_devdb;
-- FerretDB's role runs the trigger function (event triggers run as the user issuing the DDL).
GRANT USAGE ON SCHEMA oddxer_devdb TO PUBLIC;

-- Adds the GIN companion of one index, if it is a B-tree led by a top-level `_jsonb -> 'f'` key.
CREATE OR REPLACE FUNCTION oddxer_devdb.gin_for_index(idx oid) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $fn$
DECLARE
  tbl oid;
  am name;
  expr text;
BEGIN
  SELECT i.indrelid, a.amname INTO tbl, am
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_am a ON a.oid = c.relam
   WHERE i.indexrelid = idx;
  -- Not found, or not a B-tree (our own GIN indexes end up here: no recursion).
  IF NOT FOUND OR am <> 'btree' THEN
    RETURN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_attribute
                  WHERE attrelid = tbl AND attname = '_jsonb' AND NOT attisdropped) THEN
    RETURN;
  END IF;
  -- The first key as PostgreSQL prints it, e.g. `(_jsonb -> '_id'::text)`; nested paths
  -- (`_jsonb -> 'a' -> 'b'`) are not pushed down by FerretDB, so they are left alone.
  expr := pg_get_indexdef(idx, 1, true);
  IF expr !~ '^\(?_jsonb -> ''([^'']|'''')+''::text\)?$' THEN
    RETURN;
  END IF;
  -- Index names are unique per schema and at most 63 bytes: derive one from the table and key.
  -- fastupdate = off: with it on, new entries wait in a pending list that every lookup scans
  -- linearly until (auto)vacuum merges it, which after a bulk load made `_id` lookups at 100k
  -- documents 7x slower than at 1k.
  EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s USING gin ((%s)) WITH (fastupdate = off)',
                 'gin_' || md5(tbl::text || ':' || expr), tbl::regclass, expr);
END
$fn$;

CREATE OR REPLACE FUNCTION oddxer_devdb.on_create_index() RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $fn$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE object_type = 'index' LOOP
    PERFORM oddxer_devdb.gin_for_index(r.objid);
  END LOOP;
END
$fn$;

DROP EVENT TRIGGER IF EXISTS oddxer_devdb_gin;
CREATE EVENT TRIGGER oddxer_devdb_gin ON ddl_command_end
  WHEN TAG IN ('CREATE INDEX')
  EXECUTE FUNCTION oddxer_devdb.on_create_index();

-- Indexes created before the trigger existed (an older data folder) get their GIN index now.
SELECT oddxer_devdb.gin_for_index(i.indexrelid)
  FROM pg_index i
  JOIN pg_class t ON t.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = t.relnamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'oddxer_devdb')
   AND n.nspname NOT LIKE 'pg_toast%';
