// Artillery's `ensure.conditions` expressions (filtrex syntax): metric names as variables, arithmetic,
// comparisons, and/or/not, ternaries, `in`, and a few functions. Compiled once, evaluated against a run.

export class ExpressionError extends Error {
  override readonly name = "ExpressionError";
}

type Token = { kind: "number"; value: number } | { kind: "name"; value: string } | { kind: "op"; value: string };

/** Names may carry dots (`http.response_time.p95`) or be quoted when they hold other characters (`'errors.Failed capture or match'`). */
const NAME = /[A-Za-z_$][\w$.]*/y;
const NUMBER = /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const OPERATORS = ["==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%", "^", "(", ")", ",", "?", ":"];
const WORDS = new Set(["and", "or", "not", "in"]);

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const char = source[i] ?? "";
    if (/\s/.test(char)) {
      i++;
      continue;
    }
    if (char === "'" || char === '"') {
      const end = source.indexOf(char, i + 1);
      if (end < 0) throw new ExpressionError(`unterminated quoted name at column ${i + 1}`);
      tokens.push({ kind: "name", value: source.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    NUMBER.lastIndex = i;
    const number = NUMBER.exec(source);
    if (number) {
      tokens.push({ kind: "number", value: Number(number[0]) });
      i += number[0].length;
      continue;
    }
    NAME.lastIndex = i;
    const name = NAME.exec(source);
    if (name) {
      tokens.push(WORDS.has(name[0]) ? { kind: "op", value: name[0] } : { kind: "name", value: name[0] });
      i += name[0].length;
      continue;
    }
    const op = OPERATORS.find((candidate) => source.startsWith(candidate, i));
    if (!op) throw new ExpressionError(`unexpected "${char}" at column ${i + 1}`);
    tokens.push({ kind: "op", value: op });
    i += op.length;
  }
  return tokens;
}

/** Resolves a metric name to its value, or undefined when the run has no such metric. */
export type MetricLookup = (name: string) => number | undefined;

type Node = (lookup: MetricLookup, missing: Set<string>) => number;

const FUNCTIONS: Record<string, (...args: number[]) => number> = {
  abs: Math.abs,
  ceil: Math.ceil,
  floor: Math.floor,
  log: Math.log,
  max: Math.max,
  min: Math.min,
  round: Math.round,
  sqrt: Math.sqrt,
};

const truth = (value: boolean): number => (value ? 1 : 0);

/** Precedence climbing over filtrex's grammar, lowest first: ?:, or, and, not, comparisons/in, + -, * / %, ^, unary -. */
class Parser {
  private position = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): Node {
    const node = this.ternary();
    const rest = this.tokens[this.position];
    if (rest) throw new ExpressionError(`unexpected "${String(rest.value)}" after the end of the expression`);
    return node;
  }

  private peekOp(...values: string[]): string | undefined {
    const token = this.tokens[this.position];
    return token?.kind === "op" && values.includes(token.value) ? token.value : undefined;
  }

  private expectOp(value: string): void {
    if (!this.peekOp(value)) throw new ExpressionError(`expected "${value}"`);
    this.position++;
  }

  private ternary(): Node {
    const condition = this.or();
    if (!this.peekOp("?")) return condition;
    this.position++;
    const then = this.ternary();
    this.expectOp(":");
    const otherwise = this.ternary();
    return (lookup, missing) => (condition(lookup, missing) ? then(lookup, missing) : otherwise(lookup, missing));
  }

  private or(): Node {
    let left = this.and();
    while (this.peekOp("or")) {
      this.position++;
      const l = left;
      const right = this.and();
      left = (lookup, missing) => truth(Boolean(l(lookup, missing)) || Boolean(right(lookup, missing)));
    }
    return left;
  }

  private and(): Node {
    let left = this.not();
    while (this.peekOp("and")) {
      this.position++;
      const l = left;
      const right = this.not();
      left = (lookup, missing) => truth(Boolean(l(lookup, missing)) && Boolean(right(lookup, missing)));
    }
    return left;
  }

  private not(): Node {
    if (this.peekOp("not")) {
      this.position++;
      const operand = this.not();
      return (lookup, missing) => truth(!operand(lookup, missing));
    }
    return this.comparison();
  }

  private comparison(): Node {
    const left = this.additive();
    if (this.peekOp("not") && this.tokens[this.position + 1]?.value === "in") {
      this.position += 2;
      const list = this.list();
      return (lookup, missing) => truth(!list.some((item) => item(lookup, missing) === left(lookup, missing)));
    }
    if (this.peekOp("in")) {
      this.position++;
      const list = this.list();
      return (lookup, missing) => truth(list.some((item) => item(lookup, missing) === left(lookup, missing)));
    }
    const op = this.peekOp("==", "!=", "<", "<=", ">", ">=");
    if (!op) return left;
    this.position++;
    const right = this.additive();
    const compare: Record<string, (a: number, b: number) => boolean> = {
      "==": (a, b) => a === b,
      "!=": (a, b) => a !== b,
      "<": (a, b) => a < b,
      "<=": (a, b) => a <= b,
      ">": (a, b) => a > b,
      ">=": (a, b) => a >= b,
    };
    const test = compare[op] ?? (() => false);
    return (lookup, missing) => truth(test(left(lookup, missing), right(lookup, missing)));
  }

  private list(): Node[] {
    this.expectOp("(");
    const items = [this.ternary()];
    while (this.peekOp(",")) {
      this.position++;
      items.push(this.ternary());
    }
    this.expectOp(")");
    return items;
  }

  private additive(): Node {
    let left = this.multiplicative();
    for (let op = this.peekOp("+", "-"); op; op = this.peekOp("+", "-")) {
      this.position++;
      const l = left;
      const right = this.multiplicative();
      left = op === "+" ? (lookup, missing) => l(lookup, missing) + right(lookup, missing) : (lookup, missing) => l(lookup, missing) - right(lookup, missing);
    }
    return left;
  }

  private multiplicative(): Node {
    let left = this.power();
    for (let op = this.peekOp("*", "/", "%"); op; op = this.peekOp("*", "/", "%")) {
      this.position++;
      const l = left;
      const right = this.power();
      const apply = op === "*" ? (a: number, b: number) => a * b : op === "/" ? (a: number, b: number) => a / b : (a: number, b: number) => a % b;
      left = (lookup, missing) => apply(l(lookup, missing), right(lookup, missing));
    }
    return left;
  }

  private power(): Node {
    const base = this.unary();
    if (!this.peekOp("^")) return base;
    this.position++;
    const exponent = this.power();
    return (lookup, missing) => base(lookup, missing) ** exponent(lookup, missing);
  }

  private unary(): Node {
    if (this.peekOp("-")) {
      this.position++;
      const operand = this.unary();
      return (lookup, missing) => -operand(lookup, missing);
    }
    return this.primary();
  }

  private primary(): Node {
    const token = this.tokens[this.position];
    if (!token) throw new ExpressionError("the expression ends too early");
    this.position++;
    if (token.kind === "number") return () => token.value;
    if (token.kind === "op" && token.value === "(") {
      const inner = this.ternary();
      this.expectOp(")");
      return inner;
    }
    if (token.kind === "name") {
      const fn = FUNCTIONS[token.value];
      if (fn && this.peekOp("(")) {
        const args = this.list();
        return (lookup, missing) => fn(...args.map((arg) => arg(lookup, missing)));
      }
      const name = token.value;
      return (lookup, missing) => {
        const value = lookup(name);
        if (value === undefined) {
          missing.add(name);
          return Number.NaN;
        }
        return value;
      };
    }
    throw new ExpressionError(`unexpected "${token.value}"`);
  }
}

export interface CompiledCondition {
  /** The metric names the expression reads (functions excluded). */
  names: string[];
  /** 1 when the condition holds; `missing` lists names the run did not have (the condition then fails). */
  evaluate(lookup: MetricLookup): { value: number; missing: string[] };
}

/** Compiles a condition, throwing ExpressionError with what is wrong for a syntax error. */
export function compileCondition(expression: string): CompiledCondition {
  const tokens = tokenize(expression);
  const node = new Parser(tokens).parse();
  const names = [...new Set(tokens.flatMap((token, i) => (token.kind === "name" && !(FUNCTIONS[token.value] && tokens[i + 1]?.value === "(") ? [token.value] : [])))];
  return {
    names,
    evaluate(lookup) {
      const missing = new Set<string>();
      const value = node(lookup, missing);
      return { value: missing.size > 0 ? 0 : value, missing: [...missing] };
    },
  };
}
