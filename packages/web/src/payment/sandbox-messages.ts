// The postMessage protocol spoken with the payment sandbox's hosted card field and its 3-D Secure page.
export interface CardSummary {
  brand: string;
  last4: string;
}

export type SandboxMessage =
  | { type: "sandbox:ready" }
  | { type: "sandbox:change"; complete: boolean; brand: string | null; error: string | null }
  | { type: "sandbox:resize"; height: number }
  | { type: "sandbox:token"; requestId: string; token: string; card: CardSummary }
  | { type: "sandbox:error"; requestId: string; message: string }
  /** The 3-D Secure challenge page's answer; the order's real state still comes from checkout.confirmPayment. */
  | { type: "sandbox:3ds-complete"; authorizationId: string; status: "authorized" | "failed" };

export interface TokenizeRequest {
  type: "sandbox:tokenize";
  requestId: string;
}

/** What the page may ask of the card field: a token, every field's message shown, or focus on the first field to fix. */
export type CardFieldCommand = TokenizeRequest | { type: "sandbox:validate" } | { type: "sandbox:focus" };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

const optionalString = (value: unknown): string | null => (typeof value === "string" && value !== "" ? value : null);

/** Accepts only well-formed messages; anything else from the frame is ignored. */
export function parseSandboxMessage(data: unknown): SandboxMessage | null {
  if (!isRecord(data) || typeof data.type !== "string") return null;
  switch (data.type) {
    case "sandbox:ready":
      return { type: "sandbox:ready" };
    case "sandbox:change":
      return { type: "sandbox:change", complete: data.complete === true, brand: optionalString(data.brand), error: optionalString(data.error) };
    case "sandbox:resize":
      return typeof data.height === "number" && Number.isFinite(data.height) ? { type: "sandbox:resize", height: data.height } : null;
    case "sandbox:token": {
      const card = isRecord(data.card) ? data.card : {};
      if (typeof data.requestId !== "string" || typeof data.token !== "string") return null;
      return {
        type: "sandbox:token",
        requestId: data.requestId,
        token: data.token,
        card: { brand: String(card.brand ?? "card"), last4: String(card.last4 ?? "") },
      };
    }
    case "sandbox:error":
      if (typeof data.requestId !== "string") return null;
      return { type: "sandbox:error", requestId: data.requestId, message: optionalString(data.message) ?? "The card could not be read." };
    case "sandbox:3ds-complete":
      if (typeof data.authorizationId !== "string" || (data.status !== "authorized" && data.status !== "failed")) return null;
      return { type: "sandbox:3ds-complete", authorizationId: data.authorizationId, status: data.status };
    default:
      return null;
  }
}
