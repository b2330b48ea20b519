// catalog.list / catalog.get: read-only, served from the reader through the catalogue cache.
import { CatalogGetInput, CatalogListInput } from "@checkout/core";
import { procedure, router } from "../trpc.ts";

export const catalogRouter = router({
  list: procedure.input(CatalogListInput).query(({ ctx, input }) => ctx.catalog.list({ currency: input.currency })),
  get: procedure.input(CatalogGetInput).query(({ ctx, input }) => ctx.catalog.get({ productId: input.productId, currency: input.currency })),
});
