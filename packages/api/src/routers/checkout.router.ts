// checkout.*: contact, address, shipping, the quote, and placing the order.
import {
  CartIdInput,
  Checkout,
  PlaceOrderInput,
  SetContactInput,
  SetShippingAddressInput,
  SetShippingOptionInput,
} from "@checkout/core";
import { procedure, router } from "../trpc.ts";

export const checkoutRouter = router({
  setContact: procedure.input(SetContactInput).mutation(({ ctx, input }) => Checkout.setContact({ db: ctx.db, ...input })),
  setShippingAddress: procedure
    .input(SetShippingAddressInput)
    .mutation(({ ctx, input }) => Checkout.setShippingAddress({ db: ctx.db, ...input })),
  listShippingOptions: procedure
    .input(CartIdInput)
    .query(({ ctx, input }) => Checkout.listShippingOptions({ db: ctx.db, cartId: input.cartId })),
  setShippingOption: procedure
    .input(SetShippingOptionInput)
    .mutation(({ ctx, input }) => Checkout.setShippingOption({ db: ctx.db, ...input })),
  quote: procedure.input(CartIdInput).mutation(({ ctx, input }) => Checkout.quote({ db: ctx.db, cartId: input.cartId })),
  placeOrder: procedure.input(PlaceOrderInput).mutation(async ({ ctx, input }) => {
    const order = await Checkout.placeOrder({ db: ctx.db, payments: ctx.payments, captureMode: ctx.captureMode, ...input });
    ctx.log.info({ orderId: order.id, orderNumber: order.number, total: order.total, currency: order.currency }, "order.placed");
    return order;
  }),
});
