// The payment sandbox's hosted card field in an iframe. Card numbers stay inside the frame; the
// parent only ever asks it for a single-use token over postMessage.
import { useEffect, useImperativeHandle, useLayoutEffect, useRef, useState, type Ref } from "react";
import { cardFieldUrl, sandboxOrigin } from "../lib/config.ts";
import { randomId } from "../lib/ids.ts";
import { parseSandboxMessage, type CardSummary, type TokenizeRequest } from "../payment/sandbox-messages.ts";

const READY_TIMEOUT_MS = 15_000;
const TOKENIZE_TIMEOUT_MS = 20_000;
const DEFAULT_HEIGHT = 120;

export interface CardToken {
  token: string;
  card: CardSummary;
}

export interface CardFieldHandle {
  tokenize: () => Promise<CardToken>;
}

interface PendingRequest {
  resolve: (token: CardToken) => void;
  reject: (error: Error) => void;
  timer: number;
}

interface FieldStatus {
  complete: boolean;
  brand: string | null;
}

export function CardField({ ref }: { ref?: Ref<CardFieldHandle> }) {
  const frame = useRef<HTMLIFrameElement>(null);
  const pending = useRef(new Map<string, PendingRequest>());
  const [frameKey, setFrameKey] = useState(0);
  const [isReady, setIsReady] = useState(false);
  const [hasTimedOut, setHasTimedOut] = useState(false);
  const [height, setHeight] = useState(DEFAULT_HEIGHT);
  const [status, setStatus] = useState<FieldStatus>({ complete: false, brand: null });
  const isReadyRef = useRef(false);

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
        case "sandbox:change":
          setStatus({ complete: message.complete, brand: message.brand });
          break;
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

  useImperativeHandle(
    ref,
    () => ({
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
          const request: TokenizeRequest = { type: "sandbox:tokenize", requestId };
          target.postMessage(request, sandboxOrigin);
        }),
    }),
    [],
  );

  return (
    <div className="card-field">
      <div className={`card-field__frame ${isReady ? "" : "card-field__frame--loading"}`}>
        <iframe key={frameKey} ref={frame} title="Card details" src={cardFieldUrl()} data-testid="card-frame" style={{ height }} onLoad={() => setHasTimedOut(false)} />
        {!isReady && !hasTimedOut && (
          <p className="card-field__loading muted" aria-hidden="true">
            Loading secure card field…
          </p>
        )}
      </div>
      {/* The frame shows its own validation messages; here only the outcome, for a quick glance. */}
      <p className="card-field__status small" aria-live="polite">
        {status.complete ? (
          <span className="ok">✓ {status.brand ? `${capitalise(status.brand)} card` : "Card"} details complete</span>
        ) : status.brand ? (
          <span className="muted">{capitalise(status.brand)}</span>
        ) : null}
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

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
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
      <p className="muted">Use any future expiry date and any CVC.</p>
    </div>
  );
}
