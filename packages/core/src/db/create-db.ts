// The one Kysely instance per process, over a pg pool that parses int8 money columns as numbers.
import { Kysely, PostgresDialect, type LogEvent } from "kysely";
import pg from "pg";
import type { Database } from "./database.ts";
import { prepareStatements } from "./prepared-statements.ts";

const INT8_OID = 20;

function parseInt8(value: string): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) throw new RangeError(`int8 value ${value} does not fit in a JavaScript number`);
  return parsed;
}

const typeParsers = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === INT8_OID && format !== "binary") return parseInt8;
    return pg.types.getTypeParser(oid, format as "text");
  },
} as pg.CustomTypesConfig;

export interface DbOptions {
  connectionString: string;
  /** Pool size per process. */
  max?: number;
  applicationName?: string;
  statementTimeoutMs?: number;
  /** Told about errors on idle connections (a database restart or failover); they are then discarded. */
  onIdleError?: (error: Error) => void;
  /** Send queries as named prepared statements, planned once per connection (prepared-statements.ts). Default on. */
  preparedStatements?: boolean;
  /** Told about every statement once it has run (its text, duration and any error), in its caller's async context: tracing. */
  onQuery?: (event: LogEvent) => void;
}

export function createPool(options: DbOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? "checkout",
    statement_timeout: options.statementTimeoutMs ?? 10_000,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    types: typeParsers,
  });
  // Without a listener an idle client's error (e.g. the server restarting) would crash the process.
  pool.on("error", (error) => options.onIdleError?.(error));
  // A checked-out client whose server goes away (pg_terminate_backend, a restart) also emits "error"
  // once its query has failed; the query already carries the error and the pool drops the client on
  // release, so the event only needs a listener for the process to survive.
  pool.on("connect", (client) => {
    client.on("error", () => {});
    if (options.preparedStatements !== false) prepareStatements(client);
  });
  return pool;
}

export function createDb(options: DbOptions): Kysely<Database> {
  const dialect = new PostgresDialect({ pool: createPool(options) });
  // Without a hook Kysely wraps nothing: no cost per statement.
  return new Kysely<Database>(options.onQuery ? { dialect, log: options.onQuery } : { dialect });
}
