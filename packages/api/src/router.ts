// The application router. The web app imports only its type.
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { router } from "./trpc.ts";
import { catalogRouter } from "./routers/catalog.router.ts";
import { cartRouter } from "./routers/cart.router.ts";
import { checkoutRouter } from "./routers/checkout.router.ts";
import { orderRouter } from "./routers/order.router.ts";
import { adminRouter } from "./routers/admin.router.ts";
import { addressRouter } from "./routers/address.router.ts";

export const appRouter = router({
  catalog: catalogRouter,
  cart: cartRouter,
  checkout: checkoutRouter,
  order: orderRouter,
  address: addressRouter,
  admin: adminRouter,
});

export type AppRouter = typeof appRouter;
export type RouterInput = inferRouterInputs<AppRouter>;
export type RouterOutput = inferRouterOutputs<AppRouter>;
