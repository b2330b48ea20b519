// order.get: an order is addressed by its unguessable id, returned only to the shopper who placed it,
// and sent in a POST body, never in a URL.
import { Order, OrderGetInput } from "@checkout/core";
import { procedure, router } from "../trpc.ts";

export const orderRouter = router({
  get: procedure
    .meta({ rateClass: "cart", carriesCapability: true })
    .input(OrderGetInput)
    .query(({ ctx, input }) => Order.get({ db: ctx.db, orderId: input.orderId })),
});
