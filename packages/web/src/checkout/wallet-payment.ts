// Express checkout through the browser's Payment Request API, with the payment sandbox's wallet as the payment app.
// The wallet's sheet shows the total and the shopper's saved cards; it answers with a single-use token from the
// sandbox, which the shop then uses exactly as it uses a token from the card field.
import type { Quote } from "@checkout/core/schemas";
import { sandboxUrl } from "../lib/config.ts";
import { PaymentCancelledError, type PaymentSource } from "./use-place-order.ts";

/** The sandbox wallet's payment method identifier (a URL whose Link header names its payment method manifest). */
export function walletMethod(): string {
  return `${sandboxUrl}/wallet/pay`;
}

/** Minor units → the decimal string Payment Request wants: 9866 USD → "98.66", 1200 JPY → "1200". */
export function decimalAmount(minorUnits: number, currency: string): string {
  let digits = 2;
  try {
    digits = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    // An unknown currency code: two decimals, as most have.
  }
  return (minorUnits / 10 ** digits).toFixed(digits);
}

function requestFor(amount: { value: string; currency: string }): PaymentRequest {
  return new PaymentRequest([{ supportedMethods: walletMethod() }], { total: { label: "Total", amount } });
}

/**
 * Whether the browser has the Payment Request API and says the sandbox wallet can pay (it installs the wallet just in
 * time). Never throws: a browser without the API answers false. The shop's policy lets the page reach the wallet's
 * manifests (connect-src names the provider's /wallet/ path, packages/api/src/http/server.ts and stacks/).
 */
export async function canPayWithWallet(currency: string): Promise<boolean> {
  if (typeof window === "undefined" || typeof window.PaymentRequest !== "function") return false;
  try {
    return await requestFor({ value: "0.00", currency }).canMakePayment();
  } catch {
    return false;
  }
}

interface WalletDetails {
  token?: unknown;
  cancelled?: unknown;
}

/**
 * Opens the wallet's sheet for the quote's total (call it from a click: browsers show it only on a user gesture).
 * The sheet is closed as soon as it answers; declines, 3-D Secure and the confirmation then show on the shop's page.
 */
export function walletSource(): PaymentSource {
  return {
    kind: "wallet",
    tokenize: async (quote: Quote) => {
      const request = requestFor({ value: decimalAmount(quote.total, quote.currency), currency: quote.currency });
      let response: PaymentResponse;
      try {
        response = await request.show();
      } catch (error) {
        // The shopper closed the sheet (AbortError); anything else means the wallet could not be opened.
        if (error instanceof DOMException && error.name === "AbortError") throw new PaymentCancelledError();
        throw new Error("The wallet could not be opened. Pay by card below, or try again.");
      }
      // "unknown", not "fail": the order is not placed yet, and a failure is explained on the page, not by the browser.
      await response.complete("unknown").catch(() => undefined);
      const details = (response.details ?? {}) as WalletDetails;
      if (details.cancelled === true) throw new PaymentCancelledError();
      if (typeof details.token !== "string" || !details.token.startsWith("tok_")) {
        throw new Error("The wallet did not answer with a card. Pay by card below, or try again.");
      }
      return details.token;
    },
  };
}
