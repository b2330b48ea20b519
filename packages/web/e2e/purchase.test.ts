// A shopper buys a product in real Chromium: catalogue, variant, cart edits, address validation,
// shipping, a declined card, another card, confirmation, reload. Then the database is checked.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cents, fillCard, newPhonePage, review, screenshots, setUpShop } from "./shop-harness.ts";

const shop = setUpShop();

describe("a shopper in Chromium", () => {
  it("buys a tee after a declined card, and the confirmation survives a reload", async () => {
    const { app, database, browser } = shop();
    // A declined card is part of this story: its 402 is expected.
    const { page, errors } = await newPhonePage(browser, [{ status: 402, path: "/trpc/checkout.placeOrder" }]);
    await page.goto(app.url);

    const cards = page.getByTestId("product-card");
    await cards.first().waitFor();
    expect(await cards.count()).toBeGreaterThanOrEqual(12);

    // A product with variants: pick colour and size.
    await cards.filter({ hasText: "Everyday Tee" }).first().click();
    await page.waitForURL(/\/products\/everyday-tee$/);
    await page.locator('input[name="colour"][value="Blue"]').check();
    await page.locator('input[name="size"][value="L"]').check();
    await page.getByTestId("add-to-cart").click();
    await page.getByTestId("add-confirmation").waitFor();
    await expect.poll(() => page.getByTestId("cart-count").textContent()).toBe("1");

    // A second product, to remove again from the cart.
    await page.goto(`${app.url}/products/ceramic-mug`);
    await page.getByTestId("add-to-cart").click();
    await expect.poll(() => page.getByTestId("cart-count").textContent()).toBe("2");

    await page.goto(`${app.url}/cart`);
    const lines = page.getByTestId("cart-line");
    await expect.poll(() => lines.count()).toBe(2);
    const teeLine = lines.filter({ hasText: "Everyday Tee" });
    await teeLine.getByTestId("line-quantity").fill("3");
    await teeLine.getByTestId("line-quantity").blur();
    await expect.poll(() => page.getByTestId("cart-count").textContent()).toBe("4");
    await lines.filter({ hasText: "Ceramic Mug" }).getByTestId("remove-line").click();
    await expect.poll(() => lines.count()).toBe(1);
    await expect.poll(() => page.getByTestId("cart-subtotal").textContent()).toBe("$72.00");

    await page.getByTestId("go-to-checkout").click();
    await page.waitForURL(/\/checkout$/);
    await page.locator("#email").fill("ada@example.com");
    await page.locator("#name").fill("Ada Lovelace");
    await page.locator("#line1").fill("500 Howard St");
    await page.locator("#city").fill("San Francisco");
    await page.locator("#country").selectOption("US");
    await page.locator("#region").selectOption("CA");
    await page.locator("#postalCode").fill("ABC");
    // The one button checks the form first: nothing is paid, the field says what is wrong.
    await page.getByTestId("place-order").click();
    await expect.poll(() => page.getByTestId("error-postalCode").textContent()).toMatch(/valid United States ZIP code/);
    // A valid address is saved on its own, and shipping methods follow.
    await page.locator("#postalCode").fill("94105");

    const express = page.getByTestId("shipping-option").and(page.locator('[value="express"]'));
    await express.waitFor();
    await express.check();

    await fillCard(page, "4000 0000 0000 0002");
    await review(page);
    // 3 × $24.00 = $72.00; express to the US, 0.66 kg: $19.99; California tax 7.25 % of $91.99 = $6.67.
    expect(await page.getByTestId("review-subtotal").textContent()).toBe("$72.00");
    expect(await page.getByTestId("review-shipping").textContent()).toBe("$19.99");
    expect(await page.getByTestId("review-tax").textContent()).toBe("$6.67");
    const reviewTotal = (await page.getByTestId("review-total").textContent()) ?? "";
    expect(reviewTotal).toBe("$98.66");

    await page.getByTestId("place-order").click();
    await expect.poll(() => page.getByTestId("payment-error").textContent(), { timeout: 15_000 }).toMatch(/declined/i);
    expect(page.url()).toMatch(/\/checkout$/);
    expect(await page.getByTestId("cart-count").textContent()).toBe("3");

    await fillCard(page, "4242 4242 4242 4242");
    await page.getByTestId("place-order").click();
    await page.waitForURL(/\/orders#[0-9a-f-]{36}$/, { timeout: 15_000 });
    const number = (await page.getByTestId("order-number").textContent())?.trim() ?? "";
    expect(number).toMatch(/^\d{6,}$/);
    expect(await page.getByTestId("order-total").textContent()).toBe(reviewTotal);
    await page.screenshot({ path: path.join(screenshots, "confirmation.png"), fullPage: true });

    await page.reload();
    await page.getByTestId("order-number").waitFor();
    expect((await page.getByTestId("order-number").textContent())?.trim()).toBe(number);

    const order = await database.db.selectFrom("order").selectAll().where("number", "=", number).executeTakeFirstOrThrow();
    expect(order.status).toBe("captured");
    expect(order.total).toBe(cents(reviewTotal));
    const orderLines = await database.db.selectFrom("order_line").select(["sku", "quantity"]).where("order_id", "=", order.id).execute();
    expect(orderLines).toEqual([{ sku: "TEE-BLU-L", quantity: 3 }]);
    const payments = await database.db.selectFrom("payment").select(["status", "amount"]).where("order_id", "=", order.id).execute();
    expect(payments).toEqual([{ status: "captured", amount: order.total }]);
    const declined = await database.db.selectFrom("order").select("status").where("cart_id", "=", order.cart_id).where("status", "=", "payment_failed").execute();
    expect(declined).toHaveLength(1);

    expect(errors).toEqual([]);
  });
});
