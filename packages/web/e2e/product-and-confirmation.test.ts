// The product page, the cart line and the confirmation in real Chromium, at phone and desktop sizes: the picture
// follows the colour chosen (product page, cart, checkout); "Add to cart" keeps keyboard focus and says so politely
// with a link to the cart; a quantity the shop cannot take is said in the shopper's words, whether the page or the
// server catches it; and the confirmation says what the shop knows of its email, with the date in the shopper's language.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { MAX_LINE_QUANTITY, OutboxDispatcher } from "@checkout/core";
import { createMailer } from "../../api/src/outbox/mailer.ts";
import { createConfirmationEmailTarget } from "../../api/src/outbox/outbox-targets.ts";
import { CARDS, createClient, readyCart, tokenizeCard } from "../../api/test/support/app.ts";
import { MAX_OF_ONE_ITEM } from "../src/lib/quantity-message.ts";
import { expectNoAxeViolations } from "./axe.ts";
import { newPhonePage, newShopperPage, screenshots, setUpShop, type ExpectedFailure, type PhonePage, VIEWPORTS } from "./shop-harness.ts";

const shop = setUpShop();
const mailDir = mkdtempSync(path.join(os.tmpdir(), "checkout-confirmation-mail-"));
afterAll(() => rmSync(mailDir, { recursive: true, force: true }));

// The desktop shopper reads German: the confirmation's date is theirs, not the shop's.
const sizes = [
  { name: "phone", viewport: null, locale: "en-US", placedAt: /^[A-Z][a-z]+ \d{1,2}, \d{4} at \d{1,2}:\d{2}\s[AP]M$/ },
  { name: "desktop", viewport: { width: 1350, height: 940 }, locale: "de-DE", placedAt: /^\d{1,2}\. [A-Z][a-zä]+ \d{4} um \d{2}:\d{2}$/ },
] as const;

async function newPage(browser: Browser, size: (typeof sizes)[number], expected: ExpectedFailure[] = []): Promise<PhonePage> {
  const opened = await newPhonePage(browser, expected);
  if (size.viewport) await opened.page.setViewportSize(size.viewport);
  return opened;
}

/** A euro cart with a slate mug, ready to quote, to an address in Berlin. */
async function readyBerlinCart(client: ReturnType<typeof createClient>): Promise<string> {
  const cart = await client.cart.create.mutate({ currency: "EUR" });
  await client.cart.addLine.mutate({ cartId: cart.id, sku: "MUG-SLA", quantity: 1 });
  await client.checkout.setContact.mutate({ cartId: cart.id, email: "ada@example.com" });
  await client.checkout.setShippingAddress.mutate({
    cartId: cart.id,
    address: { name: "Ada Lovelace", line1: "Unter den Linden 6", city: "Berlin", postalCode: "10117", country: "DE" },
  });
  await client.checkout.setShippingOption.mutate({ cartId: cart.id, optionId: "standard" });
  return cart.id;
}

/** A page whose browser prefers `size.locale`, recording errors as the harness's pages do. */
const newLocalePage = (browser: Browser, size: (typeof sizes)[number]) => newShopperPage(browser, { viewport: size.viewport ?? VIEWPORTS.phone, locale: size.locale });

const shot = (page: Page, step: string, size: string) => page.screenshot({ path: path.join(screenshots, `product-and-confirmation-${step}-${size}.png`), fullPage: true });

/** The product page's picture: its file and whether it drew (a missing file draws nothing). */
function productPicture(page: Page) {
  return page.locator(".product__media img").evaluate((img: HTMLImageElement) => ({ src: new URL(img.src).pathname, alt: img.alt, isDrawn: img.complete && img.naturalWidth > 0 }));
}

it("keeps the page's most of one item (a constant of its own, so no page loads the schemas for it) at core's line limit", () => {
  expect(MAX_OF_ONE_ITEM).toBe(MAX_LINE_QUANTITY);
});

describe.each(sizes)("a shopper on a $name", (size) => {
  it("sees the colour they chose, keeps focus after adding to the cart, and reads quantity limits in their words", async () => {
    const { app, database, browser } = shop();
    // The server refusing a quantity it no longer has is part of this story; the shop's cap is caught before asking (a
    // 422 QUANTITY_LIMIT here would be an unexpected error).
    const { page, errors } = await newPage(browser, size, [{ status: 409, path: "/trpc/cart.updateLine" }]);
    await page.goto(`${app.url}/products/everyday-tee`);

    // The picture follows the colour: white, then black.
    await page.locator('input[name="colour"][value="White"]').check();
    await expect.poll(() => productPicture(page)).toEqual({ src: "/images/products/everyday-tee--white.svg", alt: "Everyday Tee in White", isDrawn: true });
    await page.locator('input[name="colour"][value="Black"]').check();
    await page.locator('input[name="size"][value="S"]').check();
    expect(await page.getByTestId("quantity").getAttribute("max")).toBe("10");
    await expect.poll(() => productPicture(page)).toEqual({ src: "/images/products/everyday-tee--black.svg", alt: "Everyday Tee in Black", isDrawn: true });

    // Added from the keyboard: focus stays on the button, a polite status says so and links to the cart.
    await page.getByTestId("add-to-cart").focus();
    await page.keyboard.press("Enter");
    await page.getByTestId("add-confirmation").waitFor();
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute("data-testid") ?? document.activeElement?.tagName)).toBe("add-to-cart");
    const status = page.getByRole("status").filter({ hasText: "Added to your cart" });
    expect(await status.getAttribute("data-testid")).toBe("add-status");
    expect(await status.textContent()).toContain("Added to your cart: 1 × Everyday Tee (Black / S). Your cart has 1 item.");
    expect(await status.getByRole("link", { name: "View cart" }).getAttribute("href")).toBe("/cart");
    // The next Tab reaches the link to the cart.
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe("View cart");
    await expectNoAxeViolations(page, `product page after adding (${size.name})`);
    await shot(page, "added", size.name);

    // The cart line shows the black tee.
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/cart$/);
    const line = page.getByTestId("cart-line");
    await line.waitFor();
    expect(await line.locator("img").evaluate((img: HTMLImageElement) => new URL(img.src).pathname)).toBe("/images/products/everyday-tee--black.svg");

    // 999 is more than one line holds: the page says so in the shopper's words and sends nothing.
    const quantity = line.getByTestId("line-quantity");
    await quantity.fill("999");
    await quantity.blur();
    const lineError = line.locator(".cart-line__error");
    await expect.poll(() => lineError.textContent()).toBe("You can buy at most 99 of one item");
    expect(await quantity.getAttribute("aria-invalid")).toBe("true");
    await expectNoAxeViolations(page, `cart with a quantity too large (${size.name})`);
    await shot(page, "cart-999", size.name);

    // The shop's own cap per order (10 of one item by default): the cart line carries it (maxQuantity), so the box offers
    // no more and the page says so before asking; the server's QUANTITY_LIMIT would read the same.
    expect(await quantity.getAttribute("max")).toBe("10");
    await quantity.fill("50");
    await quantity.blur();
    await expect.poll(() => lineError.textContent()).toBe("You can buy at most 10 of one item per order");

    // Stock sold elsewhere since the cart loaded: the server's OUT_OF_STOCK, said the same way.
    await database.db.updateTable("inventory").set({ available: 5 }).where("sku", "=", "TEE-BLA-S").execute();
    try {
      await quantity.fill("10");
      await quantity.blur();
      await expect.poll(() => lineError.textContent()).toBe("Only 5 left: enter 5 or fewer");
      expect(await lineError.textContent()).not.toMatch(/Invalid input|in stock|TEE-/);
      await shot(page, "cart-only-5", size.name);
    } finally {
      await database.db.updateTable("inventory").set({ available: 60 }).where("sku", "=", "TEE-BLA-S").execute();
    }

    // The checkout's line picture is the black tee too.
    await page.goto(`${app.url}/checkout`);
    await page.locator('img[src="/images/products/everyday-tee--black.svg"]').first().waitFor({ state: "attached" });
    expect(await page.locator('img[src="/images/products/everyday-tee.svg"]').count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it("is told the confirmation email is on its way, then that it was sent, with the date in their language", async () => {
    const { app, browser } = shop();
    const client = createClient(app.url);
    // The German reader ships to Berlin and pays in euros; the other to San Francisco in dollars.
    const cartId = size.locale === "de-DE" ? await readyBerlinCart(client) : await readyCart(client, [{ sku: "MUG-SLA", quantity: 1 }]);
    const quote = await client.checkout.quote.mutate({ cartId });
    const order = await client.checkout.placeOrder.mutate({ cartId, quoteId: quote.id, paymentToken: await tokenizeCard(app.paymentUrl, CARDS.success) });

    const { page, errors } = await newLocalePage(browser, size);
    await page.goto(`${app.url}/orders#${order.id}`);
    const email = page.getByTestId("confirmation-email");
    // Jobs are off in this shop: the email is queued with the order and nothing has sent it yet.
    await expect.poll(() => email.textContent()).toBe("We're emailing a confirmation to ada@example.com.");
    expect(await email.getAttribute("role")).toBe("status");

    const placedAt = page.getByTestId("order-placed-at").locator("time");
    expect(await placedAt.getAttribute("datetime")).toBe(order.placedAt);
    const expectedDate = await page.evaluate((iso) => new Intl.DateTimeFormat(navigator.language, { dateStyle: "long", timeStyle: "short" }).format(new Date(iso)), order.placedAt);
    expect(await placedAt.textContent()).toBe(expectedDate);
    expect(expectedDate).toMatch(size.placedAt);
    // Each line with the picture of the variant bought.
    expect(order.lines.every((line) => line.image?.startsWith("/images/products/"))).toBe(true);
    const pictures = await page
      .getByTestId("order-line")
      .locator("img")
      .evaluateAll((images) => (images as HTMLImageElement[]).map((img) => new URL(img.src).pathname));
    expect(pictures).toEqual(order.lines.map((line) => line.image));
    // The address as its post office writes it.
    const address = await page.getByTestId("order-address").locator(":scope > span").allTextContents();
    expect(address).toEqual(
      size.locale === "de-DE" ? ["Ada Lovelace", "Unter den Linden 6", "10117 Berlin", "Germany"] : ["Ada Lovelace", "500 Howard St", "San Francisco, CA 94105", "United States"],
    );
    await expectNoAxeViolations(page, `confirmation, email queued (${size.name})`);
    await shot(page, "confirmation-queued", size.name);

    // The outbox sends it (a real mail file); the open page notices by itself.
    const mailer = createMailer({ from: "Shop <orders@localhost>", folder: mailDir });
    const summary = await OutboxDispatcher.dispatch({
      db: app.services.db,
      targets: [createConfirmationEmailTarget({ db: app.services.db, mailer, publicUrl: app.url })],
    });
    mailer.close();
    expect(summary.delivered).toBeGreaterThanOrEqual(1);
    const sent = readdirSync(mailDir).filter((file) => file.endsWith(`-order-${order.number}.eml`));
    expect(sent).toHaveLength(1);
    expect(readFileSync(path.join(mailDir, sent[0] ?? ""), "utf8")).toMatch(/^To: ada@example\.com$/m);
    await expect.poll(() => email.textContent(), { timeout: 10_000 }).toBe("We've emailed a confirmation to ada@example.com.");
    await expectNoAxeViolations(page, `confirmation, email sent (${size.name})`);
    await shot(page, "confirmation-sent", size.name);
    expect(errors).toEqual([]);
  });
});
