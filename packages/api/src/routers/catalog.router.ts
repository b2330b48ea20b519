// catalog.list / catalog.get: read-only, served from the reader.
import { Catalog, CatalogGetInput, CatalogListInput } from "@checkout/core";
import { procedure, router } from "../trpc.ts";

export const catalogRouter = router({
  list: procedure.input(CatalogListInput).query(({ ctx, input }) => Catalog.list({ db: ctx.readDb, currency: input.currency })),
  get: procedure
    .input(CatalogGetInput)
    .query(({ ctx, input }) => Catalog.get({ db: ctx.readDb, productId: input.productId, currency: input.currency })),
});
