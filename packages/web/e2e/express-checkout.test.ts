// Express checkout in real Chromium: the sandbox wallet as a Payment Request payment app (installed just in time from
// its manifests), its sheet driven through the DevTools protocol, on a phone and on a desktop. A wallet purchase to the
// confirmation, a cancelled sheet, a declined wallet card; axe in each state, screenshots.
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { decimalAmount } from "../src/checkout/wallet-payment.ts";
import { expectNoAxeViolations } from "./axe.ts";
import { addToCart, cents, checkoutUpToPayment, type ExpectedFailure, newShopperPage, screenshots, setUpShop, usShopper, VIEWPORTS } from "./shop-harness.ts";
import { WalletSheet } from "./wallet-sheet.ts";

const shop = setUpShop();

const { phone, desktop } = VIEWPORTS;

/** A page of the test's size under the shop's own Content-Security-Policy, recording errors as the harness's pages do. */
const newWalletPage = (browser: Browser, viewport: { width: number; height: number }, options: { expected?: ExpectedFailure[] } = {}) =>
  newShopperPage(browser, { viewport, ...options });

/** Where the wallet's manifests live: the prefix the shop's connect-src must allow. */
function walletPrefixOf(app: ReturnType<typeof shop>["app"]): string {
  const sandbox = app.paymentSandbox;
  if (!sandbox) throw new Error("These tests need the shop's own payment sandbox");
  return `${sandbox.publicUrl}/wallet/`;
}

async function expectSheetAccessible(sheet: WalletSheet, state: string): Promise<void> {
  const violations = await sheet.axeViolations();
  expect(violations, `axe on ${state}:\n${violations.map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.targets.join(", ")}`).join("\n")}`).toEqual([]);
}

/** A cart with a mug, priced with standard shipping: the express button shows the total. */
async function readyToPay(page: Page, appUrl: string, email: string): Promise<string> {
  await addToCart(page, appUrl, "ceramic-mug", "1");
  await checkoutUpToPayment(page, appUrl, usShopper(email));
  const button = page.getByTestId("express-pay");
  await button.waitFor();
  // Back to the top, where express checkout is (filling the form scrolled down to the ZIP code).
  await page.evaluate(() => window.scrollTo(0, 0));
  const total = (await page.getByTestId("review-total").textContent()) ?? "";
  expect(await button.textContent()).toBe(`Pay ${total} with the sandbox wallet`);
  return total;
}

async function ordersOf(shopDatabase: ReturnType<typeof shop>["database"], email: string) {
  return shopDatabase.db.selectFrom("order").select(["id", "number", "status", "total"]).where("email", "=", email).execute();
}

for (const [device, viewport] of [
  ["phone", phone],
  ["desktop", desktop],
] as const) {
  describe(`express checkout on a ${device} (${viewport.width}×${viewport.height})`, () => {
    it("pays with the sandbox wallet: the sheet shows the total, the order is captured and the confirmation shows", async () => {
      const { app, database, browser } = shop();
      const { page, errors } = await newWalletPage(browser, viewport);
      const email = `wallet-${device}@example.com`;
      const total = await readyToPay(page, app.url, email);
      expect(await page.getByTestId("express-checkout").getByRole("heading", { name: "Express checkout" }).isVisible()).toBe(true);
      await expectNoAxeViolations(page, `express checkout ready (${device})`);
      await page.screenshot({ path: path.join(screenshots, `express-checkout-ready-${device}.png`), fullPage: true });

      await page.getByTestId("express-pay").click();
      const sheet = await WalletSheet.open(browser);
      expect(await page.getByTestId("express-pay").textContent()).toBe("Waiting for the wallet…");
      expect(await sheet.text("[data-testid=wallet-total]")).toBe(total);
      expect(await sheet.text("#pay")).toBe(`Pay ${total}`);
      expect(await sheet.evaluate<string[]>("[...document.querySelectorAll('input[name=card]')].map((input) => input.value)")).toEqual([
        "visa-4242",
        "mastercard-4444",
        "visa-0002",
        "visa-3184",
      ]);
      await expectSheetAccessible(sheet, `the wallet's sheet (${device})`);
      await sheet.screenshot(path.join(screenshots, `express-checkout-wallet-sheet-${device}.png`));
      await sheet.pay("mastercard-4444");
      await sheet.detach();

      await page.waitForURL(/\/orders#[0-9a-f-]{36}$/, { timeout: 15_000 });
      const number = (await page.getByTestId("order-number").textContent())?.trim() ?? "";
      expect(number).toMatch(/^\d{6,}$/);
      expect(await page.getByTestId("order-total").textContent()).toBe(total);
      await expectNoAxeViolations(page, `confirmation after express checkout (${device})`);
      await page.screenshot({ path: path.join(screenshots, `express-checkout-confirmation-${device}.png`), fullPage: true });

      const [order, ...others] = await ordersOf(database, email);
      expect(others).toEqual([]);
      expect(order).toMatchObject({ number, status: "captured", total: cents(total) });
      const payments = await database.db
        .selectFrom("payment")
        .select(["status", "amount"])
        .where("order_id", "=", order?.id ?? "")
        .execute();
      expect(payments).toEqual([{ status: "captured", amount: cents(total) }]);
      expect(errors).toEqual([]);
    });

    it("changes nothing when the shopper cancels the sheet, or closes it with Escape: focus is back on the button", async () => {
      const { app, database, browser } = shop();
      const { page, errors } = await newWalletPage(browser, viewport);
      const email = `wallet-cancel-${device}@example.com`;
      await readyToPay(page, app.url, email);

      await page.getByTestId("express-pay").click();
      const sheet = await WalletSheet.open(browser);
      await sheet.cancel();
      await sheet.detach();
      await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("express-pay");
      expect(await WalletSheet.isOpen(browser)).toBe(false);

      await page.getByTestId("express-pay").click();
      const again = await WalletSheet.open(browser);
      await again.pressEscape();
      await again.detach();
      await expect.poll(() => WalletSheet.isOpen(browser)).toBe(false);
      await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("express-pay");

      expect(page.url()).toMatch(/\/checkout$/);
      expect(await page.getByTestId("express-error").count()).toBe(0);
      expect(await page.getByTestId("payment-error").count()).toBe(0);
      expect(await page.getByTestId("cart-count").textContent()).toBe("1");
      expect(await ordersOf(database, email)).toEqual([]);
      await expectNoAxeViolations(page, `checkout after a cancelled wallet (${device})`);
      await page.screenshot({ path: path.join(screenshots, `express-checkout-cancelled-${device}.png`), fullPage: true });
      expect(errors).toEqual([]);
    });

    it("shows a declined wallet card in the shopper's words, and another wallet card then pays", async () => {
      const { app, database, browser } = shop();
      const { page, errors } = await newWalletPage(browser, viewport, {
        expected: [{ status: 402, path: "/trpc/checkout.placeOrder" }],
      });
      const email = `wallet-decline-${device}@example.com`;
      const total = await readyToPay(page, app.url, email);

      await page.getByTestId("express-pay").click();
      const sheet = await WalletSheet.open(browser);
      await sheet.pay("visa-0002");
      await sheet.detach();
      const error = page.getByTestId("express-error");
      await error.waitFor({ timeout: 15_000 });
      expect(await error.textContent()).toBe("Your order was not placedYour card was declined. Pay again and choose another card in the wallet, or pay by card below.");
      expect(await error.getAttribute("role")).toBe("alert");
      expect(page.url()).toMatch(/\/checkout$/);
      await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("express-pay");
      await expectNoAxeViolations(page, `a declined wallet card (${device})`);
      await page.screenshot({ path: path.join(screenshots, `express-checkout-declined-${device}.png`), fullPage: true });

      await page.getByTestId("express-pay").click();
      const retry = await WalletSheet.open(browser);
      await retry.pay("visa-4242");
      await retry.detach();
      await page.waitForURL(/\/orders#[0-9a-f-]{36}$/, { timeout: 15_000 });
      const orders = await ordersOf(database, email);
      expect(orders.map((order) => order.status).sort()).toEqual(["captured", "payment_failed"]);
      expect(orders.find((order) => order.status === "captured")?.total).toBe(cents(total));
      expect(errors).toEqual([]);
    });
  });
}

describe("express checkout with a card that asks for 3-D Secure", () => {
  it("shows the card issuer's challenge under the express button, then the paid order", async () => {
    const { app, database, browser } = shop();
    const { page, errors } = await newWalletPage(browser, phone);
    const email = "wallet-3ds@example.com";
    const total = await readyToPay(page, app.url, email);

    await page.getByTestId("express-pay").click();
    const sheet = await WalletSheet.open(browser);
    await sheet.pay("visa-3184");
    await sheet.detach();
    const challenge = page.getByTestId("express-checkout").frameLocator("[data-testid=three-ds-frame]");
    const complete = challenge.getByRole("button", { name: "Complete authentication" });
    await complete.waitFor({ timeout: 15_000 });
    expect(await page.getByTestId("express-pay").count()).toBe(0);
    await expectNoAxeViolations(page, "the card issuer's challenge after express checkout");
    await page.screenshot({ path: path.join(screenshots, "express-checkout-3ds-phone.png") });
    await complete.click();

    await page.waitForURL(/\/orders#[0-9a-f-]{36}$/, { timeout: 15_000 });
    const [order, ...others] = await ordersOf(database, email);
    expect(others).toEqual([]);
    expect(order).toMatchObject({ status: "captured", total: cents(total) });
    expect(errors).toEqual([]);
  });
});

describe("express checkout's presence", () => {
  it("asks the shopper to fill in the address first, and is absent (its chunk never fetched) without the Payment Request API", async () => {
    const { app, browser } = shop();
    const { page, errors } = await newWalletPage(browser, phone);
    await addToCart(page, app.url, "ceramic-mug", "1");
    await page.goto(`${app.url}/checkout`);
    await page.getByTestId("express-pending").waitFor();
    expect(await page.getByTestId("express-pay").count()).toBe(0);
    await expectNoAxeViolations(page, "express checkout before the address");

    const without = await newWalletPage(browser, phone);
    const chunks: string[] = [];
    without.page.on("request", (request) => {
      if (/express-checkout/.test(request.url())) chunks.push(request.url());
    });
    await without.page.addInitScript(() => {
      delete (window as { PaymentRequest?: unknown }).PaymentRequest;
    });
    await addToCart(without.page, app.url, "ceramic-mug", "1");
    await checkoutUpToPayment(without.page, app.url, usShopper("no-wallet@example.com"));
    expect(await without.page.getByTestId("express-checkout").count()).toBe(0);
    expect(chunks).toEqual([]);
    expect([...errors, ...without.errors]).toEqual([]);
  });

  it("appears under the shop's own Content-Security-Policy (connect-src must allow the wallet's manifests)", async () => {
    const { app, browser } = shop();
    const { page, errors } = await newWalletPage(browser, phone);
    await addToCart(page, app.url, "ceramic-mug", "1");
    const response = await page.goto(`${app.url}/checkout`);
    const connect = (response?.headers()["content-security-policy"] ?? "").split(";").find((part) => part.trim().startsWith("connect-src")) ?? "";
    expect(connect.trim().split(/\s+/)).toContain(walletPrefixOf(app));
    await page.getByTestId("express-checkout").waitFor();
    expect(errors).toEqual([]);
  });
});

describe("decimalAmount", () => {
  it("writes minor units in the currency's own decimals", () => {
    expect(decimalAmount(9866, "USD")).toBe("98.66");
    expect(decimalAmount(5, "EUR")).toBe("0.05");
    expect(decimalAmount(1200, "JPY")).toBe("1200");
    expect(decimalAmount(1234, "KWD")).toBe("1.234");
  });
});
