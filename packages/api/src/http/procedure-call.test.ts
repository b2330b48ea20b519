// The pipeline's procedure caller gives what tRPC's own caller gives, for every way a procedure can end: data, input
// refused by its schema, a domain error (mapped by the procedure edge), an error thrown by a middleware, a middleware
// adding to the context, and several input parsers merged.
import { callTRPCProcedure, TRPCError, type AnyTRPCProcedure } from "@trpc/server";
import { z } from "zod";
import { describe, expect, it } from "vitest";
import { AppError } from "@checkout/core";
import type { Context } from "../context.ts";
import { procedure, router } from "../trpc.ts";
import { callProcedure } from "./procedure-call.ts";

const withTenant = procedure.use(({ ctx, next }) => next({ ctx: { tenant: `tenant-of-${ctx.requestId}` } }));
const testRouter = router({
  echo: procedure.input(z.strictObject({ n: z.number().int() })).query(({ input, ctx }) => ({ doubled: input.n * 2, requestId: ctx.requestId })),
  merged: procedure
    .input(z.object({ a: z.string() }))
    .input(z.object({ b: z.number() }))
    .mutation(({ input }) => input),
  domain: procedure.query(() => {
    throw new AppError("OUT_OF_STOCK", "Sold out", { sku: "X" });
  }),
  refusing: procedure
    .use(() => {
      throw new TRPCError({ code: "FORBIDDEN", message: "no" });
    })
    .query(() => "never"),
  tenant: withTenant.query(({ ctx }) => (ctx as Context & { tenant: string }).tenant),
  crash: procedure.query(() => {
    throw new Error("boom");
  }),
});

const ctx = { requestId: "req-1", tracing: undefined } as unknown as Context;
const procedures = testRouter._def.procedures as Record<string, AnyTRPCProcedure>;

type Outcome = { data: unknown } | { code: string; message: string; causeName: string | undefined };

async function outcome(promise: Promise<unknown>): Promise<Outcome> {
  try {
    return { data: await promise };
  } catch (error) {
    const trpc = error as TRPCError;
    return { code: trpc.code, message: trpc.message, causeName: trpc.cause?.constructor.name };
  }
}

function both(path: string, type: "query" | "mutation", rawInput: unknown) {
  return Promise.all([
    outcome(callProcedure(procedures[path]!, { ctx, type, path, rawInput })),
    outcome(callTRPCProcedure({ router: testRouter, path, getRawInput: async () => rawInput, ctx, type, signal: undefined, batchIndex: 0 })),
  ]);
}

describe("callProcedure", () => {
  it.each([
    ["echo", "query", { n: 21 }],
    ["echo", "query", { n: "21" }],
    ["echo", "query", { n: 1, extra: true }],
    ["merged", "mutation", { a: "x", b: 2, c: "dropped" }],
    ["merged", "mutation", { a: "x" }],
    ["domain", "query", undefined],
    ["refusing", "query", undefined],
    ["tenant", "query", undefined],
    ["crash", "query", undefined],
  ] as const)("%s with %j ends as tRPC's caller ends it", async (path, type, rawInput) => {
    const [ours, theirs] = await both(path, type, rawInput);
    expect(ours).toEqual(theirs);
  });

  it("answers the data, maps a domain error to its transport code and keeps a schema refusal's cause", async () => {
    expect(await outcome(callProcedure(procedures.echo!, { ctx, type: "query", path: "echo", rawInput: { n: 21 } }))).toEqual({ data: { doubled: 42, requestId: "req-1" } });
    expect(await outcome(callProcedure(procedures.domain!, { ctx, type: "query", path: "domain", rawInput: undefined }))).toMatchObject({
      code: "CONFLICT",
      causeName: "AppError",
    });
    expect(await outcome(callProcedure(procedures.echo!, { ctx, type: "query", path: "echo", rawInput: { n: "x" } }))).toMatchObject({
      code: "BAD_REQUEST",
      causeName: "ZodError",
    });
    expect(await outcome(callProcedure(procedures.tenant!, { ctx, type: "query", path: "tenant", rawInput: undefined }))).toEqual({ data: "tenant-of-req-1" });
  });
});
