// cart.*: a cart is addressed by its unguessable id, which only the shopper's browser holds.
import { Cart, CartAddLineInput, CartCreateInput, CartIdInput, CartRemoveLineInput, CartUpdateLineInput } from "@checkout/core";
import { procedure, router } from "../trpc.ts";

export const cartRouter = router({
  create: procedure.input(CartCreateInput).mutation(({ ctx, input }) => Cart.create({ db: ctx.db, currency: input.currency })),
  get: procedure.input(CartIdInput).query(({ ctx, input }) => Cart.get({ db: ctx.db, cartId: input.cartId })),
  addLine: procedure.input(CartAddLineInput).mutation(({ ctx, input }) => Cart.addLine({ db: ctx.db, ...input })),
  updateLine: procedure.input(CartUpdateLineInput).mutation(({ ctx, input }) => Cart.updateLine({ db: ctx.db, ...input })),
  removeLine: procedure.input(CartRemoveLineInput).mutation(({ ctx, input }) => Cart.removeLine({ db: ctx.db, ...input })),
});
