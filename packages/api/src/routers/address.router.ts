// address.locality / address.suggest: what the address form asks of the address lookup provider (ADDRESS_LOOKUP):
// the city and state of a ZIP code, and completions of the address line. Read-only, no capability, browse-rate-limited.
import { AddressLocalityInput, AddressSuggestInput } from "@checkout/core";
import { procedure, router } from "../trpc.ts";

const browse = procedure.meta({ rateClass: "browse" });

export const addressRouter = router({
  /** `{ locality }`: the postcode's city and region, or null when the provider does not know it. */
  locality: browse.input(AddressLocalityInput).query(async ({ ctx, input }) => ({ locality: await ctx.addressLookup.localityOf(input.country, input.postalCode) })),
  /** `{ suggestions }`: at most `limit` completions of the address line, best first. */
  suggest: browse.input(AddressSuggestInput).query(async ({ ctx, input }) => ({ suggestions: await ctx.addressLookup.suggest(input) })),
});
