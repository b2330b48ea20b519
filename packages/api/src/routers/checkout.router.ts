// checkout.*: contact, address, shipping, promo code, the quote, and placing the order.
import {
  ApplyPromoCodeInput,
  CartIdInput,
  Checkout,
  ConfirmPaymentInput,
  PlaceOrderInput,
  Promotion,
  RemovePromoCodeInput,
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
  applyPromoCode: procedure
    .input(ApplyPromoCodeInput)
    .mutation(({ ctx, input }) => Promotion.applyToCart({ db: ctx.db, cartId: input.cartId, code: input.code })),
  removePromoCode: procedure
    .input(RemovePromoCodeInput)
    .mutation(({ ctx, input }) => Promotion.removeFromCart({ db: ctx.db, cartId: input.cartId })),
  quote: procedure.input(CartIdInput).mutation(({ ctx, input }) => Checkout.quote({ db: ctx.db, cartId: input.cartId })),
  placeOrder: procedure.input(PlaceOrderInput).mutation(async ({ ctx, input }) => {
    const order = await Checkout.placeOrder({ db: ctx.db, payments: ctx.payments, captureMode: ctx.captureMode, origin: ctx.origin, ...input });
    ctx.log.info({ orderId: order.id, orderNumber: order.number, total: order.total, currency: order.currency }, "order.placed");
    return order;
  }),
  /** After the 3-D Secure challenge: settles the order from the provider's answer (idempotent, races the webhook safely). */
  confirmPayment: procedure.input(ConfirmPaymentInput).mutation(async ({ ctx, input }) => {
    const order = await Checkout.confirmPayment({ db: ctx.db, payments: ctx.payments, captureMode: ctx.captureMode, orderId: input.orderId });
    ctx.log.info({ orderId: order.id, orderNumber: order.number, status: order.status }, "payment.confirmed");
    return order;
  }),
});
