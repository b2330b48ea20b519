// The 3-D Secure challenge page a shop frames: stands in for the bank's page, answers the challenge, tells the shop.
import { escapeHtml, fieldContentSecurityPolicy, pageHead, toScriptJson } from "./field-page.ts";

/** What the page posts to its parent once the challenge has an answer. */
export interface ChallengeCompleteMessage {
  type: "sandbox:3ds-complete";
  authorizationId: string;
  status: "authorized" | "failed";
}

/** Runs in the shopper's browser: posts the answer to the sandbox, then reports the outcome to the parent origin. */
const challengeScript = `
"use strict";
(function () {
  var config = JSON.parse(document.getElementById("challenge-config").textContent);
  var parentOrigin = config.parentOrigin;
  var authorizationId = config.authorizationId;
  var message = document.getElementById("challenge-message");
  var buttons = document.querySelectorAll("button[data-result]");
  var isEmbedded = window.parent !== window;

  function outcomeOf(status) {
    if (status === "authorized" || status === "captured") return "authorized";
    if (status === "failed" || status === "voided") return "failed";
    return null;
  }

  function finish(status) {
    var outcome = outcomeOf(status);
    if (!outcome) return;
    message.textContent = outcome === "authorized" ? "Authentication complete. Returning to the shop…" : "Authentication failed. Returning to the shop…";
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
    if (isEmbedded) {
      window.parent.postMessage({ type: "sandbox:3ds-complete", authorizationId: authorizationId, status: outcome }, parentOrigin);
    }
  }

  function setBusy(isBusy) {
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = isBusy;
    document.body.setAttribute("aria-busy", isBusy ? "true" : "false");
  }

  function answer(result) {
    setBusy(true);
    message.textContent = "";
    fetch("/3ds/" + encodeURIComponent(authorizationId), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "omit",
      cache: "no-store",
      body: JSON.stringify({ result: result })
    })
      .then(function (response) {
        return response.json().then(
          function (body) { return { status: response.status, body: body }; },
          function () { return { status: response.status, body: null }; }
        );
      })
      .then(function (reply) {
        if (reply.status === 200 && reply.body && outcomeOf(reply.body.status)) {
          finish(reply.body.status);
        } else {
          setBusy(false);
          message.textContent = reply.body && reply.body.error && typeof reply.body.error.message === "string"
            ? reply.body.error.message
            : "The authentication could not be recorded. Please try again.";
        }
      }, function () {
        setBusy(false);
        message.textContent = "The authentication could not be sent. Check your connection and try again.";
      });
  }

  for (var i = 0; i < buttons.length; i++) {
    buttons[i].addEventListener("click", function (event) {
      answer(event.currentTarget.getAttribute("data-result"));
    });
  }
  // Reloaded after the answer (or opened twice): report the outcome that already stands.
  if (config.status !== "requires_action") finish(config.status);
})();
`;

const challengeStyles = `
:root { font: 16px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1f36; }
*, *::before, *::after { box-sizing: border-box; }
html, body { margin: 0; padding: 0; background: #fff; }
main { max-width: 420px; margin: 0 auto; padding: 20px; display: grid; gap: 12px; }
h1 { font-size: 1.125rem; margin: 0; }
p { margin: 0; }
dl { display: grid; grid-template-columns: auto 1fr; gap: 4px 12px; margin: 0; }
dt { color: #697386; }
dd { margin: 0; font-variant-numeric: tabular-nums; }
.actions { display: flex; flex-wrap: wrap; gap: 8px; }
button { min-height: 44px; padding: 10px 16px; font: inherit; border-radius: 6px; border: 1px solid #c1c9d2; background: #fff; cursor: pointer; }
button.primary { background: #4f46e5; border-color: #4f46e5; color: #fff; }
button:focus-visible { outline: 2px solid #4f46e5; outline-offset: 2px; }
button:disabled { opacity: 0.6; cursor: default; }
.message { min-height: 1.25rem; font-size: 0.875rem; }
`;

function formatAmount(amount: number, currency: string): string {
  return `${(amount / 100).toFixed(2)} ${currency}`;
}

export const challengeContentSecurityPolicy = fieldContentSecurityPolicy;

export function renderChallengePage(input: {
  nonce: string;
  parentOrigin: string;
  authorization: { id: string; status: string; amount: number; currency: string; card: { brand: string; last4: string } };
}): string {
  const { authorization } = input;
  const config = { parentOrigin: input.parentOrigin, authorizationId: authorization.id, status: authorization.status };
  return `${pageHead({ title: "Confirm your payment", nonce: input.nonce, styles: challengeStyles })}
<body>
<main>
  <h1>Confirm your payment</h1>
  <p>Your bank asks you to confirm this payment (payment sandbox: no real bank is involved).</p>
  <dl>
    <dt>Amount</dt><dd>${escapeHtml(formatAmount(authorization.amount, authorization.currency))}</dd>
    <dt>Card</dt><dd>${escapeHtml(authorization.card.brand)} ending ${escapeHtml(authorization.card.last4)}</dd>
  </dl>
  <div class="actions">
    <button type="button" class="primary" data-result="authenticated">Complete authentication</button>
    <button type="button" data-result="failed">Fail authentication</button>
  </div>
  <p id="challenge-message" class="message" role="status" aria-live="polite"></p>
</main>
<script type="application/json" id="challenge-config">${toScriptJson(config)}</script>
<script nonce="${input.nonce}">${challengeScript}</script>
</body>
</html>
`;
}
