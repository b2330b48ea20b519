// The browser security headers CloudFront adds to the checkout: one typed Content-Security-Policy builder for the
// payment page (PCI DSS 6.4.3: only the scripts listed here may run) and the HSTS / framing / sniffing settings.

/** What the checkout page loads from outside its own origin. */
export interface PaymentPageSources {
  /** The payment provider's hosted card field (and its 3-D Secure page, on the same origin): the only frame allowed. */
  paymentFieldUrl: string;
  /**
   * Script origins the payment field needs on our page. None today: the card field is the provider's own iframe and
   * our page runs no provider script, so `script-src` stays `'self'`. A provider SDK would be listed here, by origin.
   */
  scriptOrigins?: readonly string[];
  /**
   * Origins the page itself calls with fetch/XHR beyond our API and the provider's wallet (its Payment Request
   * manifests, always allowed). None today: the card field talks to its provider from inside its frame.
   */
  connectOrigins?: readonly string[];
}

/** The exact origin of an https URL (http only for localhost); anything else is a configuration error. */
export function originOf(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`not a URL: ${JSON.stringify(url)}`);
  }
  const isLocal = parsed.hostname === "localhost" || parsed.hostname === "127.0.0.1";
  if (parsed.protocol !== "https:" && !(isLocal && parsed.protocol === "http:")) {
    throw new Error(`${url} must be https (a CSP source for the payment page)`);
  }
  return parsed.origin;
}

/**
 * The checkout's Content-Security-Policy. It is the policy the API server sends with the app shell locally
 * (packages/api/src/http/server.ts), so the browser tests exercise the same rules production enforces.
 */
export function contentSecurityPolicy(sources: PaymentPageSources): string {
  const paymentOrigin = originOf(sources.paymentFieldUrl);
  const scripts = (sources.scriptOrigins ?? []).map(originOf);
  const connects = (sources.connectOrigins ?? []).map(originOf);
  return [
    "default-src 'self'",
    ["script-src 'self'", ...scripts].join(" "),
    "style-src 'self'",
    "img-src 'self' data:",
    // The provider's wallet for express checkout: the browser's Payment Request reads its manifests under this path.
    ["connect-src 'self'", `${paymentOrigin}/wallet/`, ...connects].join(" "),
    `frame-src ${paymentOrigin}`,
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join("; ");
}

/** HSTS: two years (preload lists ask for at least one), every subdomain, eligible for browsers' preload lists. */
export const STRICT_TRANSPORT_SECURITY = { maxAgeSeconds: 2 * 365 * 24 * 60 * 60, includeSubdomains: true, preload: true } as const;

/** Browser features the checkout never uses, switched off for it and any frame it embeds. */
export const PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=()";
