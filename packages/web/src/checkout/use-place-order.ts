// Placing the order: a single-use token from the payment source (the card typed into the sandbox frame, or the sandbox
// wallet's sheet for express checkout), then placeOrder with the confirmed quote. Both sources share everything below.
// Declines keep everything entered; an expired quote is renewed; a changed price is shown for consent.
// A card that needs 3-D Secure leaves the order pending: the challenge is shown, then confirmPayment settles it.
// A retryable failure (payment processor or shop unreachable, load shed) keeps the attempt: the next
// "Place order" sends the same Idempotency-Key, payment token and quote again, so it can never charge twice.
import { useEffect, useRef, useState, type RefObject } from "react";
import type { Order, Quote } from "@checkout/core/schemas";
import { trpc } from "../trpc.ts";
import { describeError, isRetryable, lockedUntilOf, retryAfterSecondsOf, type AppErrorInfo } from "../lib/errors.ts";
import { formatTime } from "../lib/format.ts";
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

/** Where the payment token comes from: the card field, or the wallet (express checkout). */
export type PaymentSourceKind = "card" | "wallet";

export interface PaymentSource {
  kind: PaymentSourceKind;
  /** A single-use token for paying `quote`; throws PaymentCancelledError when the shopper backs out. */
  tokenize: (quote: Quote) => Promise<string>;
}

/** The shopper closed or cancelled the wallet: nothing happened, so nothing is shown. */
export class PaymentCancelledError extends Error {
  constructor() {
    super("The payment was cancelled.");
    this.name = "PaymentCancelledError";
  }
}

export interface PlacementError {
  message: string;
  /** Which way of paying the error belongs to, so it is shown next to that way's button. */
  source: PaymentSourceKind;
  /** A problem another card (or the same card typed again) can fix, rather than e.g. a promo code that ran out. */
  isCardProblem: boolean;
  /** Placing the order again retries the same attempt (same Idempotency-Key): safe, never a second charge. */
  isRetry: boolean;
}

/** One try at placing the order: what a retry must send again unchanged. */
interface Attempt {
  idempotencyKey: string;
  paymentToken: string;
  quoteId: string;
}

export interface PlaceOrderOptions {
  cartId: string;
  quote: Quote | null;
  setQuote: (quote: Quote) => void;
  /** The card field, for the default payment source; express checkout passes its own source to placeOrder. */
  cardField?: RefObject<CardFieldHandle | null>;
  onPlaced: (orderId: string) => void;
  /** Called when the server priced the cart differently, so the cart shown can catch up. */
  onRepriced: () => void;
  /** Shows again, after a reload, a 3-D Secure challenge the shopper left unanswered (default true; one hook per page does). */
  resumesChallenge?: boolean;
}

const NETWORK_RETRY_DELAY_MS = 1000;
/**
 * When a shown challenge asks the API whether it was answered, in case the frame's message never arrives: after 5 s,
 * then half as long again each time, up to every 30 s. Each ask is one call to the payment processor, so a challenge
 * left open a minute costs four of them, not twelve; a hidden tab does not ask at all and asks at once when shown again.
 */
const CHALLENGE_CHECK_FIRST_MS = 5000;
const CHALLENGE_CHECK_GROWTH = 1.5;
const CHALLENGE_CHECK_MAX_MS = 30_000;

function wait(ms: number): Promise<void> {
  return new Promise((resolve) => window.setTimeout(resolve, ms));
}

const paymentCodes = new Set(["PAYMENT_DECLINED", "PAYMENT_TOKEN_INVALID"]);

const SAFE_RETRY = "Your card will not be charged twice: place your order again to retry; it is the same order.";

/** What the shopper reads when the same attempt can be sent again, by appCode (never by parsing the server's text). */
function retryMessage(info: AppErrorInfo): string {
  const seconds = retryAfterSecondsOf(info);
  const pause = seconds ? ` Wait ${seconds} second${seconds === 1 ? "" : "s"}, then place your order again.` : "";
  switch (info.code) {
    case "PAYMENT_UNAVAILABLE":
      return `We could not reach the payment processor, so your order is not confirmed yet. ${SAFE_RETRY}`;
    case "NETWORK":
      return `We could not reach the shop, so your order is not confirmed yet. Check your connection. ${SAFE_RETRY}`;
    case "IDEMPOTENCY_IN_PROGRESS":
      return `Your order is still being processed.${pause} ${SAFE_RETRY}`;
    default:
      // OVERLOADED, SERVICE_UNAVAILABLE (database unreachable), INTERNAL.
      return `The shop is busy or briefly unavailable, so your order is not confirmed yet.${pause} ${SAFE_RETRY}`;
  }
}

/**
 * The card-testing lock (PAYMENT_ATTEMPTS_LOCKED): the server says neither why nor which limit, only until when. A
 * real shopper learns that nothing is wrong with the shop, when to try again, and that their bank can help.
 */
export function pausedPaymentsMessage(info: AppErrorInfo, now: Date = new Date()): string {
  const until = lockedUntilOf(info);
  const seconds = until ? Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000)) : retryAfterSecondsOf(info);
  const minutes = seconds === null ? null : Math.ceil(seconds / 60);
  const wait = minutes === null ? "later" : minutes <= 1 ? "in a minute" : `in ${minutes} minutes`;
  const clock = until && minutes !== null && minutes > 1 ? ` (at ${formatTime(until)})` : "";
  return `Your payment was not accepted. For your security we paused payments for this cart; try again ${wait}${clock}, or contact your bank.`;
}

const nextCardStep: Record<PaymentSourceKind, string> = {
  card: "Check your card details or use another card, then place your order again.",
  wallet: "Pay again and choose another card in the wallet, or pay by card below.",
};

function errorFor(info: AppErrorInfo, source: PaymentSourceKind): PlacementError {
  // Another card would be refused too until the pause ends: no "use another card" prompt.
  if (info.code === "PAYMENT_ATTEMPTS_LOCKED") return { message: pausedPaymentsMessage(info), source, isCardProblem: false, isRetry: false };
  if (paymentCodes.has(info.code)) {
    const sentence = /[.!?]$/.test(info.message) ? info.message : `${info.message}.`;
    return { message: `${sentence} ${nextCardStep[source]}`, source, isCardProblem: true, isRetry: false };
  }
  if (isRetryable(info)) return { message: retryMessage(info), source, isCardProblem: false, isRetry: true };
  return { message: info.message, source, isCardProblem: false, isRetry: false };
}

function challengeOf(order: Order): PaymentChallenge | null {
  const payment = order.payment;
  if (order.status !== "pending_payment" || payment?.status !== "requires_action" || !payment.nextActionUrl) return null;
  return { orderId: order.id, nextActionUrl: payment.nextActionUrl };
}

function isFailed(order: Order): boolean {
  return order.status === "payment_failed" || order.status === "cancelled";
}

function failedAuthenticationError(order: Order, source: PaymentSourceKind): PlacementError {
  const message =
    order.payment?.declineCode === "authentication_failed"
      ? "Card authentication failed. Try again or use another card."
      : "Your payment was not completed. Try again or use another card.";
  return { message, source, isCardProblem: true, isRetry: false };
}

/** The card typed into the sandbox's card field. */
function cardSource(cardField: RefObject<CardFieldHandle | null> | undefined): PaymentSource {
  return {
    kind: "card",
    tokenize: async () => {
      const card = cardField?.current;
      if (!card) throw new Error("The card field is not ready yet.");
      return (await card.tokenize()).token;
    },
  };
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

export function usePlaceOrder({ cartId, quote: currentQuote, setQuote, cardField, onPlaced, onRepriced, resumesChallenge = true }: PlaceOrderOptions) {
  const onPlacedRef = useRef(onPlaced);
  onPlacedRef.current = onPlaced;
  const [isPlacing, setIsPlacing] = useState(false);
  const [error, setError] = useState<PlacementError | null>(null);
  const [priceChange, setPriceChange] = useState<PriceChange | null>(null);
  const [challenge, setChallenge] = useState<PaymentChallenge | null>(null);
  const [isConfirming, setIsConfirming] = useState(false);
  const inFlight = useRef(false);
  /** The attempt whose outcome is unknown after a retryable failure; reused by the next "Place order". */
  const attempt = useRef<Attempt | null>(null);
  /** Which source the current challenge's order was paid with (its errors are shown beside that source's button). */
  const challengeSource = useRef<PaymentSourceKind>("card");

  // Another (or no) quote is another request: it gets a new key and a new token.
  const quoteId = currentQuote?.id ?? null;
  useEffect(() => {
    if (attempt.current && attempt.current.quoteId !== quoteId) attempt.current = null;
  }, [quoteId]);

  // Back from a reload mid-challenge: show the challenge again while the order still waits on it.
  useEffect(() => {
    const stored = resumesChallenge ? readPendingChallenge(cartId) : null;
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
        if (isFailed(order)) setError(failedAuthenticationError(order, "card"));
        else onPlacedRef.current(order.id);
      },
      () => {
        if (isCurrent) clearPendingChallenge();
      },
    );
    return () => {
      isCurrent = false;
    };
  }, [cartId, resumesChallenge]);

  /** One placeOrder call, retried once with the same idempotency key if the response was lost. */
  async function submit({ idempotencyKey, quoteId, paymentToken }: Attempt): Promise<Order> {
    return retryOnceAfterNetworkError(() => trpc.checkout.placeOrder.mutate({ cartId, quoteId, paymentToken }, { context: { idempotencyKey } }));
  }

  /**
   * `confirmedQuote` is a quote fetched just now for this very click (the page's own may not have re-rendered yet);
   * `source` gives the payment token (default: the card field).
   */
  async function placeOrder(confirmedQuote?: Quote, source: PaymentSource = cardSource(cardField)): Promise<void> {
    const quote = confirmedQuote ?? currentQuote;
    if (inFlight.current || !quote || challenge) return;
    inFlight.current = true;
    setIsPlacing(true);
    const fail = (info: AppErrorInfo) => setError(errorFor(info, source.kind));
    try {
      // A retry of an attempt whose outcome is unknown sends exactly the same request again: no new token, no new key.
      let current = attempt.current?.quoteId === quote.id ? attempt.current : null;
      if (!current) {
        let token: string;
        try {
          token = await source.tokenize(quote);
        } catch (sourceError) {
          // A cancelled wallet changes nothing: the last message (if any) stays as it was.
          if (sourceError instanceof PaymentCancelledError) return;
          const message = sourceError instanceof Error ? sourceError.message : "Check your card details and try again.";
          setError({ message, source: source.kind, isCardProblem: true, isRetry: false });
          return;
        }
        current = { idempotencyKey: randomId(), paymentToken: token, quoteId: quote.id };
      }
      setError(null);
      let confirmed = quote;
      for (let round = 0; ; round += 1) {
        attempt.current = current;
        try {
          const order = await submit(current);
          attempt.current = null;
          setPriceChange(null);
          const action = challengeOf(order);
          if (action) {
            writePendingChallenge({ cartId, ...action });
            challengeSource.current = source.kind;
            setChallenge(action);
          } else {
            onPlaced(order.id);
          }
          return;
        } catch (placeError) {
          const info = describeError(placeError);
          if (isRetryable(info)) {
            // Unknown outcome or nothing done yet: keep the attempt so the shopper's retry reuses its key.
            fail(info);
            return;
          }
          attempt.current = null;
          if ((info.code === "QUOTE_EXPIRED" || info.code === "PRICE_CHANGED") && round === 0) {
            const fresh = await trpc.checkout.quote.mutate({ cartId });
            setQuote(fresh);
            // Another currency (the cart's was switched meanwhile) is never paid silently: the new total is shown first.
            if (fresh.currency !== confirmed.currency) {
              setError({
                message: `Your cart is now priced in ${fresh.currency}, not ${confirmed.currency}. Check the new total, then pay again.`,
                source: source.kind,
                isCardProblem: false,
                isRetry: false,
              });
              onRepriced();
              return;
            }
            // An expired quote at the same total is renewed silently; any other change needs consent.
            if (info.code === "QUOTE_EXPIRED" && fresh.total === confirmed.total) {
              // The token was not used (the quote was refused first); the renewed quote is a new request, with a new key.
              confirmed = fresh;
              current = { idempotencyKey: randomId(), paymentToken: current.paymentToken, quoteId: fresh.id };
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
          fail(info);
          return;
        }
      }
    } catch (unexpected) {
      // Outside placeOrder itself (e.g. renewing the quote): no attempt is kept, so no "same order" promise.
      const info = describeError(unexpected);
      setError(attempt.current ? errorFor(info, source.kind) : { ...errorFor(info, source.kind), message: info.message, isRetry: false });
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
        setError(failedAuthenticationError(order, challengeSource.current));
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

  // A safety net for an answer whose message was lost (the frame reloaded, or answered before the page listened):
  // while the challenge is shown, ask now and then; confirmPayment leaves the order as it is while the challenge is open.
  // biome-ignore lint/correctness/useExhaustiveDependencies: one timer per challenge; completeChallenge reads that challenge
  useEffect(() => {
    if (!challenge) return;
    const { orderId } = challenge;
    let delayMs = CHALLENGE_CHECK_FIRST_MS;
    let timer: number | undefined;
    const schedule = (ms: number) => {
      window.clearTimeout(timer);
      timer = document.hidden ? undefined : window.setTimeout(check, ms);
    };
    function check() {
      delayMs = Math.min(CHALLENGE_CHECK_MAX_MS, delayMs * CHALLENGE_CHECK_GROWTH);
      schedule(delayMs);
      if (inFlight.current) return;
      trpc.checkout.confirmPayment.mutate({ orderId }).then(
        (order) => {
          if (order.status !== "pending_payment") void completeChallenge();
        },
        () => {},
      );
    }
    const onVisibility = () => (document.hidden ? schedule(0) : check());
    document.addEventListener("visibilitychange", onVisibility);
    schedule(delayMs);
    return () => {
      window.clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [challenge]);

  function reset() {
    setError(null);
    setPriceChange(null);
  }

  return { placeOrder, isPlacing, error, priceChange, challenge, isConfirming, completeChallenge, reset };
}
