-- Local and test clusters only (deploy/scripts/postgres.sh, tests/support/infra.py), never Compose or production:
-- each service role's password equals its name, set only where the role has none yet, so running this again (or
-- from several test runs at once) changes nothing. Needs a superuser (pg_authid).
DO $$
DECLARE
    service text;
BEGIN
    FOREACH service IN ARRAY ARRAY['registry', 'verification', 'disbursement'] LOOP
        IF (SELECT rolpassword FROM pg_catalog.pg_authid WHERE rolname = service) IS NULL THEN
            EXECUTE format('ALTER ROLE %I PASSWORD %L', service, service);
        END IF;
    END LOOP;
END
$$;
