// Physical names that a failed first deploy cannot block: a fixed name kept by a rollback (a retained log group, a
// deletion-protected database) would make the retry fail with "already exists"; a name scoped to the stack's
// creation never repeats, because a retry after a failed first deploy creates the stack anew.
import { Aws, Fn, type Stack } from "aws-cdk-lib";

/**
 * The first 8 hex digits of the stack's id (the UUID in `arn:…:stack/<name>/<uuid>`): fixed for the stack's life,
 * new whenever the stack is created again (CloudFormation gives every creation its own id).
 */
export function creationScopedSuffix(stack: Stack): string {
  // Memoised per stack so every name in it shares one CloudFormation expression.
  const existing = suffixes.get(stack);
  if (existing) return existing;
  const suffix = Fn.select(0, Fn.split("-", Fn.select(2, Fn.split("/", Aws.STACK_ID))));
  suffixes.set(stack, suffix);
  return suffix;
}

const suffixes = new WeakMap<Stack, string>();

/** `<base>-<creation-scoped suffix>`: for a resource that outlives a rollback and must be named. */
export function creationScopedName(stack: Stack, base: string): string {
  return `${base}-${creationScopedSuffix(stack)}`;
}
