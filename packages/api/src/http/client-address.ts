// Who a request came from: the socket peer, or, behind a trusted edge, the address that edge vouches for —
// the viewer-address header CloudFront (or our HAProxy) sets, or the X-Forwarded-For hop a trusted proxy added.
// Whatever the client wrote itself proves nothing and is never taken.
import type http from "node:http";
import net from "node:net";

export interface RequestOrigin {
  ip?: string;
  userAgent?: string;
}

export interface ClientAddressSources {
  /** Proxies in front that each append to X-Forwarded-For (TRUST_PROXY); 0 ignores the header. */
  trustedProxies: number;
  /**
   * A header the trusted edge sets on every request, overwriting any the client sent, holding `ip:port`
   * (CloudFront-Viewer-Address; HAProxy locally). Takes precedence over X-Forwarded-For when set.
   */
  viewerAddressHeader?: string;
}

function normalise(ip: string): string {
  return ip.startsWith("::ffff:") ? ip.slice("::ffff:".length) : ip;
}

/** The address in an `ip:port`, `[ipv6]:port` or bare-address header value, or null if it holds none. */
export function parseViewerAddress(value: string): string | null {
  const trimmed = value.trim();
  if (trimmed.length > 64) return null;
  const bracketed = /^\[([0-9A-Fa-f:.]+)\](?::\d{1,5})?$/.exec(trimmed);
  if (bracketed) return net.isIPv6(bracketed[1]!) ? normalise(bracketed[1]!) : null;
  // The edge always appends the source port, so a trailing `:digits` is the port even where the rest of an
  // IPv6 address would also parse with it.
  const withPort = /^(.+):(\d{1,5})$/.exec(trimmed);
  if (withPort && net.isIP(withPort[1]!)) return normalise(withPort[1]!);
  return net.isIP(trimmed) ? normalise(trimmed) : null;
}

/** The socket peer: who holds the connection (a proxy, behind one). */
export function socketAddressOf(socket: { remoteAddress?: string | undefined }): string {
  return normalise(socket.remoteAddress ?? "unknown");
}

/** The client's address for limits, audit records and logs. */
export function clientAddressOf(req: http.IncomingMessage, sources: ClientAddressSources): string {
  if (sources.viewerAddressHeader) {
    const header = req.headers[sources.viewerAddressHeader];
    const viewer = typeof header === "string" ? parseViewerAddress(header) : null;
    if (viewer) return viewer;
  }
  const forwarded = req.headers["x-forwarded-for"];
  if (sources.trustedProxies > 0 && typeof forwarded === "string") {
    const hops = forwarded
      .split(",")
      .map((hop) => hop.trim())
      .filter(Boolean);
    const client = hops[Math.max(0, hops.length - sources.trustedProxies)];
    if (client && net.isIP(client)) return normalise(client);
  }
  return socketAddressOf(req.socket);
}

/**
 * The key per-client limits count by: an IPv4 address, or an IPv6 address's /64 — one subscriber's usual
 * allocation, which a single client can rotate through at will.
 */
export function limitKeyOf(address: string): string {
  if (!net.isIPv6(address)) return address;
  const [head = "", tail = ""] = address.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = address.includes("::") ? [...left, ...Array(8 - left.length - right.length).fill("0"), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((group) => group.toLowerCase().replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/** The client address (clientAddressOf, resolved once per request) and user agent, as audit records carry them. */
export function originOf(req: http.IncomingMessage, address: string): RequestOrigin {
  const userAgent = req.headers["user-agent"];
  return { ip: address, ...(userAgent ? { userAgent: userAgent.slice(0, 256) } : {}) };
}
