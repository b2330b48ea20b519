// Placing the order: tokenise the card in the sandbox frame, then placeOrder with the confirmed quote.
// Declines keep everything entered; an expired quote is renewed; a changed price is shown for consent.
import { useRef, useState, type RefObject } from "react";
import type { Order, Quote } from "@checkout/core/schemas";
import { trpc } from "../trpc.ts";
import { describeError, type AppErrorInfo } from "../lib/errors.ts";
import { randomId } from "../lib/ids.ts";
import type { CardFieldHandle } from "../components/card-field.tsx";

export interface PriceChange {
  was: number;
  now: number;
  currency: string;
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

function messageFor(info: AppErrorInfo): string {
  if (paymentCodes.has(info.code)) return `${info.message} Check your card details or use another card, then place your order again.`;
  return info.message;
}

export function usePlaceOrder({ cartId, quote, setQuote, cardField, onPlaced, onRepriced }: PlaceOrderOptions) {
  const [isPlacing, setIsPlacing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [priceChange, setPriceChange] = useState<PriceChange | null>(null);
  const inFlight = useRef(false);

  /** One placeOrder call, retried once with the same idempotency key if the response was lost. */
  async function submit(quoteId: string, paymentToken: string): Promise<Order> {
    const idempotencyKey = randomId();
    const call = () => trpc.checkout.placeOrder.mutate({ cartId, quoteId, paymentToken }, { context: { idempotencyKey } });
    try {
      return await call();
    } catch (firstError) {
      if (describeError(firstError).code !== "NETWORK") throw firstError;
      await wait(NETWORK_RETRY_DELAY_MS);
      return call();
    }
  }

  async function placeOrder(): Promise<void> {
    if (inFlight.current || !quote) return;
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
        setError(cardError instanceof Error ? cardError.message : "Check your card details and try again.");
        return;
      }
      let confirmed = quote;
      for (let attempt = 0; ; attempt += 1) {
        try {
          const order = await submit(confirmed.id, token);
          setPriceChange(null);
          onPlaced(order.id);
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
          setError(messageFor(info));
          return;
        }
      }
    } catch (unexpected) {
      setError(messageFor(describeError(unexpected)));
    } finally {
      inFlight.current = false;
      setIsPlacing(false);
    }
  }

  function reset() {
    setError(null);
    setPriceChange(null);
  }

  return { placeOrder, isPlacing, error, priceChange, reset };
}
