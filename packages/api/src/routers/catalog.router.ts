// catalog.list / catalog.get: read-only, served from the reader through the catalogue cache.
import { CatalogGetInput, CatalogListInput } from "@checkout/core";
import { procedure, router } from "../trpc.ts";

const browse = procedure.meta({ rateClass: "browse" });

export const catalogRouter = router({
  list: browse.input(CatalogListInput).query(({ ctx, input }) => ctx.catalog.list({ currency: input.currency })),
  get: browse.input(CatalogGetInput).query(({ ctx, input }) => ctx.catalog.get({ productId: input.productId, currency: input.currency })),
});
