// Express checkout's chunk, fetched only in browsers that have the Payment Request API.
import { lazy, Suspense } from "react";
import type { ExpressCheckoutProps } from "../components/express-checkout.tsx";

const ExpressCheckoutChunk = lazy(() => import("../components/express-checkout.tsx"));

export function ExpressCheckout(props: ExpressCheckoutProps) {
  if (typeof window === "undefined" || typeof window.PaymentRequest !== "function") return null;
  return (
    // Its place is held while the chunk loads (the same height as the section), so the form below never jumps.
    <Suspense fallback={<div className="express-checkout express-checkout--placeholder" aria-hidden="true" />}>
      <ExpressCheckoutChunk {...props} />
    </Suspense>
  );
}
