// A shopper in Chromium whose cards keep being declined: the third decline pauses payments for the cart, and the page
// says so plainly — for how long, until what time, and that the bank can help — without any decline reason.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { addToCart, checkoutUpToPayment, fillCard, newPhonePage, review, screenshots, setUpShop, usShopper } from "./shop-harness.ts";

const shop = setUpShop();

describe("a shopper whose payments are paused", () => {
  it("is told after the third decline that payments for the cart are paused, for how long, and to contact the bank", async () => {
    const { app, browser } = shop();
    const { page, errors } = await newPhonePage(browser, [
      { status: 402, path: "/trpc/checkout.placeOrder" },
      { status: 429, path: "/trpc/checkout.placeOrder" },
    ]);
    await addToCart(page, app.url, "ceramic-mug", "1");
    await checkoutUpToPayment(page, app.url, usShopper("grace@example.com"));

    await fillCard(page, "4000 0000 0000 0002");
    await review(page);
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
