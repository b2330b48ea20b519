// The 3-D Secure challenge a cart's order is waiting on, kept for the tab's session so that a reload
// mid-challenge brings the shopper back to it instead of leaving the order pending.
const PENDING_CHALLENGE_KEY = "checkout.pendingChallenge";

export interface StoredChallenge {
  cartId: string;
  orderId: string;
  nextActionUrl: string;
}

function isStoredChallenge(value: unknown): value is StoredChallenge {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record.cartId === "string" && typeof record.orderId === "string" && typeof record.nextActionUrl === "string";
}

export function readPendingChallenge(cartId: string): StoredChallenge | null {
  try {
    const parsed: unknown = JSON.parse(window.sessionStorage.getItem(PENDING_CHALLENGE_KEY) ?? "null");
    return isStoredChallenge(parsed) && parsed.cartId === cartId ? parsed : null;
  } catch {
    return null;
  }
}

export function writePendingChallenge(challenge: StoredChallenge): void {
  try {
    window.sessionStorage.setItem(PENDING_CHALLENGE_KEY, JSON.stringify(challenge));
  } catch {
    // Without storage a reload loses the challenge; the order page and the reconciler still settle the order.
  }
}

export function clearPendingChallenge(): void {
  try {
    window.sessionStorage.removeItem(PENDING_CHALLENGE_KEY);
  } catch {
    // Nothing stored.
  }
}
