// The payment provider's frames (the card field, the 3-D Secure challenge) in chunks of their own: most visits never
// reach them, and the checkout fetches the card field's chunk while the shopper is still typing the address.
import { lazy, Suspense, type ComponentProps } from "react";
import type { usePlaceOrder } from "../checkout/use-place-order.ts";
import { Loading } from "./status-panels.tsx";

export type { CardFieldHandle, CardFieldProps, CardFieldState, CardToken } from "./card-field.tsx";

const loadCardField = () => import("./card-field.tsx");
const loadChallenge = () => import("./three-d-secure-challenge.tsx");

const CardFieldChunk = lazy(() => loadCardField().then((module) => ({ default: module.CardField })));
const ChallengeChunk = lazy(() => loadChallenge().then((module) => ({ default: module.ThreeDSecureChallenge })));

/** Fetches the card field's chunk ahead of showing it. */
export function prefetchCardField(): void {
  loadCardField().catch(() => undefined);
}

export function CardField(props: ComponentProps<typeof CardFieldChunk>) {
  return (
    // The same height as the field and its hint, so nothing below it moves when it arrives.
    <Suspense
      fallback={
        <div className="card-field card-field--pending">
          <Loading label="Loading the secure card field…" />
        </div>
      }
    >
      <CardFieldChunk {...props} />
    </Suspense>
  );
}

export function ThreeDSecureChallenge(props: ComponentProps<typeof ChallengeChunk>) {
  return (
    <Suspense fallback={<Loading label="Loading your bank's page…" />}>
      <ChallengeChunk {...props} />
    </Suspense>
  );
}

/** The 3-D Secure challenge an order placement is waiting on, if any: shown until answered, then confirmed. */
export function PlacementChallenge({ placement }: { placement: Pick<ReturnType<typeof usePlaceOrder>, "challenge" | "isConfirming" | "completeChallenge"> }) {
  if (!placement.challenge) return null;
  return (
    <ThreeDSecureChallenge
      key={placement.challenge.orderId}
      nextActionUrl={placement.challenge.nextActionUrl}
      isConfirming={placement.isConfirming}
      onAnswered={() => void placement.completeChallenge()}
    />
  );
}
