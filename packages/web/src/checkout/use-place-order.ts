// Placing the order: tokenise the card in the sandbox frame, then placeOrder with the confirmed quote.
// Declines keep everything entered; an expired quote is renewed; a changed price is shown for consent.
// A card that needs 3-D Secure leaves the order pending: the challenge is shown, then confirmPayment settles it.
import { useEffect, useRef, useState, type RefObject } from "react";
import type { Order, Quote } from "@checkout/core/schemas";
import { trpc } from "../trpc.ts";
import { describeError, type AppErrorInfo } from "../lib/errors.ts";
import { randomId } from "../lib/ids.ts";
import type { CardFieldHandle } from "../components/card-field.tsx";
import { clearPendingChallenge, readPendingChallenge, writePendingChallenge } from "./pending-challenge-storage.ts";

export interface PriceChange {
  was: number;
  now: number;
  currency: string;
}

/** An order waiting for the shopper to answer the card issuer's 3-D Secure challenge. */
export interface PaymentChallenge {
  orderId: string;
  nextActionUrl: string;
}

export interface PlacementError {
  message: string;
  /** A problem another card (or the same card typed again) can fix, rather than e.g. a promo code that ran out. */
  isCardProblem: boolean;
}

interface PlaceOrderOptions {
  cartId: string;
  quote: Quote | null;
  setQuote: (quote: Quote) => void;
  cardField: RefObject<CardFieldHandle | null>;
  onPlaced: (orderId: string) => void;
  /** Called when the server priced the cart differently, so the cart shown can catch up. */
  onRepriced: () => void;
}

const NETWORK_RETRY_DELAY_MS = 1000;

function wait(ms: number): Promise<void> {
  return new Promise((resolve) => window.setTimeout(resolve, ms));
}

const paymentCodes = new Set(["PAYMENT_DECLINED", "PAYMENT_TOKEN_INVALID"]);

function errorFor(info: AppErrorInfo): PlacementError {
  if (paymentCodes.has(info.code)) {
    return { message: `${info.message} Check your card details or use another card, then place your order again.`, isCardProblem: true };
  }
  return { message: info.message, isCardProblem: false };
}

function challengeOf(order: Order): PaymentChallenge | null {
  const payment = order.payment;
  if (order.status !== "pending_payment" || payment?.status !== "requires_action" || !payment.nextActionUrl) return null;
  return { orderId: order.id, nextActionUrl: payment.nextActionUrl };
}

function isFailed(order: Order): boolean {
  return order.status === "payment_failed" || order.status === "cancelled";
}

function failedAuthenticationError(order: Order): PlacementError {
  const message =
    order.payment?.declineCode === "authentication_failed"
      ? "Card authentication failed. Try again or use another card."
      : "Your payment was not completed. Try again or use another card.";
  return { message, isCardProblem: true };
}

/** Runs an idempotent call, and once more if its response was lost on the network. */
async function retryOnceAfterNetworkError<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (firstError) {
    if (describeError(firstError).code !== "NETWORK") throw firstError;
    await wait(NETWORK_RETRY_DELAY_MS);
    return call();
  }
}

export function usePlaceOrder({ cartId, quote, setQuote, cardField, onPlaced, onRepriced }: PlaceOrderOptions) {
  const onPlacedRef = useRef(onPlaced);
  onPlacedRef.current = onPlaced;
  const [isPlacing, setIsPlacing] = useState(false);
  const [error, setError] = useState<PlacementError | null>(null);
  const [priceChange, setPriceChange] = useState<PriceChange | null>(null);
  const [challenge, setChallenge] = useState<PaymentChallenge | null>(null);
  const [isConfirming, setIsConfirming] = useState(false);
  const inFlight = useRef(false);

  // Back from a reload mid-challenge: show the challenge again while the order still waits on it.
  useEffect(() => {
    const stored = readPendingChallenge(cartId);
    if (!stored) return;
    let isCurrent = true;
    trpc.order.get.query({ orderId: stored.orderId }).then(
      (order) => {
        if (!isCurrent) return;
        if (order.status === "pending_payment") {
          setChallenge({ orderId: order.id, nextActionUrl: order.payment?.nextActionUrl ?? stored.nextActionUrl });
          return;
        }
        clearPendingChallenge();
        if (isFailed(order)) setError(failedAuthenticationError(order));
        else onPlacedRef.current(order.id);
      },
      () => {
        if (isCurrent) clearPendingChallenge();
      },
    );
    return () => {
      isCurrent = false;
    };
  }, [cartId]);

  /** One placeOrder call, retried once with the same idempotency key if the response was lost. */
  async function submit(quoteId: string, paymentToken: string): Promise<Order> {
    const idempotencyKey = randomId();
    return retryOnceAfterNetworkError(() => trpc.checkout.placeOrder.mutate({ cartId, quoteId, paymentToken }, { context: { idempotencyKey } }));
  }

  async function placeOrder(): Promise<void> {
    if (inFlight.current || !quote || challenge) return;
    inFlight.current = true;
    setIsPlacing(true);
    setError(null);
    try {
      const card = cardField.current;
      if (!card) throw new Error("The card field is not ready yet.");
      let token: string;
      try {
        token = (await card.tokenize()).token;
      } catch (cardError) {
        setError({ message: cardError instanceof Error ? cardError.message : "Check your card details and try again.", isCardProblem: true });
        return;
      }
      let confirmed = quote;
      for (let attempt = 0; ; attempt += 1) {
        try {
          const order = await submit(confirmed.id, token);
          setPriceChange(null);
          const action = challengeOf(order);
          if (action) {
            writePendingChallenge({ cartId, ...action });
            setChallenge(action);
          } else {
            onPlaced(order.id);
          }
          return;
        } catch (placeError) {
          const info = describeError(placeError);
          if ((info.code === "QUOTE_EXPIRED" || info.code === "PRICE_CHANGED") && attempt === 0) {
            const fresh = await trpc.checkout.quote.mutate({ cartId });
            setQuote(fresh);
            // An expired quote at the same total is renewed silently; any other change needs consent.
            if (info.code === "QUOTE_EXPIRED" && fresh.total === confirmed.total) {
              confirmed = fresh;
              continue;
            }
            setPriceChange({ was: confirmed.total, now: fresh.total, currency: fresh.currency });
            onRepriced();
            return;
          }
          if ((info.code === "ALREADY_ORDERED" || info.code === "CHECKOUT_IN_PROGRESS") && typeof info.details.orderId === "string") {
            onPlaced(info.details.orderId);
            return;
          }
          setError(errorFor(info));
          return;
        }
      }
    } catch (unexpected) {
      setError(errorFor(describeError(unexpected)));
    } finally {
      inFlight.current = false;
      setIsPlacing(false);
    }
  }

  /** confirmPayment is idempotent, so a lost response is simply asked again. */
  async function confirm(orderId: string): Promise<Order> {
    return retryOnceAfterNetworkError(() => trpc.checkout.confirmPayment.mutate({ orderId }));
  }

  /** The challenge page has an answer; what counts is the order's state as our API settles it. */
  async function completeChallenge(): Promise<void> {
    if (!challenge || inFlight.current) return;
    inFlight.current = true;
    setIsConfirming(true);
    try {
      const order = await confirm(challenge.orderId);
      clearPendingChallenge();
      if (isFailed(order)) {
        setChallenge(null);
        setError(failedAuthenticationError(order));
        return;
      }
      // Paid, or still settling: the order page shows it, and looks again while it is pending.
      onPlaced(order.id);
    } catch {
      // The provider already has the answer; the order page picks the outcome up (and can ask again).
      clearPendingChallenge();
      onPlaced(challenge.orderId);
    } finally {
      inFlight.current = false;
      setIsConfirming(false);
    }
  }

  function reset() {
    setError(null);
    setPriceChange(null);
  }

  return { placeOrder, isPlacing, error, priceChange, challenge, isConfirming, completeChallenge, reset };
}
