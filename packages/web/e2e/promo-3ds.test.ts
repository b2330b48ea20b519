// Promo codes, 3-D Secure and the euro checkout in real Chromium on a phone: a discounted order paid
// through the card issuer's challenge, a failed challenge followed by another card, and a EUR order
// with VAT included. Each ends with the database's own record of the order and its payment.
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNoAxeViolations } from "./axe.ts";
import type { RunningApp } from "../../api/src/app.ts";
import type { TestDatabase } from "../../api/test/support/database.ts";
import {
  addToCart,
  cents,
  checkoutUpToPayment,
  fillCard,
  newPhonePage as openPhonePage,
  review,
  screenshots,
  startShop,
  stopShop,
  usShopper,
  type ExpectedFailure,
  type Shop,
} from "./shop-harness.ts";

const THREE_D_SECURE_CARD = "4000 0027 6000 3184";
const SUCCESS_CARD = "4242 4242 4242 4242";

let shop: Shop;
let database: TestDatabase;
let app: RunningApp;
let browser: Browser;

beforeAll(async () => {
  shop = await startShop();
  ({ database, app, browser } = shop);
});

afterAll(async () => {
  await stopShop(shop);
});

const newPhonePage = (expected: ExpectedFailure[] = []) => openPhonePage(browser, expected);

async function waitForConfirmation(page: Page): Promise<string> {
  await page.waitForURL(/\/orders#[0-9a-f-]{36}$/, { timeout: 20_000 });
  const number = page.getByTestId("order-number");
  await number.waitFor();
  // The number appears with the order; wait for the paid state rather than a pending one.
  await expect.poll(() => page.locator(".order-page__header .eyebrow").textContent(), { timeout: 15_000 }).toBe("Paid");
  return (await number.textContent())?.trim() ?? "";
}

function orderByNumber(number: string) {
  return database.db.selectFrom("order").selectAll().where("number", "=", number).executeTakeFirstOrThrow();
}

function paymentsOf(orderId: string) {
  return database.db.selectFrom("payment").select(["status", "amount"]).where("order_id", "=", orderId).execute();
}

describe("a shopper in Chromium with a promo code and a 3-D Secure card", () => {
  it("applies WELCOME10, answers the card issuer's challenge and lands on a paid, discounted order", async () => {
    const { page, errors } = await newPhonePage([{ status: 422, path: "/trpc/checkout.applyPromoCode" }]);
    await addToCart(page, app.url, "everyday-tee", "1");
    await checkoutUpToPayment(page, app.url, usShopper("grace@example.com"));

    // A code that has run out is refused next to the field, in words, and the cart keeps no code.
    await page.getByTestId("promo-code").fill("EXPIRED");
    await page.getByTestId("apply-promo").click();
    await expect.poll(() => page.getByTestId("promo-error").textContent()).toMatch(/expired/i);
    expect(await page.getByTestId("promo-error").getAttribute("role")).toBe("alert");
    expect(await page.getByTestId("promo-code").getAttribute("aria-invalid")).toBe("true");

    // Codes are case-insensitive; the applied code is shown with a way to remove it.
    await page.getByTestId("promo-code").fill("welcome10");
    await page.getByTestId("apply-promo").click();
    await expect.poll(() => page.getByTestId("promo-applied").textContent()).toBe("WELCOME10");
    expect(await page.getByTestId("promo-error").count()).toBe(0);
    await page.getByTestId("remove-promo").waitFor();

    await fillCard(page, THREE_D_SECURE_CARD);
    await review(page);
    // One Everyday Tee at $24.00; 10 % off goods is $2.40.
    expect(await page.getByTestId("review-subtotal").textContent()).toBe("$24.00");
    expect(await page.getByTestId("review-discount").textContent()).toBe("-$2.40");
    expect(await page.getByTestId("order-review").textContent()).toContain("Discount (WELCOME10)");
    expect(await page.getByTestId("order-review").textContent()).toContain("Tax");
    const reviewTotal = (await page.getByTestId("review-total").textContent()) ?? "";

    // Removing the code prices the cart again at once (no discount), and re-applying it brings the same total back.
    await page.getByTestId("remove-promo").click();
    await page.getByTestId("promo-code").waitFor();
    await review(page);
    expect(await page.getByTestId("review-discount").count()).toBe(0);
    expect(cents(await page.getByTestId("review-total").textContent())).toBeGreaterThan(cents(reviewTotal));
    await page.getByTestId("promo-code").fill("WELCOME10");
    await page.getByTestId("apply-promo").click();
    await page.getByTestId("promo-applied").waitFor();
    await review(page);
    expect(await page.getByTestId("review-total").textContent()).toBe(reviewTotal);

    await page.getByTestId("place-order").click();
    const challenge = page.frameLocator("[data-testid=three-ds-frame]");
    const complete = challenge.getByRole("button", { name: "Complete authentication" });
    await complete.waitFor({ timeout: 15_000 });
    expect(await page.getByTestId("three-ds-frame").getAttribute("title")).toBe("Card authentication");
    expect(await page.getByTestId("place-order").count()).toBe(0);
    // The challenge takes focus and scrolls its heading into view, clear of the sticky header.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("three-ds-heading");
    await page.waitForFunction(
      () => {
        const seen = window as unknown as { lastHeadingTop?: number };
        const top = document.getElementById("three-ds-heading")?.getBoundingClientRect().top ?? -1;
        const header = document.querySelector(".site-header")?.getBoundingClientRect().bottom ?? 0;
        const isSettled = seen.lastHeadingTop === top;
        seen.lastHeadingTop = top;
        return isSettled && top >= header && top < header + 120;
      },
      undefined,
      { polling: 100 },
    );
    await page.screenshot({ path: path.join(screenshots, "three-ds-challenge.png") });
    // The page around the challenge, and the card issuer's page inside its frame.
    await expectNoAxeViolations(page, "the checkout while the 3-D Secure challenge is shown");
    const issuerFrame = page.frames().find((frame) => frame.url().includes("/3ds/"));
    expect(issuerFrame, "the card issuer's frame").toBeDefined();
    if (issuerFrame) await expectNoAxeViolations(issuerFrame, "the card issuer's 3-D Secure page");
    await complete.click();

    const number = await waitForConfirmation(page);
    expect(await page.getByTestId("order-total").textContent()).toBe(reviewTotal);
    expect(await page.getByTestId("order-discount").textContent()).toBe("-$2.40");
    expect(await page.getByTestId("cart-count").textContent()).toBe("0");

    const order = await orderByNumber(number);
    expect(order.status).toBe("captured");
    expect(order.discount).toBeGreaterThan(0);
    expect(order.discount).toBe(240);
    expect(order.promo_code).toBe("WELCOME10");
    expect(order.total).toBe(cents(reviewTotal));
    expect(order.total).toBe(order.subtotal - order.discount + order.shipping + order.tax);
    expect(await paymentsOf(order.id)).toEqual([{ status: "captured", amount: order.total }]);

    expect(errors).toEqual([]);
  });

  it("shows a failed challenge as a payment error and lets the shopper pay with another card", async () => {
    const { page, errors } = await newPhonePage();
    await addToCart(page, app.url, "ceramic-mug", "1");
    await checkoutUpToPayment(page, app.url, usShopper("katherine@example.com"));
    await fillCard(page, THREE_D_SECURE_CARD);
    await review(page);
    const reviewTotal = (await page.getByTestId("review-total").textContent()) ?? "";

    await page.getByTestId("place-order").click();
    await page.frameLocator("[data-testid=three-ds-frame]").getByRole("button", { name: "Fail authentication" }).click({ timeout: 15_000 });
    await expect.poll(() => page.getByTestId("payment-error").textContent(), { timeout: 15_000 }).toMatch(/Card authentication failed/);
    expect(await page.getByTestId("three-ds-frame").count()).toBe(0);
    expect(page.url()).toMatch(/\/checkout$/);
    expect(await page.getByTestId("cart-count").textContent()).toBe("1");
    // Keyboard focus is not lost with the closed frame.
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("payment-error");

    await fillCard(page, SUCCESS_CARD);
    await page.getByTestId("place-order").click();
    const number = await waitForConfirmation(page);
    expect(await page.getByTestId("order-total").textContent()).toBe(reviewTotal);

    const order = await orderByNumber(number);
    expect(order.status).toBe("captured");
    expect(await paymentsOf(order.id)).toEqual([{ status: "captured", amount: order.total }]);
    const failed = await database.db.selectFrom("order").select("id").where("cart_id", "=", order.cart_id).where("status", "=", "payment_failed").execute();
    expect(failed).toHaveLength(1);
    expect(await paymentsOf(failed[0]!.id)).toEqual([{ status: "declined", amount: order.total }]);

    expect(errors).toEqual([]);
  });
});

describe("a shopper in Chromium who reloads during the challenge", () => {
  it("gets the challenge back on the checkout page and finishes the order", async () => {
    const { page, errors } = await newPhonePage();
    await addToCart(page, app.url, "everyday-tee", "1");
    await checkoutUpToPayment(page, app.url, usShopper("ada@example.com"));
    await fillCard(page, THREE_D_SECURE_CARD);
    await review(page);
    const reviewTotal = (await page.getByTestId("review-total").textContent()) ?? "";
    await page.getByTestId("place-order").click();
    await page.frameLocator("[data-testid=three-ds-frame]").getByRole("button", { name: "Complete authentication" }).waitFor({ timeout: 15_000 });

    await page.reload();
    await page.frameLocator("[data-testid=three-ds-frame]").getByRole("button", { name: "Complete authentication" }).click({ timeout: 15_000 });
    const number = await waitForConfirmation(page);
    expect(await page.getByTestId("order-total").textContent()).toBe(reviewTotal);

    const order = await orderByNumber(number);
    expect(order.status).toBe("captured");
    expect(order.total).toBe(cents(reviewTotal));
    expect(await paymentsOf(order.id)).toEqual([{ status: "captured", amount: order.total }]);
    const orders = await database.db.selectFrom("order").select("id").where("cart_id", "=", order.cart_id).execute();
    expect(orders).toHaveLength(1);

    expect(errors).toEqual([]);
  });
});

describe("a shopper in Chromium paying in euros", () => {
  it("switches currency (the USD cart comes along, in euros) and buys with VAT included", async () => {
    const { page, errors } = await newPhonePage();
    await addToCart(page, app.url, "ceramic-mug", "1");
    const currency = page.getByTestId("currency-select");
    expect(await currency.inputValue()).toBe("USD");
    expect(await page.getByLabel("Currency").count()).toBe(1);

    // Switching keeps the cart, priced in euros; nothing is asked when everything in it is sold in euros.
    await currency.selectOption("EUR");
    // The control shows the choice at once, while the switch is still on its way: wait for the switch itself.
    await expect.poll(() => page.evaluate(() => window.localStorage.getItem("checkout.currency"))).toBe("EUR");
    expect(await currency.inputValue()).toBe("EUR");
    expect(await page.getByTestId("currency-dialog").isVisible()).toBe(false);
    expect(await page.getByTestId("cart-count").textContent()).toBe("1");

    // Prices are in euros from here on, and the choice survives a reload.
    await page.goto(`${app.url}/products/everyday-tee`);
    await expect.poll(() => page.getByTestId("product-price").textContent()).toMatch(/^€\d+\.\d{2}$/);
    expect(await currency.inputValue()).toBe("EUR");
    await page.getByTestId("add-to-cart").click();
    await expect.poll(() => page.getByTestId("cart-count").textContent()).toBe("2");
    await page.goto(`${app.url}/cart`);
    await expect.poll(() => page.getByTestId("cart-subtotal").textContent()).toMatch(/^€/);

    await checkoutUpToPayment(page, app.url, {
      email: "emmy@example.com",
      name: "Emmy Noether",
      line1: "Unter den Linden 6",
      city: "Berlin",
      country: "DE",
      postalCode: "10117",
    });
    await fillCard(page, SUCCESS_CARD);
    await review(page);
    const reviewed = page.getByTestId("order-review");
    expect(await reviewed.textContent()).toContain("Includes VAT");
    const subtotal = cents(await page.getByTestId("review-subtotal").textContent());
    const shipping = cents(await page.getByTestId("review-shipping").textContent());
    const tax = cents(await page.getByTestId("review-tax").textContent());
    const reviewTotal = (await page.getByTestId("review-total").textContent()) ?? "";
    expect(reviewTotal).toMatch(/^€/);
    expect(tax).toBeGreaterThan(0);
    // VAT is inside the prices, not added on top.
    expect(cents(reviewTotal)).toBe(subtotal + shipping);

    await page.getByTestId("place-order").click();
    const number = await waitForConfirmation(page);
    expect(await page.getByTestId("order-total").textContent()).toBe(reviewTotal);
    expect(await page.locator(".order-page").textContent()).toContain("Includes VAT");
    await page.screenshot({ path: path.join(screenshots, "eur-confirmation.png"), fullPage: true });

    const order = await orderByNumber(number);
    expect(order).toMatchObject({ status: "captured", currency: "EUR", tax_inclusive: true, total: cents(reviewTotal), tax });
    expect(await paymentsOf(order.id)).toEqual([{ status: "captured", amount: order.total }]);

    expect(errors).toEqual([]);
  });
});

describe("a shopper in Chromium whose bank page's answer never reaches the checkout", () => {
  it("still gets the paid order: the page asks the shop itself while the challenge is shown", async () => {
    const { page, errors } = await newPhonePage();
    // The frame's "answered" message is lost on its way (a listener ahead of the page's own swallows it).
    let dropped = 0;
    await page.exposeFunction("__messageDropped", () => {
      dropped += 1;
    });
    await page.addInitScript(() => {
      window.addEventListener(
        "message",
        (event) => {
          if ((event.data as { type?: unknown } | null)?.type === "sandbox:3ds-complete") {
            event.stopImmediatePropagation();
            (window as unknown as { __messageDropped: () => void }).__messageDropped();
          }
        },
        true,
      );
    });
    await addToCart(page, app.url, "ceramic-mug", "1");
    await checkoutUpToPayment(page, app.url, usShopper("lost-message@example.com"));
    await fillCard(page, THREE_D_SECURE_CARD);
    await review(page);
    await page.getByTestId("place-order").click();
    await page.frameLocator("[data-testid=three-ds-frame]").getByRole("button", { name: "Complete authentication" }).click({ timeout: 15_000 });

    const number = await waitForConfirmation(page);
    expect(dropped).toBe(1);
    const order = await orderByNumber(number);
    expect(order.status).toBe("captured");
    expect(await paymentsOf(order.id)).toEqual([{ status: "captured", amount: order.total }]);
    expect(errors).toEqual([]);
  });
});
