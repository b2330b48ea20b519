// The one-page checkout in real Chromium, on a phone and on a desktop: the total stays in view at every step, shipping
// and tax appear once the address is typed (no click), one primary button, a reload keeps what was typed (never the
// card), focus stays on the shipping option chosen, a promo code typed but not applied is flagged before paying, the
// header keeps only the way back to the cart and a secure-checkout note, and axe finds nothing in any of these states.
import path from "node:path";
import type { Locator, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { expectNoAxeViolations } from "./axe.ts";
import { addToCart, cents, fillAddress, fillCard, newPhonePage, screenshots, setUpShop, type Size, usShopper, VIEWPORTS, waitForTotals } from "./shop-harness.ts";

const shop = setUpShop();

async function shot(page: Page, step: string, size: Size): Promise<void> {
  await page.screenshot({ path: path.join(screenshots, `one-page-checkout-${step}-${size}.png`) });
}

/** The total the shopper can see: the bar at the top on a phone, the side summary on a desktop. */
async function visibleTotal(page: Page, size: Size): Promise<Locator> {
  if (size === "phone") return page.getByTestId("summary-bar-total");
  // The side column: the total once priced, the subtotal before.
  const total = page.getByTestId("summary-total");
  return (await total.count()) > 0 ? total : page.getByTestId("summary-subtotal");
}

/** Scrolls `target` into view the way a shopper would reach it, then checks the total is inside the viewport too. */
async function expectTotalInViewAt(page: Page, size: Size, target: Locator, step: string): Promise<void> {
  await target.scrollIntoViewIfNeeded();
  // Smooth scrolling and the sticky summary settle before measuring.
  await page.waitForFunction(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve(true)))));
  const box = await (await visibleTotal(page, size)).boundingBox();
  const viewport = VIEWPORTS[size];
  expect(box, `${size}, ${step}: the total is rendered`).not.toBeNull();
  const inView = box !== null && box.y >= 0 && box.x >= 0 && box.y + box.height <= viewport.height && box.x + box.width <= viewport.width;
  expect(inView, `${size}, ${step}: the total ${JSON.stringify(box)} is within ${viewport.width}×${viewport.height}`).toBe(true);
  const targetBox = await target.boundingBox();
  expect(targetBox !== null && targetBox.y + targetBox.height > 0 && targetBox.y < viewport.height, `${size}, ${step}: the step itself is in view`).toBe(true);
}

/** Every visible element styled as the primary action. */
async function visiblePrimaryButtons(page: Page): Promise<string[]> {
  return page
    .locator(".button--primary")
    .evaluateAll((elements) => elements.filter((element) => (element as HTMLElement).offsetParent !== null).map((element) => element.textContent?.trim() ?? ""));
}

describe.each(["phone", "desktop"] as const)("the one-page checkout on a %s", (size) => {
  it("keeps the total in view, prices without a click, keeps focus and typed fields, and warns about an unapplied promo code", async () => {
    const { app, browser, database } = shop();
    const email = `one-page-${size}@example.com`;
    // The declined card at the end is part of the story: its 402 is expected.
    const { page, errors } = await newPhonePage(browser, [{ status: 402, path: "/trpc/checkout.placeOrder" }]);
    await page.setViewportSize(VIEWPORTS[size]);
    await addToCart(page, app.url, "everyday-tee", "1");
    await page.goto(`${app.url}/checkout`);
    await page.locator("#email").waitFor();

    // The header: back to the cart and a secure-checkout note, no site navigation.
    const brand = page.getByTestId("checkout-brand");
    expect(await brand.getAttribute("href")).toBe("/cart");
    expect(await page.getByTestId("secure-note").isVisible()).toBe(true);
    expect(await page.getByRole("navigation", { name: "Main" }).count()).toBe(0);

    // One page, one primary button, none of the old gates.
    expect(await visiblePrimaryButtons(page)).toEqual(["Place order"]);
    expect(await page.getByRole("button", { name: /Continue to shipping|Review order|Refresh the summary/ }).count()).toBe(0);
    expect(await page.getByTestId("summary-pending").textContent()).toMatch(/as soon as your address is complete/);
    await expectTotalInViewAt(page, size, page.locator("#email"), "contact");
    await expectNoAxeViolations(page, `${size}: empty checkout`);
    await shot(page, "empty", size);

    // Paying an empty form: every field says what is wrong, focus goes to the first, nothing is placed.
    await page.getByTestId("place-order").click();
    await page.locator("#email[aria-invalid=true]").waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("email");
    expect(await page.getByTestId("error-postalCode").count()).toBe(1);
    await expectNoAxeViolations(page, `${size}: errors shown`);
    await shot(page, "errors", size);

    // The address typed, and nothing clicked: it is saved, the cheapest shipping chosen and the cart priced.
    await fillAddress(page, usShopper(email));
    await expect.poll(() => page.getByTestId("summary-tax").textContent(), { timeout: 15_000 }).toMatch(/^\$\d+\.\d{2}$/);
    await waitForTotals(page);
    const standard = page.getByTestId("shipping-option").and(page.locator('[value="standard"]'));
    expect(await standard.isChecked()).toBe(true);
    const subtotal = cents(await page.getByTestId("review-subtotal").textContent());
    const shipping = cents(await page.getByTestId("review-shipping").textContent());
    const tax = cents(await page.getByTestId("review-tax").textContent());
    const total = (await page.getByTestId("review-total").textContent()) ?? "";
    expect(subtotal).toBe(2400);
    expect(shipping).toBeGreaterThan(0);
    expect(tax).toBeGreaterThan(0);
    expect(cents(total)).toBe(subtotal + shipping + tax);
    expect(await page.getByTestId("summary-total").textContent()).toBe(total);
    if (size === "phone") expect(await page.getByTestId("summary-bar-total").textContent()).toContain(total);
    expect(await visiblePrimaryButtons(page)).toEqual([`Pay ${total}`]);
    await expectTotalInViewAt(page, size, page.locator("#postalCode"), "address");
    await expectNoAxeViolations(page, `${size}: priced`);
    await shot(page, "priced", size);

    // Express by keyboard: the radio is never disabled while it saves, and focus stays on it.
    await standard.focus();
    await page.keyboard.press("ArrowDown");
    const express = page.getByTestId("shipping-option").and(page.locator('[value="express"]'));
    expect(await express.isChecked()).toBe(true);
    expect(await express.isDisabled()).toBe(false);
    await waitForTotals(page);
    await expect.poll(() => page.getByTestId("review-shipping").textContent()).not.toBe(`$${(shipping / 100).toFixed(2)}`);
    expect(await page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.value)).toBe("express");
    const expressTotal = (await page.getByTestId("review-total").textContent()) ?? "";
    expect(cents(expressTotal)).toBeGreaterThan(cents(total));
    await expectTotalInViewAt(page, size, express, "shipping");
    await shot(page, "shipping", size);

    // The card, an extra address line and a promo code typed but not applied; a reload keeps all but the card.
    await fillCard(page, "4242 4242 4242 4242");
    await expectTotalInViewAt(page, size, page.getByTestId("card-frame"), "payment");
    await shot(page, "payment", size);
    await page.locator("#line2").fill("Suite 4");
    await page.getByTestId("promo-code").fill("WELCOME10");
    await waitForTotals(page);
    await page.reload();
    await page.locator("#email").waitFor();
    await expect.poll(() => page.locator("#line2").inputValue()).toBe("Suite 4");
    expect(await page.locator("#email").inputValue()).toBe(email);
    expect(await page.getByTestId("promo-code").inputValue()).toBe("WELCOME10");
    const stored = await page.evaluate(() => JSON.stringify({ ...window.sessionStorage }));
    expect(stored).toContain("Suite 4");
    expect(stored).not.toContain("4242");
    await waitForTotals(page);
    expect(await page.getByTestId("review-total").textContent()).toBe(expressTotal);

    // Paying with the code still in the box: a warning first, no order; then the code applied and the total down.
    await fillCard(page, "4242 4242 4242 4242");
    const pay = page.getByTestId("place-order");
    await expectTotalInViewAt(page, size, pay, "pay");
    await pay.click();
    const warning = page.getByTestId("promo-warning");
    await warning.waitFor();
    expect(await warning.textContent()).toMatch(/WELCOME10 but did not apply it/);
    expect(await warning.getAttribute("role")).toBe("alert");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("place-order");
    expect(page.url()).toMatch(/\/checkout$/);
    const orders = await database.db.selectFrom("order").select("id").where("email", "=", email).execute();
    expect(orders).toEqual([]);
    await expectNoAxeViolations(page, `${size}: promo warning`);
    await shot(page, "promo-warning", size);
    await page.getByTestId("apply-promo").click();
    await page.getByTestId("promo-applied").waitFor();
    await waitForTotals(page);
    expect(await page.getByTestId("review-discount").textContent()).toBe("-$2.40");
    expect(cents(await page.getByTestId("review-total").textContent())).toBeLessThan(cents(expressTotal));

    // On a phone the summary opens from the bar with the lines and the same totals.
    if (size === "phone") {
      const toggle = page.getByTestId("summary-toggle");
      await toggle.scrollIntoViewIfNeeded();
      await toggle.click();
      expect(await toggle.getAttribute("aria-expanded")).toBe("true");
      expect(await page.getByTestId("summary-total").isVisible()).toBe(true);
      await expectNoAxeViolations(page, `${size}: summary open`);
      await shot(page, "summary-open", size);
      await toggle.click();
    }

    // A card the field knows is incomplete: Pay sends nothing, the field says what to fix and takes focus.
    const frame = page.frameLocator("[data-testid=card-frame]");
    await frame.getByLabel("Card number").fill("4242 4242 4242 4242");
    await frame.getByLabel(/Expiry/).fill("");
    await frame.getByLabel("CVC").fill("");
    await page.getByTestId("place-order").click();
    await expect.poll(() => page.getByTestId("pay-notice").textContent()).toMatch(/Check your card details/);
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("card-frame");
    expect(await database.db.selectFrom("order").select("id").where("email", "=", email).execute()).toEqual([]);

    // A declined card: the error is announced by the button, which keeps focus; the page stays as it was.
    await fillCard(page, "4000 0000 0000 0002");
    await page.getByTestId("place-order").click();
    await expect.poll(() => page.getByTestId("payment-error").textContent(), { timeout: 15_000 }).toMatch(/declined/i);
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("place-order");
    expect(await page.locator("#line2").inputValue()).toBe("Suite 4");
    await expectNoAxeViolations(page, `${size}: card declined`);
    await shot(page, "declined", size);

    // Returns and contact details sit by the pay button.
    expect(await page.locator(".review__assurance").textContent()).toMatch(/returns.*Questions\?/s);
    expect(errors).toEqual([]);
  });
});

describe("the cart page", () => {
  it("says exactly when shipping and tax will be known, and shows them once checkout has priced them", async () => {
    const { app, browser } = shop();
    const { page, errors } = await newPhonePage(browser);
    await addToCart(page, app.url, "ceramic-mug", "1");
    await page.goto(`${app.url}/cart`);
    const note = page.getByTestId("cart-shipping-note");
    await note.waitFor();
    expect(await note.textContent()).toMatch(/as soon as you enter your address/);
    expect(await page.locator(".cart-page").textContent()).not.toMatch(/calculated at checkout/);

    // Back from checkout with an address and a shipping method, the cart shows what checkout showed.
    await page.goto(`${app.url}/checkout`);
    await fillAddress(page, usShopper("cart-estimate@example.com"));
    await waitForTotals(page);
    const checkoutTotals = await Promise.all(["review-shipping", "review-tax", "review-total"].map((id) => page.getByTestId(id).textContent()));
    await page.getByTestId("checkout-brand").click();
    await page.waitForURL(/\/cart$/);
    await page.getByTestId("cart-estimate").waitFor();
    expect(await Promise.all(["cart-shipping", "cart-tax", "cart-total"].map((id) => page.getByTestId(id).textContent()))).toEqual(checkoutTotals);
    expect(await note.textContent()).toMatch(/For delivery to 94105/);
    await expectNoAxeViolations(page, "cart with an estimate");
    await page.screenshot({ path: path.join(screenshots, "one-page-checkout-cart-estimate-phone.png") });
    expect(errors).toEqual([]);
  });
});
