// The sandbox wallet's sheet: the window the browser opens over the shop when the shopper pays with the wallet. It lists
// the wallet's saved test cards, and Pay makes a single-use token for the chosen one; the wallet's service worker hands
// that token to the shop. Cancel tells the service worker the shopper changed their mind.
import { escapeHtml, pageHead, toScriptJson } from "./field-page.ts";
import type { WalletCard } from "./wallet-cards.ts";

export interface SheetInput {
  nonce: string;
  /** The shop's origin (already checked against the sandbox's allowed origins). */
  shopOrigin: string;
  /** The amount as the browser passed it: a decimal string such as "98.66". */
  total: string;
  currency: string;
  cards: readonly WalletCard[];
}

export function sheetContentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** "$98.66" for USD, "€12.50" for EUR; a currency Intl does not know is shown as "XYZ 12.50". */
export function formatSheetAmount(total: string, currency: string): string {
  try {
    return new Intl.NumberFormat("en-US", { style: "currency", currency }).format(Number(total));
  } catch {
    return `${currency} ${total}`;
  }
}

const sheetStyles = `
:root { color-scheme: light; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1f36; }
body { margin: 0; padding: 1.25rem; background: #fff; }
main { max-width: 32rem; margin: 0 auto; }
h1 { font-size: 1.25rem; margin: 0 0 0.25rem; }
.payee { margin: 0 0 1rem; color: #3c4257; }
.total { font-size: 1.5rem; font-weight: 700; color: #1a1f36; display: block; margin-top: 0.25rem; }
fieldset { border: 1px solid #8792a2; border-radius: 8px; padding: 0.5rem 0.75rem; margin: 0 0 1rem; }
legend { font-weight: 600; padding: 0 0.25rem; }
label { display: flex; gap: 0.75rem; align-items: center; padding: 0.6rem 0.25rem; min-height: 2.75rem; cursor: pointer; }
label + label { border-top: 1px solid #e3e8ee; }
input[type=radio] { width: 1.25rem; height: 1.25rem; margin: 0; accent-color: #0b5cad; }
.card-name { font-weight: 600; }
.card-note { display: block; font-size: 0.875rem; color: #4f566b; }
.actions { display: flex; gap: 0.75rem; flex-wrap: wrap; }
button { font: inherit; font-weight: 600; min-height: 2.75rem; padding: 0 1.25rem; border-radius: 8px; cursor: pointer; }
#pay { background: #0b5cad; color: #fff; border: 2px solid #0b5cad; }
#cancel { background: #fff; color: #1a1f36; border: 2px solid #8792a2; }
button:focus-visible, input:focus-visible { outline: 3px solid #0b5cad; outline-offset: 2px; }
button[disabled] { opacity: 0.7; cursor: progress; }
.message { color: #b3261e; font-weight: 600; margin: 0 0 1rem; }
.message:empty { display: none; }
.note { font-size: 0.875rem; color: #4f566b; margin-top: 1rem; }
`;

/** Runs in the sheet: Pay asks the sandbox for a token for the chosen card, then gives it to the wallet's service worker. */
const sheetScript = `
"use strict";
(function () {
  var config = JSON.parse(document.getElementById("sheet-config").textContent);
  var form = document.getElementById("wallet-form");
  var pay = document.getElementById("pay");
  var cancel = document.getElementById("cancel");
  var message = document.getElementById("wallet-message");
  var isBusy = false;

  function tell(data) {
    var worker = navigator.serviceWorker && navigator.serviceWorker.controller;
    if (!worker) {
      message.textContent = "The wallet is not ready. Close this window and try again.";
      return false;
    }
    worker.postMessage(data);
    return true;
  }

  function setBusy(busy) {
    isBusy = busy;
    pay.disabled = busy;
    pay.setAttribute("aria-busy", busy ? "true" : "false");
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (isBusy) return;
    var chosen = form.querySelector("input[name=card]:checked");
    if (!chosen) {
      message.textContent = "Choose a card.";
      return;
    }
    message.textContent = "";
    setBusy(true);
    fetch("tokens", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ card: chosen.value, origin: config.shopOrigin })
    })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok || typeof body.id !== "string") throw new Error((body.error && body.error.message) || "The wallet could not use this card.");
          return body;
        });
      })
      .then(function (body) {
        if (!tell({ type: "pay", token: body.id, card: body.card })) setBusy(false);
      })
      .catch(function (error) {
        message.textContent = error && error.message ? error.message : "The wallet could not use this card.";
        setBusy(false);
      });
  });

  cancel.addEventListener("click", function () {
    tell({ type: "cancel" });
  });
})();
`;

export function renderSheetPage(input: SheetInput): string {
  const amount = escapeHtml(formatSheetAmount(input.total, input.currency));
  const shop = escapeHtml(new URL(input.shopOrigin).host);
  const cards = input.cards
    .map(
      (card, index) => `
      <label><input type="radio" name="card" value="${escapeHtml(card.id)}"${index === 0 ? " checked" : ""} aria-describedby="note-${escapeHtml(card.id)}">
        <span><span class="card-name">${escapeHtml(card.label)}</span><span class="card-note" id="note-${escapeHtml(card.id)}">${escapeHtml(card.note)}</span></span></label>`,
    )
    .join("");
  return `${pageHead({ title: "Sandbox wallet", nonce: input.nonce, styles: sheetStyles })}
<body>
<main>
  <h1>Sandbox wallet</h1>
  <p class="payee">Pay ${shop}<span class="total" data-testid="wallet-total">${amount}</span></p>
  <form id="wallet-form" novalidate>
    <fieldset>
      <legend>Choose a saved card</legend>${cards}
    </fieldset>
    <p id="wallet-message" class="message" role="alert"></p>
    <div class="actions">
      <button type="submit" id="pay">Pay ${amount}</button>
      <button type="button" id="cancel">Cancel</button>
    </div>
  </form>
  <p class="note">Test cards of the payment sandbox: no real money moves.</p>
</main>
<script type="application/json" id="sheet-config">${toScriptJson({ shopOrigin: input.shopOrigin })}</script>
<script nonce="${input.nonce}">${sheetScript}</script>
</body>
</html>
`;
}
