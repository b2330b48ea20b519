// Hot queries built and compiled to SQL once. Kysely builds an operation tree and compiles it on every call: for the
// cart read that was about a tenth of the API's CPU per request, more than PostgreSQL's own work on the statement.
// A query declared here is built once with named parameters; each call only fills in the values.
import { type Compilable, type CompiledQuery, createQueryId, DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from "kysely";
import type { Database, Db } from "./database.ts";

/** Builds and compiles queries; it never connects (its driver is Kysely's DummyDriver). */
const compiler = new Kysely<Database>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

/** Stands where a value goes while the query is built; compiled, it marks the parameter to fill. */
class Placeholder {
  constructor(readonly name: string) {}
}

type Slot = { name: string } | { value: unknown };

/** Scalar parameter values: a list would compile to a different number of placeholders each call. */
type Scalar = string | number | boolean | Date | null;

export interface CompiledStatement<P extends Record<string, Scalar>, R> {
  /** The SQL, as compiled once. */
  readonly sql: string;
  /** Runs it on `db` (the pool or a transaction) with these values. */
  execute(db: Db, values: P): Promise<R[]>;
}

/**
 * Builds `build`'s query once, with every `params.x` standing for a value given at each call. Each `params.x` must be
 * used as a value (a where, a join condition, an insert value), never to shape the query; names the query does not
 * use are refused here, at definition, so a typo cannot silently run with a constant.
 */
export function compileOnce<P extends Record<string, Scalar>, R>(
  names: readonly (keyof P & string)[],
  build: (db: Kysely<Database>, params: P) => Compilable<R>,
): CompiledStatement<P, R> {
  const params = Object.fromEntries(names.map((name) => [name, new Placeholder(name)])) as unknown as P;
  const compiled = build(compiler, params).compile();
  const slots: Slot[] = compiled.parameters.map((value) => (value instanceof Placeholder ? { name: value.name } : { value }));
  for (const name of names) {
    if (!slots.some((slot) => "name" in slot && slot.name === name)) throw new Error(`compileOnce: parameter "${name}" is not used by the query`);
  }
  const { sql, query } = compiled;
  return {
    sql,
    async execute(db, values) {
      const parameters = slots.map((slot) => ("name" in slot ? values[slot.name] : slot.value));
      const statement: CompiledQuery<R> = { sql, query, parameters, queryId: createQueryId() };
      const result = await db.executeQuery(statement);
      return result.rows;
    },
  };
}
