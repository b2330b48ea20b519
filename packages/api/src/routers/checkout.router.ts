// checkout.*: contact, address, shipping, promo code, the quote, and placing the order.
import {
  ApplyPromoCodeInput,
  CartIdInput,
  Checkout,
  ConfirmPaymentInput,
  IdSchema,
  PlaceOrderInput,
  Promotion,
  RemovePromoCodeInput,
  SetContactInput,
  SetShippingAddressInput,
  SetShippingOptionInput,
} from "@checkout/core";
import { reportPaymentAttempt } from "../payments/payment-velocity.ts";
import { procedure, router } from "../trpc.ts";

const withCart = procedure.meta({ rateClass: "cart", carriesCapability: true });
/** Calls that reach the card processor: their own small per-client budget (card testing goes through here). */
const payment = procedure.meta({ rateClass: "payment", carriesCapability: true });

/** Idempotency-Keys are scoped to the cart: the same key sent for two carts names two requests. */
function scopeByCart(input: unknown): string | null {
  const cartId = IdSchema.safeParse((input as { cartId?: unknown } | null)?.cartId);
  return cartId.success ? `cart:${cartId.data}` : null;
}

export const checkoutRouter = router({
  setContact: withCart.input(SetContactInput).mutation(({ ctx, input }) => Checkout.setContact({ db: ctx.db, policy: ctx.stockPolicy, ...input })),
  setShippingAddress: withCart.input(SetShippingAddressInput).mutation(({ ctx, input }) => Checkout.setShippingAddress({ db: ctx.db, policy: ctx.stockPolicy, ...input })),
  listShippingOptions: withCart.input(CartIdInput).query(({ ctx, input }) => Checkout.listShippingOptions({ db: ctx.db, cartId: input.cartId })),
  setShippingOption: withCart.input(SetShippingOptionInput).mutation(({ ctx, input }) => Checkout.setShippingOption({ db: ctx.db, policy: ctx.stockPolicy, ...input })),
  applyPromoCode: withCart
    .input(ApplyPromoCodeInput)
    .mutation(({ ctx, input }) => Promotion.applyToCart({ db: ctx.db, policy: ctx.stockPolicy, cartId: input.cartId, code: input.code })),
  removePromoCode: withCart.input(RemovePromoCodeInput).mutation(({ ctx, input }) => Promotion.removeFromCart({ db: ctx.db, policy: ctx.stockPolicy, cartId: input.cartId })),
  quote: withCart.input(CartIdInput).mutation(({ ctx, input }) => Checkout.quote({ db: ctx.db, cartId: input.cartId })),
  placeOrder: procedure
    .meta({ rateClass: "payment", carriesCapability: true, idempotency: { scopeOf: scopeByCart } })
    .input(PlaceOrderInput)
    .mutation(async ({ ctx, input }) => {
      const order = await Checkout.placeOrder({
        db: ctx.db,
        payments: ctx.payments,
        captureMode: ctx.captureMode,
        stockPolicy: ctx.stockPolicy,
        origin: ctx.origin,
        velocity: ctx.paymentVelocity,
        onAttempt: (report) => reportPaymentAttempt(ctx, report),
        ...input,
      });
      ctx.log.info({ orderId: order.id, orderNumber: order.number, total: order.total, currency: order.currency }, "order.placed");
      return order;
    }),
  /** After the 3-D Secure challenge: settles the order from the provider's answer (idempotent, races the webhook safely). */
  confirmPayment: payment.input(ConfirmPaymentInput).mutation(async ({ ctx, input }) => {
    const order = await Checkout.confirmPayment({ db: ctx.db, payments: ctx.payments, captureMode: ctx.captureMode, orderId: input.orderId });
    ctx.log.info({ orderId: order.id, orderNumber: order.number, status: order.status }, "payment.confirmed");
    return order;
  }),
});
