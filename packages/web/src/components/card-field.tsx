// The payment sandbox's hosted card field in an iframe. Card numbers stay inside the frame; the
// parent only ever asks it for a single-use token over postMessage.
import { useEffect, useImperativeHandle, useLayoutEffect, useRef, useState, type Ref } from "react";
import { cardFieldUrl, sandboxOrigin } from "../lib/config.ts";
import { randomId } from "../lib/ids.ts";
import { type CardFieldCommand, type CardSummary, parseSandboxMessage } from "../payment/sandbox-messages.ts";

const READY_TIMEOUT_MS = 15_000;
const TOKENIZE_TIMEOUT_MS = 20_000;
const DEFAULT_HEIGHT = 120;

export interface CardToken {
  token: string;
  card: CardSummary;
}

/** What the card field last reported: whether every part is filled in and valid, the brand, and the message it shows. */
export interface CardFieldState {
  complete: boolean;
  brand: string | null;
  /** The first message the frame shows the shopper (a field they have left or finished), else null. */
  error: string | null;
}

export interface CardFieldHandle {
  tokenize: () => Promise<CardToken>;
  /** The latest state the frame reported (not complete until it has). */
  getState: () => CardFieldState;
  /**
   * Before placing an order: true when the card is complete; otherwise the frame shows every field's message
   * (also for fields the shopper has not reached yet) and the answer is false.
   */
  validate: () => boolean;
  /** Moves focus into the frame, to the first field that needs fixing (else the card number). */
  focus: () => void;
}

export interface CardFieldProps {
  ref?: Ref<CardFieldHandle>;
  /** Called whenever the card's validity, brand or shown message changes; optional (the handle's getState() reads the same). */
  onValidityChange?: (state: CardFieldState) => void;
}

interface PendingRequest {
  resolve: (token: CardToken) => void;
  reject: (error: Error) => void;
  timer: number;
}

const INITIAL_STATE: CardFieldState = { complete: false, brand: null, error: null };

/**
 * The page's type and colours for the frame, as a URL fragment the field page reads (and checks) itself: the
 * frame's inputs then look like the page's own. A fragment never reaches the sandbox's server or its logs.
 */
export function fieldTheme(element: HTMLElement): string {
  const style = window.getComputedStyle(element);
  const root = window.getComputedStyle(document.documentElement);
  const theme: Record<string, string> = {
    font: style.fontFamily,
    size: style.fontSize,
    ink: style.color,
    muted: root.getPropertyValue("--ink-soft").trim(),
    border: root.getPropertyValue("--line-strong").trim(),
    surface: root.getPropertyValue("--surface").trim(),
    focus: root.getPropertyValue("--focus").trim(),
    danger: root.getPropertyValue("--danger").trim(),
    radius: root.getPropertyValue("--radius-small").trim(),
  };
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(theme)) if (value) params.set(key, value);
  return params.toString();
}

export function CardField({ ref, onValidityChange }: CardFieldProps) {
  const root = useRef<HTMLDivElement>(null);
  const frame = useRef<HTMLIFrameElement>(null);
  const [src, setSrc] = useState<string | null>(null);
  const pending = useRef(new Map<string, PendingRequest>());
  const [frameKey, setFrameKey] = useState(0);
  const [isReady, setIsReady] = useState(false);
  const [hasTimedOut, setHasTimedOut] = useState(false);
  const [height, setHeight] = useState(DEFAULT_HEIGHT);
  const [status, setStatus] = useState<CardFieldState>(INITIAL_STATE);
  const isReadyRef = useRef(false);
  const stateRef = useRef<CardFieldState>(INITIAL_STATE);
  const onValidityChangeRef = useRef(onValidityChange);
  onValidityChangeRef.current = onValidityChange;

  // Before the first paint: the frame's address carries the page's computed type and colours.
  useLayoutEffect(() => {
    if (root.current) setSrc(`${cardFieldUrl()}#${fieldTheme(root.current)}`);
  }, []);

  // A layout effect subscribes before the frame can possibly post "ready".
  useLayoutEffect(() => {
    function onMessage(event: MessageEvent) {
      if (event.origin !== sandboxOrigin || event.source !== frame.current?.contentWindow) return;
      const message = parseSandboxMessage(event.data);
      if (!message) return;
      switch (message.type) {
        case "sandbox:ready":
          isReadyRef.current = true;
          setIsReady(true);
          setHasTimedOut(false);
          break;
        case "sandbox:change": {
          const next = { complete: message.complete, brand: message.brand, error: message.error };
          stateRef.current = next;
          setStatus(next);
          onValidityChangeRef.current?.(next);
          break;
        }
        case "sandbox:resize":
          setHeight(Math.min(Math.max(Math.ceil(message.height), 40), 800));
          break;
        case "sandbox:token":
        case "sandbox:error": {
          const request = pending.current.get(message.requestId);
          if (!request) return;
          pending.current.delete(message.requestId);
          window.clearTimeout(request.timer);
          if (message.type === "sandbox:token") request.resolve({ token: message.token, card: message.card });
          else request.reject(new Error(message.message));
          break;
        }
      }
    }
    window.addEventListener("message", onMessage);
    return () => window.removeEventListener("message", onMessage);
  }, []);

  // A frame that never says it is ready (sandbox down, blocked) gets an explanation and a retry.
  // biome-ignore lint/correctness/useExhaustiveDependencies: `frameKey` is the retry trigger: a new frame restarts the ready timeout
  useEffect(() => {
    isReadyRef.current = false;
    stateRef.current = INITIAL_STATE;
    setIsReady(false);
    const timer = window.setTimeout(() => {
      if (!isReadyRef.current) setHasTimedOut(true);
    }, READY_TIMEOUT_MS);
    return () => window.clearTimeout(timer);
  }, [frameKey]);

  useEffect(() => {
    const requests = pending.current;
    return () => {
      for (const request of requests.values()) {
        window.clearTimeout(request.timer);
        request.reject(new Error("The card field was closed."));
      }
      requests.clear();
    };
  }, []);

  useImperativeHandle(ref, () => {
    const send = (command: CardFieldCommand): void => {
      if (isReadyRef.current) frame.current?.contentWindow?.postMessage(command, sandboxOrigin);
    };
    return {
      getState: () => stateRef.current,
      validate: () => {
        if (stateRef.current.complete) return true;
        send({ type: "sandbox:validate" });
        return false;
      },
      focus: () => {
        frame.current?.focus();
        send({ type: "sandbox:focus" });
      },
      tokenize: () =>
        new Promise<CardToken>((resolve, reject) => {
          const target = frame.current?.contentWindow;
          if (!target || !isReadyRef.current) {
            reject(new Error("The card field is still loading. Wait a moment and try again."));
            return;
          }
          const requestId = randomId();
          const timer = window.setTimeout(() => {
            pending.current.delete(requestId);
            reject(new Error("The card field did not respond. Check your card details and try again."));
          }, TOKENIZE_TIMEOUT_MS);
          pending.current.set(requestId, { resolve, reject, timer });
          send({ type: "sandbox:tokenize", requestId });
        }),
    };
  }, []);

  return (
    <div className="card-field" ref={root}>
      <p className="card-field__secure small" data-testid="card-secure-note">
        <svg aria-hidden="true" focusable="false" viewBox="0 0 16 16" width="16" height="16">
          <path d="M4.5 7V5a3.5 3.5 0 0 1 7 0v2" fill="none" stroke="currentColor" strokeWidth="1.6" />
          <rect x="2.5" y="7" width="11" height="8" rx="1.5" fill="currentColor" />
        </svg>
        Secure, encrypted card payment
      </p>
      <div className={`card-field__frame ${isReady ? "" : "card-field__frame--loading"}`}>
        {src && <iframe key={frameKey} ref={frame} title="Card details" src={src} data-testid="card-frame" style={{ height }} onLoad={() => setHasTimedOut(false)} />}
        {!isReady && !hasTimedOut && (
          <p className="card-field__loading muted" aria-hidden="true">
            Loading secure card field…
          </p>
        )}
      </div>
      {/* The frame shows its own messages and the brand it recognised; here only the outcome, for a quick glance. */}
      <p className="card-field__status small" aria-live="polite">
        {status.complete && <span className="ok">✓ {status.brand ? `${brandName(status.brand)} card` : "Card"} details complete</span>}
      </p>
      {hasTimedOut && !isReady && (
        <div className="notice notice--error" role="alert">
          <p>The secure card field didn't load. The payment service may be unavailable.</p>
          <button type="button" className="button button--secondary button--small" onClick={() => setFrameKey((count) => count + 1)}>
            Reload card field
          </button>
        </div>
      )}
      <TestCardHint />
    </div>
  );
}

const BRAND_NAMES: Record<string, string> = { visa: "Visa", mastercard: "Mastercard", amex: "American Express" };

function brandName(brand: string): string {
  return BRAND_NAMES[brand] ?? brand.charAt(0).toUpperCase() + brand.slice(1);
}

function TestCardHint() {
  return (
    <div className="test-cards small" data-testid="test-card-hint">
      <p className="test-cards__title">Test cards (no real charge)</p>
      <ul>
        <li>
          <code>4242 4242 4242 4242</code> succeeds
        </li>
        <li>
          <code>4000 0000 0000 0002</code> is declined
        </li>
        <li>
          <code>4000 0000 0000 9995</code> has insufficient funds
        </li>
        <li>
          <code>4000 0027 6000 3184</code> asks for 3-D Secure authentication
        </li>
      </ul>
      <p className="muted">Use any future expiry date and any 3-digit CVC (4 digits for American Express).</p>
    </div>
  );
}
