// Every query the app sends is a named prepared statement on its connection, so PostgreSQL parses and plans it once
// per connection instead of on every call. The cart read, a six-table join, spent more time planning than executing.
//
// A statement's name is a digest of its SQL text: the same query shape from anywhere in the code is one statement, and
// a name can never stand for two texts. Each connection keeps at most MAX_PREPARED_PER_CONNECTION of them; past that,
// a query goes unnamed (parsed and planned as before), so a query shape built from input (a long IN list) cannot fill
// the server's memory.
import { createHash } from "node:crypto";
import type pg from "pg";

/** How many named statements one connection keeps: far more than the app's query shapes, far less than a server's memory. */
export const MAX_PREPARED_PER_CONNECTION = 500;

/** Statements worth preparing: data statements. Transaction control, SET, LOCK, DDL and the like are sent as they are. */
const PREPARABLE = /^\s*(?:select|insert|update|delete|with)\b/i;

/** One statement only: a text of several (allowed without parameters) cannot be prepared, so it is sent as it is. */
function isPreparable(text: string): boolean {
  return PREPARABLE.test(text) && !text.includes(";");
}

/** PostgreSQL's "cached plan must not change result type": a column was added to or dropped from a table since the statement was prepared. */
const FEATURE_NOT_SUPPORTED = "0A000";

/** pg 8 keeps the connection's transaction status from the server's last ReadyForQuery: "I" is outside any transaction. */
interface ClientWithStatus {
  _txStatus?: string | null;
}

export function statementName(text: string): string {
  return `q_${createHash("sha1").update(text).digest("hex").slice(0, 20)}`;
}

/** Texts already looked at, process-wide, with their statement name (null: sent as it is). */
const namesByText = new Map<string, string | null>();
/** The app has a few hundred query shapes; texts past this many (built from input) are digested on every call. */
const MAX_REMEMBERED_TEXTS = 2_000;

/** The statement name for `text`, or null when it is not preparable; remembered, so a hot query is not digested on every call. */
function nameFor(text: string): string | null {
  let name = namesByText.get(text);
  if (name === undefined) {
    name = isPreparable(text) ? statementName(text) : null;
    if (namesByText.size < MAX_REMEMBERED_TEXTS) namesByText.set(text, name);
  }
  return name;
}

/**
 * Makes `client.query(text, values)` send a named statement. Called once per new connection. Other call forms
 * (a config object, a cursor, a callback) pass through unchanged.
 */
export function prepareStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => Promise<pg.QueryResult>;
  const named = new Set<string>();
  /** Statements a schema change broke on this connection: they go unnamed from then on. */
  const retired = new Set<string>();

  const replacement = async (...args: unknown[]): Promise<pg.QueryResult> => {
    const [text, values] = args;
    if (typeof text !== "string" || args.length > 2 || (values !== undefined && !Array.isArray(values))) return query(...args);
    const name = nameFor(text);
    if (name === null) return query(...args);
    if (retired.has(name)) return query(text, values);
    if (!named.has(name)) {
      if (named.size >= MAX_PREPARED_PER_CONNECTION) return query(text, values);
      named.add(name);
    }
    const outsideTransaction = (client as unknown as ClientWithStatus)._txStatus === "I";
    try {
      return await query({ name, text, values });
    } catch (error) {
      if (!isStalePlan(error)) throw error;
      // A migration changed a table under this statement (a rolling deploy adding a column). It failed before running,
      // so on its own it is sent again unnamed; inside a transaction the transaction has failed and its caller decides.
      retired.add(name);
      if (outsideTransaction) return query(text, values);
      throw error;
    }
  };
  (client as unknown as { query: typeof replacement }).query = replacement;
}

function isStalePlan(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return code === FEATURE_NOT_SUPPORTED && typeof message === "string" && message.includes("cached plan");
}
