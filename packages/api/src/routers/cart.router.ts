// cart.*: a cart is addressed by its unguessable id, which only the shopper's browser holds: every call
// that carries it sends it in a POST body, never in a URL.
import { Cart, CartAddLineInput, CartCreateInput, CartIdInput, CartRemoveLineInput, CartSetCurrencyInput, CartUpdateLineInput } from "@checkout/core";
import { procedure, router } from "../trpc.ts";

const withCart = procedure.meta({ rateClass: "cart", carriesCapability: true });

export const cartRouter = router({
  create: procedure
    .meta({ rateClass: "cart" })
    .input(CartCreateInput)
    .mutation(({ ctx, input }) => Cart.create({ db: ctx.db, policy: ctx.stockPolicy, currency: input.currency })),
  get: withCart.input(CartIdInput).query(({ ctx, input }) => Cart.get({ db: ctx.db, policy: ctx.stockPolicy, cartId: input.cartId })),
  addLine: withCart.input(CartAddLineInput).mutation(({ ctx, input }) => Cart.addLine({ db: ctx.db, policy: ctx.stockPolicy, ...input })),
  updateLine: withCart.input(CartUpdateLineInput).mutation(({ ctx, input }) => Cart.updateLine({ db: ctx.db, policy: ctx.stockPolicy, ...input })),
  removeLine: withCart.input(CartRemoveLineInput).mutation(({ ctx, input }) => Cart.removeLine({ db: ctx.db, policy: ctx.stockPolicy, ...input })),
  /** Keeps the cart in another currency, re-priced from that currency's price list; lines not sold in it are named, and removed only when asked. */
  setCurrency: withCart.input(CartSetCurrencyInput).mutation(({ ctx, input }) => Cart.setCurrency({ db: ctx.db, policy: ctx.stockPolicy, ...input })),
});
