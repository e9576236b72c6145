-- Tepat database initialisation: one login role and one schema per service, nothing shared.
--
-- Run by a superuser inside the target database:
--   * docker-compose.yml mounts this file into the postgres image's /docker-entrypoint-initdb.d (database POSTGRES_DB);
--   * deploy/scripts/postgres.sh runs it in `tepat` on every start and in each database made by `createdb NAME`.
-- Plain SQL (no psql meta-commands) so any client can run it; idempotent, so running it again changes nothing.
--
-- Each service connects as its own role, and its role owns only its schema: a service cannot read or write another
-- service's tables, it has to go through that service's API or events.

-- Roles are cluster-wide, hence the existence checks. They are created without a password (no password login is
-- possible until one is set): passwords come from the deployment, never from this file. docker-compose.yml sets
-- them from required variables (deploy/postgres/service-passwords.sh); local and test clusters run
-- deploy/postgres/dev-passwords.sql after this script.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'registry') THEN
        CREATE ROLE registry LOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'verification') THEN
        CREATE ROLE verification LOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'disbursement') THEN
        CREATE ROLE disbursement LOGIN;
    END IF;
END
$$;

CREATE SCHEMA IF NOT EXISTS registry AUTHORIZATION registry;
CREATE SCHEMA IF NOT EXISTS verification AUTHORIZATION verification;
CREATE SCHEMA IF NOT EXISTS disbursement AUTHORIZATION disbursement;

-- Unqualified names resolve to the service's own schema (and never fall through to public).
ALTER ROLE registry SET search_path = registry;
ALTER ROLE verification SET search_path = verification;
ALTER ROLE disbursement SET search_path = disbursement;

-- public must not become a back door where services share tables.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- Only the service roles (and superusers) may connect; CONNECT is all they get on the database itself, so they
-- cannot create schemas or temporary tables. The database name differs per run (tepat, test databases), hence
-- the dynamic SQL.
DO $$
BEGIN
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO registry', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO verification', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO disbursement', current_database());
END
$$;
