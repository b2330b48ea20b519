// Switching currency in real Chromium keeps the shopper's cart: the same cart, re-priced from the new currency's price
// list, with no question asked, focus left on the currency control and a polite announcement. An item not sold in the
// new currency is named in a dialog before anything is removed. On the checkout page nothing typed is lost. At phone
// and desktop sizes, axe clean in every state.
import path from "node:path";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { expectNoAxeViolations } from "./axe.ts";
import {
  addToCart,
  checkoutUpToPayment,
  fillCard,
  newShopperPage,
  screenshots,
  setUpShop,
  type Size,
  usShopper,
  VIEWPORTS,
  waitForTotals,
  type ExpectedFailure,
} from "./shop-harness.ts";

const shop = setUpShop();

const openPage = (size: Size, expected: ExpectedFailure[] = []) => newShopperPage(shop().browser, { viewport: VIEWPORTS[size], expected });

async function shot(page: Page, step: string, size: Size) {
  await page.screenshot({ path: path.join(screenshots, `currency-switch-${step}-${size}.png`), fullPage: true });
}

const currencySelect = (page: Page) => page.getByTestId("currency-select");
const announcement = (page: Page) => page.locator('header [role="status"][aria-live="polite"]').textContent();
const focusedId = (page: Page) => page.evaluate(() => document.activeElement?.id ?? null);
const storedCartId = (page: Page) => page.evaluate(() => window.localStorage.getItem("checkout.cartId"));

/** Brings the header's currency control into view, focuses it and chooses `currency` in it, as a shopper would. */
async function chooseCurrency(page: Page, currency: "USD" | "EUR") {
  await currencySelect(page).scrollIntoViewIfNeeded();
  await currencySelect(page).focus();
  await currencySelect(page).selectOption(currency);
}

describe("switching currency with items in the cart", () => {
  for (const size of ["phone", "desktop"] as const) {
    it(`keeps the cart, re-priced in euros, without asking (${size})`, async () => {
      const { page, errors } = await openPage(size);
      await addToCart(page, shop().app.url, "everyday-tee", "1");
      await addToCart(page, shop().app.url, "ceramic-mug", "2");
      await page.goto(`${shop().app.url}/cart`);
      await expect.poll(() => page.getByTestId("cart-subtotal").textContent()).toBe("$40.00");
      const cartId = await storedCartId(page);

      await chooseCurrency(page, "EUR");
      // The cart's own prices from the euro price list: 22.00 + 15.00.
      await expect.poll(() => page.getByTestId("cart-subtotal").textContent()).toBe("€37.00");
      expect(await page.getByTestId("line-total").allTextContents()).toEqual(["€22.00", "€15.00"]);
      expect(await page.getByTestId("currency-dialog").isVisible()).toBe(false);
      expect(await page.getByTestId("cart-count").textContent()).toBe("2");
      expect(await storedCartId(page)).toBe(cartId);
      expect(await currencySelect(page).inputValue()).toBe("EUR");
      expect(await focusedId(page)).toBe("currency-select");
      await expect.poll(() => announcement(page)).toBe("Prices are now in EUR.");
      await expectNoAxeViolations(page, `the cart after switching to EUR (${size})`);
      await shot(page, "cart-in-eur", size);

      // And back again: the same cart, in dollars.
      await chooseCurrency(page, "USD");
      await expect.poll(() => page.getByTestId("cart-subtotal").textContent()).toBe("$40.00");
      await expect.poll(() => announcement(page)).toBe("Prices are now in USD.");
      expect(await storedCartId(page)).toBe(cartId);
      expect(await focusedId(page)).toBe("currency-select");
      expect(errors).toEqual([]);
    });
  }

  it("names an item not sold in the new currency and removes it only once the shopper agrees (phone)", async () => {
    // The desk lamp is sold in US dollars only.
    await shop().database.db.deleteFrom("price").where("sku", "=", "LAMP").where("currency", "=", "EUR").execute();
    const { page, errors } = await openPage("phone", [{ status: 422, path: "cart.setCurrency" }]);
    await addToCart(page, shop().app.url, "desk-lamp", "1");
    await addToCart(page, shop().app.url, "ceramic-mug", "2");
    await page.goto(`${shop().app.url}/cart`);
    await expect.poll(() => page.getByTestId("cart-subtotal").textContent()).toBe("$80.00");

    await chooseCurrency(page, "EUR");
    const dialog = page.getByTestId("currency-dialog");
    await dialog.getByRole("heading", { name: "Remove 1 item to switch to EUR?" }).waitFor();
    expect(await dialog.locator("#currency-dialog-text").textContent()).toMatch(/^Desk Lamp is not sold in euros\. Switching removes it from your cart/);
    await expectNoAxeViolations(page, "the dialog naming an item not sold in EUR");
    await shot(page, "dialog-names-item", "phone");

    // Keeping the old currency changes nothing, and focus comes back to the control.
    await page.getByTestId("keep-cart-currency").click();
    await expect.poll(() => dialog.isVisible()).toBe(false);
    expect(await currencySelect(page).inputValue()).toBe("USD");
    expect(await focusedId(page)).toBe("currency-select");
    expect(await page.getByTestId("cart-subtotal").textContent()).toBe("$80.00");
    expect(await page.getByTestId("cart-count").textContent()).toBe("2");

    await chooseCurrency(page, "EUR");
    await page.getByTestId("confirm-currency-switch").click();
    await expect.poll(() => page.getByTestId("cart-subtotal").textContent()).toBe("€15.00");
    expect(await page.getByTestId("cart-line").count()).toBe(1);
    expect(await page.getByTestId("cart-count").textContent()).toBe("1");
    const removal = "Desk Lamp is not sold in euros, so it was removed from your cart.";
    await expect.poll(() => announcement(page)).toBe(`Prices are now in EUR. ${removal}`);
    expect(await page.getByTestId("currency-notice").locator("p").textContent()).toBe(removal);
    expect(await focusedId(page)).toBe("currency-select");
    await expectNoAxeViolations(page, "the cart after removing an item not sold in EUR");
    await shot(page, "item-removed", "phone");
    expect(errors).toEqual([]);
  });
});

describe("switching currency during checkout", () => {
  for (const size of ["phone", "desktop"] as const) {
    it(`keeps what the shopper typed and prices the order in the new currency (${size})`, async () => {
      const { page, errors } = await openPage(size);
      await addToCart(page, shop().app.url, "everyday-tee", "1");
      await page.goto(`${shop().app.url}/checkout`);
      await page.locator("#email").fill("grace@example.com");
      await page.locator("#name").fill("Grace Hopper");
      await page.locator("#line1").fill("500 Howard St");

      await chooseCurrency(page, "EUR");
      await expect.poll(() => page.getByTestId("summary-subtotal").textContent()).toBe("€22.00");
      await expect.poll(() => announcement(page)).toBe("Prices are now in EUR.");
      expect(await focusedId(page)).toBe("currency-select");
      expect([await page.locator("#email").inputValue(), await page.locator("#name").inputValue(), await page.locator("#line1").inputValue()]).toEqual([
        "grace@example.com",
        "Grace Hopper",
        "500 Howard St",
      ]);
      // The header with the currency control fits the screen: nothing scrolls sideways.
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      await expectNoAxeViolations(page, `checkout after switching to EUR with fields typed (${size})`);
      await shot(page, "checkout-typed-in-eur", size);

      // With the address complete, shipping is priced in euros; switching back prices it in dollars and keeps the form.
      await page.locator("#city").fill("San Francisco");
      await page.locator("#country").selectOption("US");
      await page.locator("#region").selectOption("CA");
      await page.locator("#postalCode").fill("94105");
      // A checkout that saves the address on request rather than on its own.
      const save = page.getByTestId("save-address");
      if (await save.isVisible()) await save.click();
      const shipping = page.locator(".shipping-options");
      await expect.poll(() => shipping.textContent(), { timeout: 15_000 }).toMatch(/€5\.51/);
      await chooseCurrency(page, "USD");
      await expect.poll(() => shipping.textContent(), { timeout: 15_000 }).toMatch(/\$5\.99/);
      await expect.poll(() => page.getByTestId("summary-subtotal").textContent()).toBe("$24.00");
      expect(await page.locator("#postalCode").inputValue()).toBe("94105");
      expect(await page.locator("#email").inputValue()).toBe("grace@example.com");
      expect(await focusedId(page)).toBe("currency-select");
      // Back at the top, as the shopper checks the contact details: a field scrolled under the sticky header and
      // summary bar counts as a covered touch target for axe, whatever was used to get there.
      await page.evaluate(() => window.scrollTo(0, 0));
      expect(await focusedId(page)).toBe("currency-select");
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      await expectNoAxeViolations(page, `checkout after switching back to USD (${size})`);
      await shot(page, "checkout-back-in-usd", size);
      expect(errors).toEqual([]);
    });
  }
});

describe("a currency switch that fails", () => {
  it("changes nothing and says why when the shop cannot be reached, then switches once it can (phone)", async () => {
    const { page, errors } = await openPage("phone");
    await addToCart(page, shop().app.url, "ceramic-mug", "1");
    await page.goto(`${shop().app.url}/cart`);
    const subtotal = () => page.getByTestId("cart-subtotal").textContent();
    await expect.poll(subtotal).toMatch(/^\$/);
    const before = await subtotal();
    const cartId = await storedCartId(page);

    await page.route("**/trpc/cart.setCurrency", (route) => route.abort("internetdisconnected"));
    await chooseCurrency(page, "EUR");
    await expect.poll(() => announcement(page)).toBe("Prices are still in USD: We could not reach the shop. Check your connection and try again.");
    expect(await currencySelect(page).inputValue()).toBe("USD");
    expect(await subtotal()).toBe(before);
    expect(await storedCartId(page)).toBe(cartId);
    expect(await page.getByTestId("cart-count").textContent()).toBe("1");
    expect(await focusedId(page)).toBe("currency-select");
    await expectNoAxeViolations(page, "the cart after a currency switch that could not reach the shop (phone)");
    await shot(page, "switch-unreachable", "phone");

    await page.unroute("**/trpc/cart.setCurrency");
    await chooseCurrency(page, "EUR");
    await expect.poll(subtotal).toMatch(/^€/);
    await expect.poll(() => announcement(page)).toBe("Prices are now in EUR.");
    expect(await storedCartId(page)).toBe(cartId);
    expect(errors).toEqual([]);
  });

  it("is refused while the card payment waits on the bank's challenge, and the purchase goes on in dollars (desktop)", async () => {
    const { page, errors } = await openPage("desktop", [{ status: 409, path: "/trpc/cart.setCurrency" }]);
    await addToCart(page, shop().app.url, "ceramic-mug", "1");
    await checkoutUpToPayment(page, shop().app.url, usShopper("pending-switch@example.com"));
    await fillCard(page, "4000 0027 6000 3184");
    await waitForTotals(page);
    await page.getByTestId("place-order").click();
    const complete = page.frameLocator("[data-testid=three-ds-frame]").getByRole("button", { name: "Complete authentication" });
    await complete.waitFor({ timeout: 15_000 });

    await chooseCurrency(page, "EUR");
    await expect.poll(() => announcement(page)).toBe("Prices are still in USD: Your payment for this cart is still being processed, so its currency cannot change now");
    expect(await currencySelect(page).inputValue()).toBe("USD");
    expect(await focusedId(page)).toBe("currency-select");
    await expectNoAxeViolations(page, "the checkout after a currency switch refused during the 3-D Secure challenge (desktop)");
    await shot(page, "switch-refused-mid-payment", "desktop");

    await complete.click();
    await page.waitForURL(/\/orders#[0-9a-f-]{36}$/, { timeout: 20_000 });
    const number = (await page.getByTestId("order-number").textContent())?.trim() ?? "";
    const order = await shop().database.db.selectFrom("order").select(["currency", "status"]).where("number", "=", number).executeTakeFirstOrThrow();
    expect(order).toEqual({ currency: "USD", status: "captured" });
    expect(errors).toEqual([]);
  });
});
