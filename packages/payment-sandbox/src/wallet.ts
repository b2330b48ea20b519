// The sandbox wallet: a payment app for the browser's Payment Request API, so a shop can offer express checkout with
// the sandbox as its processor. Everything lives under /wallet/ on the sandbox's origin:
//   /wallet/pay                   the payment method identifier; its Link header names the payment method manifest
//   /wallet/payment-manifest.json which web app may handle the method (ours, installed just in time by the browser)
//   /wallet/manifest.json         that web app: name, icon and its service worker
//   /wallet/sw.js                 the service worker: answers `canmakepayment` and `paymentrequest` (opens the sheet)
//   /wallet/sheet                 the sheet the shopper picks a saved card on (wallet-sheet.ts)
//   /wallet/tokens                POST: a single-use token for a saved card, from the same store as the card field's
// Only the shops in the sandbox's allowed origins may use it: the service worker refuses others, and so do the sheet
// and the token route.
import { randomBytes } from "node:crypto";
import { crc32, deflateSync } from "node:zlib";
import { checkCard, cvcLengthFor, detectBrand } from "./card-rules.ts";
import { toScriptJson } from "./field-page.ts";
import { errorBody, type JsonObject } from "./sandbox-api.ts";
import type { SandboxStore } from "./sandbox-store.ts";
import { findWalletCard, WALLET_CARDS, walletCardExpiry } from "./wallet-cards.ts";
import { renderSheetPage, sheetContentSecurityPolicy } from "./wallet-sheet.ts";

export const WALLET_PREFIX = "/wallet/";
/** The payment method identifier's path: a shop asks for `${sandbox public URL}/wallet/pay`. */
export const WALLET_METHOD_PATH = "/wallet/pay";

const TOTAL = /^\d{1,12}(\.\d{1,3})?$/;
const CURRENCY = /^[A-Z]{3}$/;

export interface WalletReply {
  status: number;
  contentType: string;
  body: string | Buffer;
  headers?: Record<string, string>;
}

export type JsonBodyRead = { ok: true; body: JsonObject } | { ok: false; status: number; body: unknown };

export interface WalletRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  /** The request's Content-Type and Origin headers ("" when absent). */
  contentType: string;
  origin: string;
  readJson: () => Promise<JsonBodyRead>;
}

export interface WalletOptions {
  /** The sandbox's public origin (where browsers reach it). */
  publicUrl: () => string;
  allowedOrigins: ReadonlySet<string>;
  store: SandboxStore;
  fingerprintKey: string;
}

const JSON_TYPE = "application/json; charset=utf-8";

function json(status: number, body: unknown, headers?: Record<string, string>): WalletReply {
  return { status, contentType: JSON_TYPE, body: JSON.stringify(body), ...(headers ? { headers } : {}) };
}

function refuse(status: number, code: string, message: string, param?: string): WalletReply {
  return json(status, errorBody("invalid_request_error", code, message, param ? { param } : undefined));
}

/** A 32×32 PNG in the sandbox's blue: the browser needs an icon before it installs the wallet. */
function walletIcon(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const typed = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc32(typed));
    return Buffer.concat([length, typed, sum]);
  };
  const size = 32;
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // truecolour
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: size }, () => [11, 92, 173]).flat())]);
  const pixels = Buffer.concat(Array.from({ length: size }, () => row));
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", header), chunk("IDAT", deflateSync(pixels)), chunk("IEND", Buffer.alloc(0))]);
}

/**
 * The wallet's service worker. The shop gets `{ token, card }` on Pay and `{ cancelled: true }` on Cancel: a rejected
 * respondWith() would make the browser show an error of its own that the shopper must close first.
 */
function serviceWorkerScript(methodName: string, allowedOrigins: readonly string[]): string {
  return `"use strict";
var config = ${toScriptJson({ methodName, allowedOrigins })};
var pending = null;

function finish(details) {
  if (!pending) return;
  var resolve = pending.resolve;
  pending = null;
  resolve({ methodName: config.methodName, details: details });
}

/** The shop's origin as the browser gives it (Chromium adds a trailing slash), or "" when it is not a URL. */
function originOf(topOrigin) {
  try {
    return new URL(topOrigin).origin;
  } catch (error) {
    return "";
  }
}

function isAllowed(topOrigin) {
  return config.allowedOrigins.indexOf(originOf(topOrigin)) !== -1;
}

self.addEventListener("install", function () {
  self.skipWaiting();
});
self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});
self.addEventListener("canmakepayment", function (event) {
  event.respondWith(isAllowed(event.topOrigin));
});
self.addEventListener("paymentrequest", function (event) {
  if (!isAllowed(event.topOrigin) || !event.total || !/^[A-Z]{3}$/.test(event.total.currency)) {
    event.respondWith(Promise.reject(new Error("This shop may not use the sandbox wallet.")));
    return;
  }
  finish({ cancelled: true });
  event.respondWith(new Promise(function (resolve) {
    pending = { resolve: resolve };
  }));
  var sheet = new URL("sheet", self.registration.scope);
  sheet.searchParams.set("origin", originOf(event.topOrigin));
  sheet.searchParams.set("total", event.total.value);
  sheet.searchParams.set("currency", event.total.currency);
  event.openWindow(sheet.href).then(
    function (client) {
      if (!client) finish({ cancelled: true });
    },
    function () {
      finish({ cancelled: true });
    }
  );
});
self.addEventListener("message", function (event) {
  var source = event.source && event.source.url ? new URL(event.source.url) : null;
  if (!source || source.origin !== self.location.origin || source.pathname !== new URL("sheet", self.registration.scope).pathname) return;
  var data = event.data || {};
  if (data.type === "pay" && typeof data.token === "string") {
    var card = data.card || {};
    finish({ token: data.token, card: { brand: String(card.brand || "unknown"), last4: String(card.last4 || "") } });
  }
  else if (data.type === "cancel") finish({ cancelled: true });
});
`;
}

export interface Wallet {
  handle(request: WalletRequest): Promise<WalletReply>;
}

export function createWallet(options: WalletOptions): Wallet {
  const icon = walletIcon();
  const allowed = [...options.allowedOrigins];
  const url = (path: string) => `${options.publicUrl()}${path}`;

  function methodAnswer(): WalletReply {
    return {
      status: 200,
      contentType: "text/plain; charset=utf-8",
      body: "The payment sandbox's wallet.\n",
      headers: { Link: `<${url("/wallet/payment-manifest.json")}>; rel="payment-method-manifest"` },
    };
  }

  function sheet(query: URLSearchParams): WalletReply {
    const shopOrigin = query.get("origin") ?? "";
    if (!options.allowedOrigins.has(shopOrigin)) {
      return refuse(400, "origin_not_allowed", "The origin parameter must name an origin this sandbox is configured to trust.", "origin");
    }
    const total = query.get("total") ?? "";
    const currency = query.get("currency") ?? "";
    if (!TOTAL.test(total)) return refuse(400, "parameter_invalid", "total must be a decimal amount such as 98.66.", "total");
    if (!CURRENCY.test(currency)) return refuse(400, "parameter_invalid", "currency must be a three-letter ISO code such as USD.", "currency");
    const nonce = randomBytes(16).toString("base64");
    return {
      status: 200,
      contentType: "text/html; charset=utf-8",
      body: renderSheetPage({ nonce, shopOrigin, total, currency, cards: WALLET_CARDS }),
      headers: { "Content-Security-Policy": sheetContentSecurityPolicy(nonce) },
    };
  }

  async function createToken(request: WalletRequest): Promise<WalletReply> {
    // The sheet is on this origin; a page elsewhere cannot send JSON here without a CORS preflight, never granted.
    if (request.origin !== "" && request.origin !== options.publicUrl()) {
      return refuse(403, "origin_not_allowed", "Wallet tokens are made only by the wallet's own sheet.");
    }
    if (!request.contentType.startsWith("application/json")) {
      return refuse(415, "unsupported_media_type", "Send the card choice as application/json.");
    }
    const read = await request.readJson();
    if (!read.ok) return json(read.status, read.body);
    const { card: cardId, origin } = read.body;
    if (typeof origin !== "string" || !options.allowedOrigins.has(origin)) {
      return refuse(400, "origin_not_allowed", "origin must name a shop this sandbox is configured to trust.", "origin");
    }
    const saved = findWalletCard(cardId);
    if (!saved) return refuse(400, "parameter_invalid", "card must be one of the wallet's saved cards.", "card");
    const now = new Date(options.store.now());
    // A saved card's code is the wallet's to keep: one of the length its brand takes, as the processor checks it.
    const cvc = "1".repeat(cvcLengthFor(detectBrand(saved.number)));
    const check = checkCard({ number: saved.number, cvc, ...walletCardExpiry(now) }, now, options.fingerprintKey);
    if (!check.ok) return refuse(400, check.code, check.message);
    const token = options.store.createToken(check.card, check.behaviour);
    return json(201, { id: token.id, card: token.card });
  }

  const routes: Record<string, Partial<Record<string, (request: WalletRequest) => WalletReply | Promise<WalletReply>>>> = {
    [WALLET_METHOD_PATH]: { GET: methodAnswer, HEAD: methodAnswer },
    "/wallet/payment-manifest.json": {
      GET: () => json(200, { default_applications: [url("/wallet/manifest.json")], supported_origins: [] }),
    },
    "/wallet/manifest.json": {
      GET: () => ({
        status: 200,
        contentType: "application/manifest+json; charset=utf-8",
        body: JSON.stringify({
          name: "Sandbox wallet",
          short_name: "Sandbox wallet",
          // Inline, so a shop's img-src need not name the sandbox (the browser fetches the icon under the shop's policy).
          icons: [{ src: `data:image/png;base64,${icon.toString("base64")}`, sizes: "32x32", type: "image/png" }],
          serviceworker: { src: url("/wallet/sw.js"), scope: url(WALLET_PREFIX), use_cache: false },
        }),
      }),
    },
    "/wallet/sw.js": {
      GET: () => ({
        status: 200,
        contentType: "text/javascript; charset=utf-8",
        body: serviceWorkerScript(url(WALLET_METHOD_PATH), allowed),
        headers: { "Service-Worker-Allowed": WALLET_PREFIX },
      }),
    },
    "/wallet/icon.png": { GET: () => ({ status: 200, contentType: "image/png", body: icon }) },
    "/wallet/sheet": { GET: (request) => sheet(request.query) },
    "/wallet/tokens": { POST: createToken },
  };

  return {
    async handle(request) {
      const route = routes[request.path];
      if (!route) return refuse(404, "route_not_found", `No route for ${request.method} ${request.path}.`);
      const handler = route[request.method];
      if (!handler) {
        const reply = refuse(405, "method_not_allowed", `${request.method} is not allowed on ${request.path}.`);
        return { ...reply, headers: { Allow: Object.keys(route).join(", ") } };
      }
      return handler(request);
    },
  };
}
