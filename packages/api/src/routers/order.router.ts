// order.get: an order is addressed by its unguessable id, returned only to the shopper who placed it,
// and sent in a POST body, never in a URL. With it, what the shop knows of its confirmation email.
import { Order, OrderConfirmationEmail, OrderGetInput } from "@checkout/core";
import { CONFIRMATION_EMAIL_TARGET } from "../outbox/outbox-targets.ts";
import { procedure, router } from "../trpc.ts";

export const orderRouter = router({
  get: procedure
    .meta({ rateClass: "cart", carriesCapability: true })
    .input(OrderGetInput)
    .query(async ({ ctx, input }) => {
      const [order, confirmationEmail] = await Promise.all([
        Order.get({ db: ctx.db, orderId: input.orderId }),
        OrderConfirmationEmail.deliveryState(ctx.db, { orderId: input.orderId, target: CONFIRMATION_EMAIL_TARGET }),
      ]);
      return { ...order, confirmationEmail };
    }),
});
