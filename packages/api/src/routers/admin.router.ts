// admin.*: operators' order actions behind a named bearer token; each call is audited as admin:<name> with its origin.
import { TRPCError } from "@trpc/server";
import { Audit, OrderAdmin, OrderInvariants } from "@checkout/core";
import { procedure, router } from "../trpc.ts";

/** Refuses anyone without a valid admin token (auditing the attempt, never the token) and names the admin for the rest. */
const adminProcedure = procedure.meta({ rateClass: "admin", admission: "operator" }).use(async ({ ctx, path, next }) => {
  const result = ctx.adminAuth.authenticate(ctx.authorization);
  if (!result.ok) {
    const admitted = ctx.adminAuth.admitFailure(ctx.origin.ip ?? "unknown");
    if (admitted) {
      await Audit.record(ctx.db, {
        entity: "admin",
        entityId: path,
        action: "admin.auth_failed",
        actor: "anonymous",
        outcome: "failure",
        origin: ctx.origin,
        data: { procedure: path, reason: result.reason, suppressedBefore: admitted.suppressedBefore },
      });
    }
    ctx.log.warn({ procedure: path, reason: result.reason, origin: ctx.origin }, "admin.auth_failed");
    throw new TRPCError({ code: "UNAUTHORIZED", message: "The admin API needs Authorization: Bearer <token> with a token from ADMIN_API_TOKENS" });
  }
  return next({ ctx: { acting: { actor: `admin:${result.name}`, origin: ctx.origin } } });
});

export const adminRouter = router({
  orders: router({
    list: adminProcedure.input(OrderAdmin.ListInput).query(({ ctx, input }) => OrderAdmin.list({ db: ctx.db, ...input, ...ctx.acting })),
    get: adminProcedure.input(OrderAdmin.GetInput).query(({ ctx, input }) => OrderAdmin.get({ db: ctx.db, orderId: input.orderId, ...ctx.acting })),
    cancel: adminProcedure.input(OrderAdmin.CancelInput).mutation(({ ctx, input }) => OrderAdmin.cancel({ db: ctx.db, payments: ctx.payments, ...input, ...ctx.acting })),
    refund: adminProcedure.input(OrderAdmin.RefundInput).mutation(({ ctx, input }) => OrderAdmin.refund({ db: ctx.db, payments: ctx.payments, ...input, ...ctx.acting })),
    fulfil: adminProcedure
      .input(OrderAdmin.FulfilInput)
      .mutation(({ ctx, input }) => OrderAdmin.fulfil({ db: ctx.db, payments: ctx.payments, orderId: input.orderId, ...ctx.acting })),
  }),
  /** Stock, orders and charges checked in one snapshot of the writer (a replica could lag); read-only. */
  invariants: adminProcedure.input(OrderInvariants.CheckInput).query(({ ctx, input }) => OrderInvariants.check({ db: ctx.db, orderNumbers: input?.orderNumbers, ...ctx.acting })),
});
