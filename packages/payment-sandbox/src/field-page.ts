// The hosted card field: the page a shop frames so that card numbers are typed into the sandbox's origin.
import { cardNumberProblem, cvcProblem, detectBrand, expiryProblem } from "./card-rules.ts";

/**
 * Runs in the shopper's browser. The card checks are the sandbox's own (card-rules.ts), pasted in as source
 * text, so the field refuses exactly what the sandbox would refuse, where it is typed.
 */
const fieldScript = String.raw`
"use strict";
(function () {
  ${cardNumberProblem.toString()}
  ${expiryProblem.toString()}
  ${cvcProblem.toString()}
  ${detectBrand.toString()}

  var parentOrigin = JSON.parse(document.getElementById("field-config").textContent).parentOrigin;
  var form = document.getElementById("card-form");
  var number = document.getElementById("card-number");
  var expiry = document.getElementById("card-expiry");
  var cvc = document.getElementById("card-cvc");
  var brandName = document.getElementById("card-number-brand");
  var brandLogos = document.querySelectorAll("[data-brand]");
  var message = document.getElementById("card-message");
  var inputs = { number: number, expiry: expiry, cvc: cvc };
  var fields = ["number", "expiry", "cvc"];
  var errorBoxes = {
    number: document.getElementById("card-number-error"),
    expiry: document.getElementById("card-expiry-error"),
    cvc: document.getElementById("card-cvc-error")
  };
  var touched = { number: false, expiry: false, cvc: false };
  var brandNames = { visa: "Visa", mastercard: "Mastercard", amex: "American Express" };
  var lastChange = "";
  var lastHeight = 0;
  var isEmbedded = window.parent !== window;

  function post(data) {
    if (isEmbedded) window.parent.postMessage(data, parentOrigin);
  }

  // The page's look, passed in the fragment (#font=…&size=…): each value checked, set only as a CSS custom property.
  var themeRules = {
    font: /^[A-Za-z0-9 ,"'-]{1,300}$/,
    size: /^(1[6-9]|2[0-4])(\.\d{1,3})?px$/,
    radius: /^\d{1,2}(\.\d{1,3})?px$/,
    ink: /^(#[0-9a-fA-F]{3,8}|rgba?\([0-9., %/]{5,60}\))$/
  };
  var themeKeys = { font: "font", size: "size", radius: "radius", ink: "ink", muted: "ink", border: "ink", surface: "ink", focus: "ink", danger: "ink" };
  function applyTheme() {
    var params = new URLSearchParams(window.location.hash.slice(1));
    params.forEach(function (value, key) {
      var rule = Object.prototype.hasOwnProperty.call(themeKeys, key) ? themeRules[themeKeys[key]] : null;
      if (rule && rule.test(value)) document.documentElement.style.setProperty("--" + key, value);
    });
  }

  function digitsOf(value) {
    return value.replace(/\D/g, "");
  }

  function brandOf(digits) {
    return digits.length > 0 ? detectBrand(digits) : "unknown";
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

  /** Groups what was typed, keeping the caret after the same digit; text that is not digits is left as typed, to be flagged. */
  function reformat(input, allowed, format) {
    if (!allowed.test(input.value)) return;
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
    var brand = brandOf(digits);
    return {
      digits: digits,
      month: Number(exp.slice(0, 2)),
      year: 2000 + Number(exp.slice(2, 4)),
      cvc: cvc.value.trim(),
      brand: brand === "unknown" ? null : brand,
      errors: {
        number: cardNumberProblem(number.value),
        expiry: expiryProblem(expiry.value, new Date()),
        cvc: cvcProblem(cvc.value, brand)
      }
    };
  }

  function visibleError(card, field) {
    return touched[field] && card.errors[field] ? card.errors[field] : null;
  }

  function firstVisibleError(card) {
    for (var i = 0; i < fields.length; i++) {
      var error = visibleError(card, fields[i]);
      if (error) return error;
    }
    return null;
  }

  function render(card) {
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      var error = visibleError(card, field);
      if (errorBoxes[field].textContent !== (error || "")) errorBoxes[field].textContent = error || "";
      inputs[field].setAttribute("aria-invalid", error ? "true" : "false");
    }
    var name = card.brand ? brandNames[card.brand] : "";
    if (brandName.textContent !== name) brandName.textContent = name;
    form.setAttribute("data-brand", card.brand || "");
    for (var j = 0; j < brandLogos.length; j++) {
      var logo = brandLogos[j];
      logo.classList.toggle("is-other", Boolean(card.brand) && logo.getAttribute("data-brand") !== card.brand);
    }
    var complete = !card.errors.number && !card.errors.expiry && !card.errors.cvc;
    var change = { type: "sandbox:change", complete: complete, brand: card.brand, error: firstVisibleError(card) };
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

  function revealAll() {
    touched.number = touched.expiry = touched.cvc = true;
    return render(readCard());
  }

  function focusField() {
    var card = readCard();
    for (var i = 0; i < fields.length; i++) {
      if (card.errors[fields[i]]) return inputs[fields[i]].focus();
    }
    number.focus();
  }

  function tokenize(requestId) {
    var card = revealAll();
    var error = firstVisibleError(card);
    if (error) return fail(requestId, error);
    message.textContent = "";
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

  // Focus moves only when the shopper moves it: no jump to the next input when one is full.
  number.addEventListener("input", function () {
    reformat(number, /^[\d\s-]*$/, formatNumber);
    var card = readCard();
    var fullLength = card.brand === "amex" ? 15 : 16;
    if (card.digits.length >= fullLength || /[^\d\s-]/.test(number.value)) touched.number = true;
    render(card);
  });
  expiry.addEventListener("input", function () {
    reformat(expiry, /^[\d\s/]*$/, formatExpiry);
    var exp = digitsOf(expiry.value);
    var month = Number(exp.slice(0, 2));
    if (exp.length >= 4 || /[^\d\s/]/.test(expiry.value) || (exp.length >= 2 && (month < 1 || month > 12))) touched.expiry = true;
    render(readCard());
  });
  cvc.addEventListener("input", function () {
    var card = readCard();
    var length = card.brand === "amex" ? 4 : 3;
    if (/\D/.test(card.cvc) || card.cvc.length >= length) touched.cvc = true;
    render(card);
  });
  fields.forEach(function (field) {
    inputs[field].addEventListener("blur", function () {
      if (inputs[field].value.trim() !== "") touched[field] = true;
      render(readCard());
    });
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
  });

  window.addEventListener("message", function (event) {
    if (event.origin !== parentOrigin || event.source !== window.parent) return;
    var data = event.data;
    if (!data || typeof data.type !== "string") return;
    if (data.type === "sandbox:tokenize" && typeof data.requestId === "string") tokenize(data.requestId);
    else if (data.type === "sandbox:validate") revealAll();
    else if (data.type === "sandbox:focus") focusField();
  });

  applyTheme();
  if (typeof ResizeObserver === "function") {
    new ResizeObserver(reportHeight).observe(document.documentElement);
  }
  if (!isEmbedded) message.textContent = "This card field only works inside the shop's checkout page.";
  render(readCard());
  post({ type: "sandbox:ready" });
  reportHeight();
})();
`;

const fieldStyles = `
:root {
  --font: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; --size: 16px; --radius: 6px;
  --ink: #1a1f36; --muted: #4f566b; --border: #8792a2; --surface: #fff; --focus: #4f46e5; --danger: #b3123a;
  font-family: var(--font); font-size: var(--size); line-height: 1.4; color: var(--ink);
}
*, *::before, *::after { box-sizing: border-box; }
html, body { margin: 0; padding: 0; background: transparent; }
form { display: grid; grid-template-columns: 1fr 1fr; gap: 10px 12px; padding: 4px; }
.field { display: flex; flex-direction: column; gap: 4px; min-width: 0; }
.field-number { grid-column: 1 / -1; }
.label-row { display: flex; align-items: center; justify-content: space-between; gap: 8px; flex-wrap: wrap; }
label { font-size: 0.95em; font-weight: 600; color: var(--ink); }
.brands { display: flex; gap: 4px; margin: 0; padding: 0; list-style: none; }
.brands li { display: flex; transition: opacity 120ms; }
.brands li.is-other { opacity: 0.3; }
.brands svg { display: block; width: 34px; height: 22px; }
.brand-row { display: flex; align-items: center; gap: 8px; }
input {
  width: 100%; min-height: 46px; padding: 10px 12px; font: inherit; color: inherit;
  background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius);
  font-variant-numeric: tabular-nums; letter-spacing: 0.02em;
}
.brand-name { font-size: 0.875em; font-weight: 600; color: var(--muted); }
input::placeholder { color: var(--muted); opacity: 1; }
input:focus { outline: 3px solid var(--focus); outline-offset: 1px; border-color: var(--focus); }
input[aria-invalid="true"] { border-color: var(--danger); background: #fffafa; }
input[aria-invalid="true"]:focus { outline-color: var(--danger); }
input:read-only { background: #f6f8fa; }
.error, .message { margin: 0; font-size: 0.875em; font-weight: 550; color: var(--danger); }
.error:empty, .message:empty { display: none; }
.message { grid-column: 1 / -1; }
@media (max-width: 260px) { form { grid-template-columns: 1fr; } }
`;

// Accepted brands as inline drawings: the field loads nothing from anywhere.
const brandLogos = `
<ul class="brands" aria-label="Accepted cards">
  <li data-brand="visa"><svg viewBox="0 0 34 22" role="img" aria-label="Visa"><rect width="34" height="22" rx="3" fill="#1a1f71"/><text x="17" y="15" text-anchor="middle" font-family="Arial, sans-serif" font-size="10" font-weight="700" font-style="italic" fill="#fff">VISA</text></svg></li>
  <li data-brand="mastercard"><svg viewBox="0 0 34 22" role="img" aria-label="Mastercard"><rect width="34" height="22" rx="3" fill="#fff" stroke="#c1c9d2"/><circle cx="13.5" cy="11" r="6.5" fill="#eb001b"/><circle cx="20.5" cy="11" r="6.5" fill="#f79e1b"/><path d="M17 5.5a6.5 6.5 0 0 1 0 11a6.5 6.5 0 0 1 0-11z" fill="#ff5f00"/></svg></li>
  <li data-brand="amex"><svg viewBox="0 0 34 22" role="img" aria-label="American Express"><rect width="34" height="22" rx="3" fill="#1f72cd"/><text x="17" y="14.5" text-anchor="middle" font-family="Arial, sans-serif" font-size="8" font-weight="700" fill="#fff">AMEX</text></svg></li>
</ul>`;

const fieldMarkup = `
<form id="card-form" novalidate>
  <div class="field field-number">
    <div class="label-row">
      <label for="card-number">Card number</label>
      <div class="brand-row"><span id="card-number-brand" class="brand-name"></span>${brandLogos}</div>
    </div>
    <input id="card-number" name="cc-number" type="text" inputmode="numeric" autocomplete="cc-number"
      autocorrect="off" autocapitalize="off" spellcheck="false" maxlength="23" placeholder="1234 1234 1234 1234"
      aria-describedby="card-number-brand card-number-error" aria-invalid="false" required>
    <p id="card-number-error" class="error" aria-live="polite"></p>
  </div>
  <div class="field">
    <label for="card-expiry">Expiry (MM/YY)</label>
    <input id="card-expiry" name="cc-exp" type="text" inputmode="numeric" autocomplete="cc-exp"
      autocorrect="off" spellcheck="false" maxlength="5" placeholder="MM/YY"
      aria-describedby="card-expiry-error" aria-invalid="false" required>
    <p id="card-expiry-error" class="error" aria-live="polite"></p>
  </div>
  <div class="field">
    <label for="card-cvc">CVC</label>
    <input id="card-cvc" name="cc-csc" type="text" inputmode="numeric" autocomplete="cc-csc"
      autocorrect="off" spellcheck="false" maxlength="4" placeholder="123"
      aria-describedby="card-cvc-error" aria-invalid="false" required>
    <p id="card-cvc-error" class="error" aria-live="polite"></p>
  </div>
  <p id="card-message" class="message" role="alert"></p>
</form>`;

/** Text that is safe inside an HTML element or a quoted attribute whatever it holds. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** The doctype and head every sandbox page shares: its title and its styles under the response's CSP nonce. */
export function pageHead(input: { title: string; nonce: string; styles: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(input.title)}</title>
<style nonce="${input.nonce}">${input.styles}</style>
</head>`;
}

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
  return `${pageHead({ title: "Card details", nonce: input.nonce, styles: fieldStyles })}
<body>${fieldMarkup}
<script type="application/json" id="field-config">${toScriptJson({ parentOrigin: input.parentOrigin })}</script>
<script nonce="${input.nonce}">${fieldScript}</script>
</body>
</html>
`;
}
