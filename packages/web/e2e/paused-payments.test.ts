// A shopper in Chromium whose cards keep being declined: the third decline pauses payments for the cart, and the page
// says so plainly — for how long, until what time, and that the bank can help — without any decline reason.
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newPhonePage, screenshots, startShop, stopShop, type Shop } from "./shop-harness.ts";

let shop: Shop;
beforeAll(async () => {
  shop = await startShop();
});
afterAll(async () => {
  await stopShop(shop);
});

async function fillCard(page: Page, number: string): Promise<void> {
  const frame = page.frameLocator("[data-testid=card-frame]");
  await frame.getByLabel("Card number").fill(number);
  await frame.getByLabel(/Expiry/).fill("12/34");
  await frame.getByLabel("CVC").fill("123");
}

describe("a shopper whose payments are paused", () => {
  it("is told after the third decline that payments for the cart are paused, for how long, and to contact the bank", async () => {
    const { app } = shop;
    const { page, errors } = await newPhonePage(shop.browser, [
      { status: 402, path: "/trpc/checkout.placeOrder" },
      { status: 429, path: "/trpc/checkout.placeOrder" },
    ]);
    await page.goto(`${app.url}/products/ceramic-mug`);
    await page.getByTestId("add-to-cart").click();
    await expect.poll(() => page.getByTestId("cart-count").textContent()).toBe("1");
    await page.goto(`${app.url}/checkout`);
    await page.locator("#email").fill("grace@example.com");
    await page.locator("#name").fill("Grace Hopper");
    await page.locator("#line1").fill("500 Howard St");
    await page.locator("#city").fill("San Francisco");
    await page.locator("#country").selectOption("US");
    await page.locator("#region").selectOption("CA");
    await page.locator("#postalCode").fill("94105");
    await page.getByTestId("save-address").click();
    const standard = page.getByTestId("shipping-option").and(page.locator('[value="standard"]'));
    await standard.waitFor();
    await standard.check();

    await fillCard(page, "4000 0000 0000 0002");
    await page.getByTestId("review-order").click();
    await page.getByTestId("order-review").waitFor();
    const error = page.getByTestId("payment-error");

    await page.getByTestId("place-order").click();
    await expect.poll(() => error.textContent(), { timeout: 15_000 }).toMatch(/declined/i);
    await fillCard(page, "4000 0000 0000 9995");
    await page.getByTestId("place-order").click();
    await expect.poll(() => error.textContent(), { timeout: 15_000 }).toMatch(/insufficient funds/i);

    await fillCard(page, "4000 0000 0000 0002");
    await page.getByTestId("place-order").click();
    await expect.poll(() => error.textContent(), { timeout: 15_000 }).toMatch(/paused payments for this cart/);
    const text = (await error.textContent()) ?? "";
    // The cart's cool-down is 15 minutes by default; the time of day is the shopper's own clock.
    expect(text).toMatch(/try again in 15 minutes \(at \d{1,2}:\d{2}/);
    expect(text).toMatch(/contact your bank/);
    expect(text).not.toMatch(/declined|insufficient/i);
    // Another card would be refused too until then: no prompt to use one.
    expect(await error.getByRole("button").count()).toBe(0);
    await page.screenshot({ path: path.join(screenshots, "payments-paused.png"), fullPage: true });
    expect(errors).toEqual([]);
  });
});
