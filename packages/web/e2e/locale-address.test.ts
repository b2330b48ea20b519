// The address step and amounts in the shopper's locale, in real Chromium at phone and desktop sizes: a euro cart in a
// German browser starts on Germany, asks the postcode before the city and has no region, and shows "12,50 €"; a US
// address has a State and a ZIP code, and a Texas ZIP code for California is refused as the shopper leaves the field and
// by the API. Messages use the field's own label. Then the shared formatting helpers, with explicit locales.
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { formatDateTime, formatMoney, formatTime } from "../src/lib/format.ts";
import { expectNoAxeViolations } from "./axe.ts";
import { addToCart, newShopperPage, type PhonePage, screenshots, setUpShop } from "./shop-harness.ts";

const shop = setUpShop();

const sizes = [
  ["phone", { width: 375, height: 812 }],
  ["desktop", { width: 1350, height: 940 }],
] as const;

/** A page in a browser set to `locale`, showing prices in `currency`, recording page errors and failed responses. */
async function shopperPage(browser: Browser, options: { locale: string; currency: "USD" | "EUR"; viewport: { width: number; height: number } }): Promise<PhonePage> {
  const opened = await newShopperPage(browser, { viewport: options.viewport, locale: options.locale });
  await opened.page.addInitScript((currency) => window.localStorage.setItem("checkout.currency", currency), options.currency);
  return opened;
}

/** Types into a field and leaves it, as a shopper tabbing on does. */
async function typeAndLeave(page: Page, selector: string, value: string): Promise<void> {
  await page.locator(selector).fill(value);
  await page.locator(selector).blur();
}

const errorOf = (page: Page, field: string) => page.getByTestId(`error-${field}`);
const labelOf = (page: Page, field: string) => page.locator(`label[for=${field}]`);

/**
 * axe on the page scrolled to its top: a sticky header over a field the page was scrolled under counts as covering its
 * touch target, which says nothing about the fields checked here.
 */
async function expectAxeClean(page: Page, state: string): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  await expectNoAxeViolations(page, state);
}

/** Whether `first` comes before `second` in the page (and so in reading and tab order). */
async function comesBefore(page: Page, first: string, second: string): Promise<boolean> {
  return page.evaluate(
    ([a, b]) => {
      const one = document.querySelector(a as string);
      const two = document.querySelector(b as string);
      return Boolean(one && two && one.compareDocumentPosition(two) & Node.DOCUMENT_POSITION_FOLLOWING);
    },
    [first, second],
  );
}

describe.each(sizes)("the address step on a %s", (size, viewport) => {
  it("gives a euro cart in a German browser a German address form and German amounts", async () => {
    const { app, browser } = shop();
    const { page, errors } = await shopperPage(browser, { locale: "de-DE", currency: "EUR", viewport });
    await addToCart(page, app.url, "ceramic-mug", "1");
    // Euros for a German reader: the amount, a comma, two decimals, a space, the sign.
    expect(await page.getByTestId("product-price").textContent()).toMatch(/^\d+,\d{2}\u00a0€$/);

    await page.goto(`${app.url}/checkout`);
    await page.locator("#country").waitFor();
    expect(await page.locator("#country").inputValue()).toBe("DE");
    expect(await page.locator("#region").count()).toBe(0);
    expect(await labelOf(page, "postalCode").textContent()).toBe("Postcode");
    expect(await labelOf(page, "city").textContent()).toBe("City");
    expect(await comesBefore(page, "#postalCode", "#city")).toBe(true);
    const summaryAmounts = await page.getByTestId("checkout-summary").locator(".money").allTextContents();
    expect(summaryAmounts.length).toBeGreaterThan(0);
    for (const amount of summaryAmounts) expect(amount).toMatch(/^-?\d{1,3}(\.\d{3})*,\d{2}\u00a0€$/);

    // Passing through an empty field says nothing; a wrong postcode is named as the shopper leaves it.
    await page.locator("#line1").focus();
    await page.locator("#line1").blur();
    expect(await errorOf(page, "line1").count()).toBe(0);
    await typeAndLeave(page, "#postalCode", "1011");
    await expect.poll(() => errorOf(page, "postalCode").textContent()).toBe("Enter a valid Germany postcode, for example 10117");
    expect(await page.locator("#postalCode").getAttribute("aria-invalid")).toBe("true");
    await typeAndLeave(page, "#postalCode", "");
    await expect.poll(() => errorOf(page, "postalCode").textContent()).toBe("Enter a postcode");
    await typeAndLeave(page, "#city", "Berlin");
    await typeAndLeave(page, "#city", "");
    await expect.poll(() => errorOf(page, "city").textContent()).toBe("Enter a city");
    await page.screenshot({ path: path.join(screenshots, `locale-address-german-errors-${size}.png`), fullPage: true });
    await expectAxeClean(page, `the German address step with field errors (${size})`);

    // Fixing a field clears its message as it is typed, before leaving it.
    await page.locator("#postalCode").fill("10117");
    await expect.poll(() => errorOf(page, "postalCode").count()).toBe(0);
    await page.locator("#city").fill("Berlin");
    await expect.poll(() => errorOf(page, "city").count()).toBe(0);
    await expectAxeClean(page, `the German address step, filled in (${size})`);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it("asks a US address for a State and a ZIP code, and refuses a Texas ZIP code for California in the form and in the API", async () => {
    const { app, browser } = shop();
    const { page, errors } = await shopperPage(browser, { locale: "en-US", currency: "USD", viewport });
    await addToCart(page, app.url, "ceramic-mug", "1");
    await page.goto(`${app.url}/checkout`);
    await page.locator("#country").waitFor();
    expect(await page.locator("#country").inputValue()).toBe("US");
    expect(await labelOf(page, "region").textContent()).toBe("State");
    expect(await labelOf(page, "postalCode").textContent()).toBe("ZIP code");
    // The ZIP code first: the city and state are then filled in from it.
    expect(await comesBefore(page, "#postalCode", "#city")).toBe(true);
    expect(await comesBefore(page, "#city", "#region")).toBe(true);
    expect(await page.locator('#region option[value="CA"]').textContent()).toBe("California");
    for (const amount of await page.getByTestId("checkout-summary").locator(".money").allTextContents()) expect(amount).toMatch(/^-?\$\d{1,3}(,\d{3})*\.\d{2}$/);

    await page.locator("#email").fill("ada@example.com");
    await page.locator("#name").fill("Ada Lovelace");
    await page.locator("#line1").fill("500 Howard St");
    await page.locator("#city").fill("San Francisco");
    await page.locator("#region").selectOption("CA");
    await typeAndLeave(page, "#postalCode", "75001");
    await expect.poll(() => errorOf(page, "postalCode").textContent()).toBe("Enter a ZIP code for California: 75001 is in Texas");
    await page.screenshot({ path: path.join(screenshots, `locale-address-us-zip-state-${size}.png`), fullPage: true });
    await expectAxeClean(page, `the US address step with a ZIP code of another state (${size})`);

    // The check follows the state: Texas takes 75001, and California's own ZIP code is taken.
    await page.locator("#region").selectOption("TX");
    await expect.poll(() => errorOf(page, "postalCode").count()).toBe(0);
    await page.locator("#region").selectOption("CA");
    await expect.poll(() => errorOf(page, "postalCode").textContent()).toBe("Enter a ZIP code for California: 75001 is in Texas");
    await typeAndLeave(page, "#postalCode", "");
    await expect.poll(() => errorOf(page, "postalCode").textContent()).toBe("Enter a ZIP code");

    // The API holds the same rule for any client: refused with the same words, then the right ZIP code is taken.
    const cartId = await page.evaluate(() => window.localStorage.getItem("checkout.cartId"));
    const address = { name: "Ada Lovelace", line1: "500 Howard St", city: "San Francisco", region: "CA", postalCode: "75001", country: "US" };
    const refused = await setShippingAddress(app.url, { cartId, address });
    expect(refused.status).toBe(400);
    expect(refused.body.error?.data.issues).toEqual([{ path: "address.postalCode", message: "Enter a ZIP code for California: 75001 is in Texas" }]);
    const taken = await setShippingAddress(app.url, { cartId, address: { ...address, postalCode: "94105" } });
    expect(taken.status).toBe(200);

    await page.locator("#postalCode").fill("94105");
    await expect.poll(() => errorOf(page, "postalCode").count()).toBe(0);
    await expectAxeClean(page, `the US address step, filled in (${size})`);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});

async function setShippingAddress(appUrl: string, input: unknown) {
  const response = await fetch(`${appUrl}/trpc/checkout.setShippingAddress`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(input) });
  return { status: response.status, body: (await response.json()) as { error?: { data: { issues?: { path: string; message: string }[] } } } };
}

describe("the country a new address starts on", () => {
  it.each([
    ["fr-FR", "EUR", "FR"],
    ["en-US", "EUR", "DE"],
  ])("is, in a %s browser with a %s cart, %s", async (locale, currency, country) => {
    const { app, browser } = shop();
    const { page, errors } = await shopperPage(browser, { locale, currency: currency as "EUR", viewport: sizes[0][1] });
    await addToCart(page, app.url, "ceramic-mug", "1");
    await page.goto(`${app.url}/checkout`);
    await page.locator("#country").waitFor();
    expect(await page.locator("#country").inputValue()).toBe(country);
    // The shopper can still ship elsewhere: switching to the US brings its State and ZIP code.
    await page.locator("#country").selectOption("US");
    expect(await labelOf(page, "postalCode").textContent()).toBe("ZIP code");
    expect(await page.locator("#region").count()).toBe(1);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});

describe("the shared formatting helpers", () => {
  const when = new Date("2026-12-03T14:05:00Z");

  it("format amounts in minor units for the reader's language", () => {
    expect(formatMoney(1250, "EUR", "de-DE")).toBe("12,50\u00a0€");
    expect(formatMoney(1250, "EUR", "en-US")).toBe("€12.50");
    expect(formatMoney(123456, "USD", "en-US")).toBe("$1,234.56");
    expect(formatMoney(1250, "EUR", "not a language tag!")).toBe("€12.50");
  });

  it("format dates and times for the reader's language", () => {
    const options = { timeZone: "UTC" };
    expect(formatTime(when, "de-DE", options)).toBe("14:05");
    // ICU versions differ on the space before PM (a narrow no-break space or a plain one).
    expect(formatTime(when, "en-US", options)).toMatch(/^2:05\sPM$/);
    expect(formatDateTime(when, "de-DE", options)).toBe("3. Dezember 2026 um 14:05");
    expect(formatDateTime(when, "en-US", options)).toMatch(/^December 3, 2026(,| at) 2:05\sPM$/);
  });
});
