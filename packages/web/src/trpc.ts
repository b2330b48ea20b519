// The tRPC client: one plain HTTP POST per call (no batching; queries too, so a cart or order id never
// travels in a URL), typed by the API router's type only.
import { createTRPCClient, httpLink } from "@trpc/client";
import type { AppRouter } from "@checkout/api/router";

export type { AppRouter };

/** Per-call context: an idempotency key becomes the `Idempotency-Key` header of that request. */
export interface CallContext extends Record<string, unknown> {
  idempotencyKey?: string;
}

export const trpc = createTRPCClient<AppRouter>({
  links: [
    httpLink({
      url: "/trpc",
      methodOverride: "POST",
      headers: ({ op }) => {
        const key = (op.context as CallContext).idempotencyKey;
        return key ? { "Idempotency-Key": key } : {};
      },
    }),
  ],
});
