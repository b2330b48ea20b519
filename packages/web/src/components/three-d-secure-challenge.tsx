// The card issuer's 3-D Secure page (the payment sandbox's, on its own origin) in a frame. It tells us
// over postMessage when the shopper has answered; the caller then asks our API how the payment ended.
import { useEffect, useLayoutEffect, useRef } from "react";
import { challengeFrameUrl, sandboxOrigin } from "../lib/config.ts";
import { parseSandboxMessage } from "../payment/sandbox-messages.ts";

export type ChallengeResult = "authorized" | "failed";

interface ThreeDSecureChallengeProps {
  nextActionUrl: string;
  /** Called once, when the page reports an answer. */
  onAnswered: (result: ChallengeResult) => void;
  /** True while the caller confirms the payment with our API. */
  isConfirming: boolean;
  headingLevel?: 2 | 3;
}

/** The authorisation id is the last path segment of the challenge URL (`…/3ds/auth_…`). */
function authorizationIdOf(nextActionUrl: string): string | null {
  try {
    return new URL(nextActionUrl).pathname.split("/").filter(Boolean).at(-1) ?? null;
  } catch {
    return null;
  }
}

export function ThreeDSecureChallenge({ nextActionUrl, onAnswered, isConfirming, headingLevel = 3 }: ThreeDSecureChallengeProps) {
  const frame = useRef<HTMLIFrameElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const onAnsweredRef = useRef(onAnswered);
  onAnsweredRef.current = onAnswered;
  const src = challengeFrameUrl(nextActionUrl);
  const authorizationId = authorizationIdOf(nextActionUrl);

  // Subscribed before the frame loads: a page reloaded after its answer reports it straight away.
  useLayoutEffect(() => {
    let hasAnswered = false;
    function onMessage(event: MessageEvent) {
      if (hasAnswered || event.origin !== sandboxOrigin || event.source !== frame.current?.contentWindow) return;
      const message = parseSandboxMessage(event.data);
      if (message?.type !== "sandbox:3ds-complete" || message.authorizationId !== authorizationId) return;
      hasAnswered = true;
      onAnsweredRef.current(message.status);
    }
    window.addEventListener("message", onMessage);
    return () => window.removeEventListener("message", onMessage);
  }, [authorizationId]);

  // The shopper has to act here next: take keyboard and screen-reader focus to it.
  useEffect(() => {
    heading.current?.focus();
    heading.current?.scrollIntoView({ block: "start", behavior: "smooth" });
  }, []);

  const Heading = headingLevel === 2 ? "h2" : "h3";
  return (
    <section className="three-ds" aria-labelledby="three-ds-heading" data-testid="three-ds-challenge" aria-busy={isConfirming}>
      <Heading id="three-ds-heading" className="three-ds__title" tabIndex={-1} ref={heading}>
        Confirm the payment with your bank
      </Heading>
      <p className="muted small">Your card issuer asks you to confirm this payment. Follow the steps below; your order is placed once you confirm.</p>
      {src ? (
        <iframe className="three-ds__frame" title="Card authentication" src={src} ref={frame} data-testid="three-ds-frame" />
      ) : (
        <p className="notice notice--error" role="alert">
          We can't show your bank's confirmation page. Please try again, or use another card.
        </p>
      )}
      <p className="small" role="status" aria-live="polite">
        {isConfirming ? "Confirming your payment…" : ""}
      </p>
    </section>
  );
}
