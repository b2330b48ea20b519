// The hosted card field: the page a shop frames so that card numbers are typed into the sandbox's origin.

/** Runs in the shopper's browser; it repeats the card rules because the page cannot import them. */
const fieldScript = String.raw`
"use strict";
(function () {
  var parentOrigin = JSON.parse(document.getElementById("field-config").textContent).parentOrigin;
  var form = document.getElementById("card-form");
  var number = document.getElementById("card-number");
  var expiry = document.getElementById("card-expiry");
  var cvc = document.getElementById("card-cvc");
  var message = document.getElementById("card-message");
  var inputs = { number: number, expiry: expiry, cvc: cvc };
  var touched = { number: false, expiry: false, cvc: false };
  var lastChange = "";
  var lastHeight = 0;
  var isEmbedded = window.parent !== window;

  function post(data) {
    if (isEmbedded) window.parent.postMessage(data, parentOrigin);
  }

  function digitsOf(value) {
    return value.replace(/\D/g, "");
  }

  function brandOf(digits) {
    if (digits.charAt(0) === "4") return "visa";
    var two = Number(digits.slice(0, 2));
    var four = Number(digits.slice(0, 4));
    if (two === 34 || two === 37) return "amex";
    if ((two >= 51 && two <= 55) || (four >= 2221 && four <= 2720)) return "mastercard";
    return "unknown";
  }

  function isLuhnValid(digits) {
    var sum = 0;
    for (var i = 0; i < digits.length; i++) {
      var digit = digits.charCodeAt(digits.length - 1 - i) - 48;
      if (i % 2 === 1) {
        digit *= 2;
        if (digit > 9) digit -= 9;
      }
      sum += digit;
    }
    return sum % 10 === 0;
  }

  function formatNumber(digits) {
    var groups = brandOf(digits) === "amex" ? [4, 6, 5] : [4, 4, 4, 4, 3];
    var parts = [];
    var start = 0;
    for (var i = 0; i < groups.length && start < digits.length; i++) {
      parts.push(digits.slice(start, start + groups[i]));
      start += groups[i];
    }
    return parts.join(" ");
  }

  function formatExpiry(digits) {
    if (digits.length === 1 && digits > "1") digits = "0" + digits;
    return digits.length > 2 ? digits.slice(0, 2) + "/" + digits.slice(2, 4) : digits;
  }

  function reformat(input, format) {
    var focused = document.activeElement === input;
    var caret = focused && input.selectionStart !== null ? input.selectionStart : input.value.length;
    var digitsBeforeCaret = digitsOf(input.value.slice(0, caret)).length;
    var next = format(digitsOf(input.value));
    if (next === input.value) return;
    input.value = next;
    if (!focused) return;
    var position = 0;
    var seen = 0;
    while (position < next.length && seen < digitsBeforeCaret) {
      if (/\d/.test(next.charAt(position))) seen++;
      position++;
    }
    input.setSelectionRange(position, position);
  }

  function readCard() {
    var digits = digitsOf(number.value);
    var exp = digitsOf(expiry.value);
    var month = Number(exp.slice(0, 2));
    var year = 2000 + Number(exp.slice(2, 4));
    var code = digitsOf(cvc.value);
    var today = new Date();
    var errors = {
      number: digits.length === 0 ? "Enter your card number."
        : digits.length < 13 || digits.length > 19 || !isLuhnValid(digits) ? "Your card number is invalid."
        : null,
      expiry: exp.length === 0 ? "Enter your card's expiry date."
        : exp.length !== 4 || month < 1 || month > 12 ? "Your card's expiry date is invalid."
        : year * 12 + month < today.getFullYear() * 12 + today.getMonth() + 1 ? "Your card has expired."
        : null,
      cvc: code.length === 0 ? "Enter your card's security code."
        : code.length < 3 ? "Your card's security code is incomplete."
        : null
    };
    var brand = digits.length > 0 ? brandOf(digits) : null;
    return {
      digits: digits, month: month, year: year, cvc: code, errors: errors,
      brand: brand === "unknown" ? null : brand
    };
  }

  function visibleError(card) {
    var fields = ["number", "expiry", "cvc"];
    for (var i = 0; i < fields.length; i++) {
      if (touched[fields[i]] && card.errors[fields[i]]) return card.errors[fields[i]];
    }
    return null;
  }

  function render(card) {
    var error = visibleError(card);
    message.textContent = error || "";
    for (var field in inputs) {
      inputs[field].setAttribute("aria-invalid", touched[field] && card.errors[field] ? "true" : "false");
    }
    var complete = !card.errors.number && !card.errors.expiry && !card.errors.cvc;
    var change = { type: "sandbox:change", complete: complete, brand: card.brand, error: error };
    var serialized = JSON.stringify(change);
    if (serialized !== lastChange) {
      lastChange = serialized;
      post(change);
    }
    return card;
  }

  function reportHeight() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height !== lastHeight) {
      lastHeight = height;
      post({ type: "sandbox:resize", height: height });
    }
  }

  function setBusy(isBusy) {
    for (var field in inputs) inputs[field].readOnly = isBusy;
    form.setAttribute("aria-busy", isBusy ? "true" : "false");
  }

  function fail(requestId, text) {
    message.textContent = text;
    post({ type: "sandbox:error", requestId: requestId, message: text });
  }

  function tokenize(requestId) {
    touched.number = touched.expiry = touched.cvc = true;
    var card = render(readCard());
    var error = visibleError(card);
    if (error) return fail(requestId, error);
    setBusy(true);
    fetch("/v1/tokens", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "omit",
      cache: "no-store",
      body: JSON.stringify({ number: card.digits, expMonth: card.month, expYear: card.year, cvc: card.cvc })
    })
      .then(function (response) {
        return response.json().then(
          function (body) { return { status: response.status, body: body }; },
          function () { return { status: response.status, body: null }; }
        );
      })
      .then(function (result) {
        var body = result.body;
        if (result.status === 201 && body && typeof body.id === "string") {
          post({ type: "sandbox:token", requestId: requestId, token: body.id, card: body.card });
        } else {
          var text = body && body.error && typeof body.error.message === "string"
            ? body.error.message
            : "Your card could not be checked. Please try again.";
          fail(requestId, text);
        }
      }, function () {
        fail(requestId, "Your card could not be checked. Check your connection and try again.");
      })
      .then(function () { setBusy(false); });
  }

  number.addEventListener("input", function () {
    reformat(number, formatNumber);
    var card = readCard();
    var fullLength = brandOf(card.digits) === "amex" ? 15 : 16;
    if (card.digits.length >= fullLength) touched.number = true;
    render(card);
    if (card.digits.length === fullLength && !card.errors.number) expiry.focus();
  });
  expiry.addEventListener("input", function () {
    reformat(expiry, formatExpiry);
    var card = readCard();
    if (digitsOf(expiry.value).length === 4) touched.expiry = true;
    render(card);
    if (digitsOf(expiry.value).length === 4 && !card.errors.expiry) cvc.focus();
  });
  cvc.addEventListener("input", function () {
    reformat(cvc, function (digits) { return digits.slice(0, 4); });
    render(readCard());
  });
  Object.keys(inputs).forEach(function (field) {
    inputs[field].addEventListener("blur", function () {
      if (inputs[field].value !== "") touched[field] = true;
      render(readCard());
    });
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
  });

  window.addEventListener("message", function (event) {
    if (event.origin !== parentOrigin || event.source !== window.parent) return;
    var data = event.data;
    if (!data || data.type !== "sandbox:tokenize" || typeof data.requestId !== "string") return;
    tokenize(data.requestId);
  });

  if (typeof ResizeObserver === "function") {
    new ResizeObserver(reportHeight).observe(document.documentElement);
  }
  if (!isEmbedded) message.textContent = "This card field only works inside the shop's checkout page.";
  post({ type: "sandbox:ready" });
  reportHeight();
})();
`;

const fieldStyles = `
:root { font: 16px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1f36; }
*, *::before, *::after { box-sizing: border-box; }
html, body { margin: 0; padding: 0; background: transparent; }
form { display: grid; grid-template-columns: 1fr 1fr; gap: 10px 12px; padding: 3px; }
.field { display: flex; flex-direction: column; gap: 4px; min-width: 0; }
.field-number { grid-column: 1 / -1; }
label { font-size: 0.875rem; font-weight: 500; color: #3c4257; }
input {
  width: 100%; min-height: 44px; padding: 10px 12px; font: inherit; color: inherit;
  background: #fff; border: 1px solid #c1c9d2; border-radius: 6px;
  font-variant-numeric: tabular-nums; letter-spacing: 0.02em;
}
input::placeholder { color: #8792a2; }
input:focus { outline: 2px solid #4f46e5; outline-offset: 1px; border-color: #4f46e5; }
input[aria-invalid="true"] { border-color: #c0123c; }
input[aria-invalid="true"]:focus { outline-color: #c0123c; }
input:read-only { background: #f6f8fa; }
.message { grid-column: 1 / -1; margin: 0; min-height: 1.25rem; font-size: 0.875rem; color: #c0123c; }
.message:empty { min-height: 0; }
@media (max-width: 260px) { form { grid-template-columns: 1fr; } }
`;

const fieldMarkup = `
<form id="card-form" novalidate>
  <div class="field field-number">
    <label for="card-number">Card number</label>
    <input id="card-number" name="cc-number" type="text" inputmode="numeric" autocomplete="cc-number"
      autocorrect="off" autocapitalize="off" spellcheck="false" maxlength="23" placeholder="1234 1234 1234 1234"
      aria-describedby="card-message" aria-invalid="false" required>
  </div>
  <div class="field">
    <label for="card-expiry">Expiry (MM/YY)</label>
    <input id="card-expiry" name="cc-exp" type="text" inputmode="numeric" autocomplete="cc-exp"
      autocorrect="off" spellcheck="false" maxlength="5" placeholder="MM/YY"
      aria-describedby="card-message" aria-invalid="false" required>
  </div>
  <div class="field">
    <label for="card-cvc">CVC</label>
    <input id="card-cvc" name="cc-csc" type="text" inputmode="numeric" autocomplete="cc-csc"
      autocorrect="off" spellcheck="false" maxlength="4" placeholder="123"
      aria-describedby="card-message" aria-invalid="false" required>
  </div>
  <p id="card-message" class="message" aria-live="polite"></p>
</form>`;

/** JSON that is safe inside a script element whatever the string holds. */
export function toScriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026");
}

export function fieldContentSecurityPolicy(input: { nonce: string; parentOrigin: string }): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${input.nonce}'`,
    `style-src 'nonce-${input.nonce}'`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${input.parentOrigin}`,
  ].join("; ");
}

export function renderFieldPage(input: { nonce: string; parentOrigin: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Card details</title>
<style nonce="${input.nonce}">${fieldStyles}</style>
</head>
<body>${fieldMarkup}
<script type="application/json" id="field-config">${toScriptJson({ parentOrigin: input.parentOrigin })}</script>
<script nonce="${input.nonce}">${fieldScript}</script>
</body>
</html>
`;
}
