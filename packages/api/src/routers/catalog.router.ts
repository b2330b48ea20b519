// catalog.list / catalog.get / catalog.categories: read-only, served from the reader through the catalogue cache.
import { CatalogCategoriesInput, CatalogGetInput, CatalogListInput } from "@checkout/core";
import { procedure, router } from "../trpc.ts";

const browse = procedure.meta({ rateClass: "browse" });

export const catalogRouter = router({
  /** A page of products: `{ products, nextCursor }`; pass `nextCursor` back as `cursor` for the next page. */
  list: browse.input(CatalogListInput).query(({ ctx, input }) => {
    const { currency, category, q, cursor, limit } = input;
    return ctx.catalog.list({ currency, category, q, cursor, limit });
  }),
  get: browse.input(CatalogGetInput).query(({ ctx, input }) => ctx.catalog.get({ productId: input.productId, currency: input.currency })),
  categories: browse.input(CatalogCategoriesInput).query(({ ctx }) => ctx.catalog.categories()),
});
