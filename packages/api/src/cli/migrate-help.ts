// `migrate --help`, apart from the command so the server's entry can print it without loading the database code.
export const MIGRATE_HELP = `
node dist/server.mjs migrate   (locally: pnpm db:migrate) — bring the database schema up to date, then grant the service role.

Connects as DATABASE_USER / DATABASE_PASSWORD (the owner: the RDS master secret), or DATABASE_URL, with DATABASE_HOST,
DATABASE_PORT, DATABASE_NAME, DATABASE_SSL and DATABASE_SSL_CA as for the server. Runs every pending migration, then,
when SERVICE_DATABASE_USER and SERVICE_DATABASE_PASSWORD are set, creates or updates that LOGIN role with CONNECT,
schema USAGE, select/insert/update/delete on the app's tables, only INSERT and SELECT on audit_log, and nothing it
could alter, drop, truncate or disable triggers with (docs/OPERATIONS.md "Database TLS and roles").
Takes no options. Exit 0 done, 1 failed, 2 usage error (an unknown option or argument, refused before anything
runs), 78 misconfigured. The server with MIGRATIONS=verify refuses to start while any is pending.
`;
