// Runtime configuration read from the page: the payment sandbox's URL and origin, and its frame URLs.
const DEFAULT_SANDBOX_URL = "http://localhost:3001";

function readMeta(name: string): string | undefined {
  if (typeof document === "undefined") return undefined;
  const content = document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content.trim();
  return content ? content : undefined;
}

function resolveSandboxUrl(): string {
  const fromMeta = readMeta("checkout:payment-sandbox-url");
  const fromEnv = import.meta.env.VITE_PAYMENT_SANDBOX_URL as string | undefined;
  const url = fromMeta ?? (fromEnv?.trim() || undefined) ?? DEFAULT_SANDBOX_URL;
  return url.replace(/\/+$/, "");
}

export const sandboxUrl = resolveSandboxUrl();

/** The exact origin the card field's messages must come from, and the target of ours. */
export const sandboxOrigin = (() => {
  try {
    return new URL(sandboxUrl).origin;
  } catch {
    return new URL(DEFAULT_SANDBOX_URL).origin;
  }
})();

export function cardFieldUrl(): string {
  return `${sandboxUrl}/field?origin=${encodeURIComponent(window.location.origin)}`;
}

/**
 * The provider's 3-D Secure page, told which origin to report back to. Only pages on the sandbox's own
 * origin are framed (our CSP allows no other), so anything else gives null.
 */
export function challengeFrameUrl(nextActionUrl: string): string | null {
  let url: URL;
  try {
    url = new URL(nextActionUrl);
  } catch {
    return null;
  }
  if (url.origin !== sandboxOrigin) return null;
  url.searchParams.set("origin", window.location.origin);
  return url.toString();
}
