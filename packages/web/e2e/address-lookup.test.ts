// A US shopper's address in real Chromium, on a phone and a desktop: the form asks the ZIP code first and fills in the
// city and state from it (the API's offline lookup), so the fields a shopper must type to buy are 7 (email, name,
// address line, ZIP code, card number, expiry, CVC): within Baymard's achievable 8. The address line completes the
// place after a comma ("500 Howard St, San Fr") as a combobox driven by the keyboard; what the shopper typed is never
// overwritten; a German address gets no lookup at all; axe finds nothing in any of these states.
import path from "node:path";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { expectNoAxeViolations } from "./axe.ts";
import { addToCart, newShopperPage, screenshots, setUpShop, type Size, VIEWPORTS, waitForTotals } from "./shop-harness.ts";

const shop = setUpShop();

/** A US shopper's page: the form's language and formats are the United States'. */
const shopperPage = (size: Size) => newShopperPage(shop().browser, { viewport: VIEWPORTS[size], locale: "en-US" });

async function shot(page: Page, step: string, size: Size): Promise<void> {
  await page.screenshot({ path: path.join(screenshots, `address-lookup-${step}-${size}.png`) });
}

/** The checkout form's visible required fields that are still empty, by id, in page order. */
async function emptyRequiredFields(page: Page): Promise<string[]> {
  return page
    .locator("form input[required], form select[required]")
    .evaluateAll((fields) => (fields as HTMLInputElement[]).filter((field) => field.offsetParent !== null && field.value.trim() === "").map((field) => field.id));
}

/** Types into a field the way a shopper does, and records that the shopper had to. */
async function type(page: Page, typed: string[], selector: string, text: string): Promise<void> {
  await page.locator(selector).click();
  await page.locator(selector).pressSequentially(text);
  typed.push(selector);
}

const lookupRequests = (page: Page) => {
  const seen: string[] = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith("/trpc/address.")) seen.push(url.pathname.slice("/trpc/".length));
  });
  return seen;
};

describe.each(["phone", "desktop"] as const)("a US shopper on a %s", (size) => {
  it("types 7 fields to buy: the city and state come from the ZIP code, asked before them", async () => {
    const { app, database } = shop();
    const { page, errors } = await shopperPage(size);
    await addToCart(page, app.url, "ceramic-mug", "1");
    await page.goto(`${app.url}/checkout`);
    await page.locator("#email").waitFor();

    // Before typing: what the form requires (the country is already the United States).
    expect(await emptyRequiredFields(page)).toEqual(["email", "name", "line1", "postalCode", "city", "region"]);

    const typed: string[] = [];
    await type(page, typed, "#email", `fewest-${size}@example.com`);
    await type(page, typed, "#name", "Grace Hopper");
    await type(page, typed, "#line1", "500 Howard St");
    await type(page, typed, "#postalCode", "94105");
    await expect.poll(() => page.locator("#city").inputValue()).toBe("San Francisco");
    expect(await page.locator("#region").inputValue()).toBe("CA");
    await expect.poll(() => page.getByText("City and state filled in from the ZIP code: San Francisco, CA.").count()).toBe(1);
    expect(await emptyRequiredFields(page)).toEqual([]);
    // Focus stayed where the shopper was typing.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("postalCode");
    await expectNoAxeViolations(page, `${size}: city and state filled in from the ZIP code`);
    await shot(page, "zip-filled", size);

    // The card: number, expiry, CVC.
    const frame = page.frameLocator("[data-testid=card-frame]");
    for (const [label, text] of [
      ["Card number", "4242424242424242"],
      [/Expiry/, "1234"],
      ["CVC", "123"],
    ] as const) {
      await frame.getByLabel(label).click();
      await frame.getByLabel(label).pressSequentially(text);
      typed.push(String(label));
    }
    expect(typed).toHaveLength(7);
    expect(typed.length).toBeLessThanOrEqual(8);

    await waitForTotals(page);
    await page.getByTestId("place-order").click();
    await page.waitForURL(/\/orders#[0-9a-f-]{36}$/, { timeout: 20_000 });
    const number = (await page.getByTestId("order-number").textContent())?.trim() ?? "";
    const order = await database.db.selectFrom("order").select(["shipping_address", "status"]).where("number", "=", number).executeTakeFirstOrThrow();
    expect(order.status).toBe("captured");
    expect(order.shipping_address).toMatchObject({ line1: "500 Howard St", city: "San Francisco", region: "CA", postalCode: "94105", country: "US" });
    expect(errors).toEqual([]);
  });

  it("completes the place after a comma with the keyboard, never overwrites what the shopper typed, and corrects what it filled", async () => {
    const { app } = shop();
    const { page, errors } = await shopperPage(size);
    await addToCart(page, app.url, "ceramic-mug", "1");
    await page.goto(`${app.url}/checkout`);
    const line1 = page.locator("#line1");
    await line1.click();
    await line1.pressSequentially("500 Howard St, San Fr");

    const options = page.getByRole("listbox", { name: "Address suggestions" }).getByRole("option");
    await expect.poll(() => line1.getAttribute("aria-expanded")).toBe("true");
    expect(await line1.getAttribute("role")).toBe("combobox");
    expect((await options.allTextContents())[0]).toBe("500 Howard St, San Francisco, CA");
    await expectNoAxeViolations(page, `${size}: address suggestions open`);
    await shot(page, "suggestions", size);

    // Down selects the first; Enter takes it without sending the form.
    await page.keyboard.press("ArrowDown");
    expect(await line1.getAttribute("aria-activedescendant")).toBe("line1-suggestions-0");
    expect(await options.first().getAttribute("aria-selected")).toBe("true");
    await page.keyboard.press("Enter");
    await expect.poll(() => line1.inputValue()).toBe("500 Howard St");
    expect(await page.locator("#city").inputValue()).toBe("San Francisco");
    expect(await page.locator("#region").inputValue()).toBe("CA");
    // San Francisco has many ZIP codes: the shopper is told to add one, and nothing else changed.
    expect(await page.locator("#postalCode").inputValue()).toBe("");
    await expect.poll(() => page.getByText("Filled in 500 Howard St, San Francisco, CA. Add the ZIP code.").count()).toBe(1);
    expect(await line1.getAttribute("aria-expanded")).toBe("false");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("line1");
    expect(await page.locator("#email[aria-invalid=true]").count()).toBe(0);

    // What it filled, it corrects when the ZIP code says otherwise.
    await page.locator("#postalCode").fill("10001");
    await expect.poll(() => page.locator("#city").inputValue()).toBe("New York");
    expect(await page.locator("#region").inputValue()).toBe("NY");

    // What the shopper typed stays: a city of their own is kept when the ZIP code changes.
    await page.locator("#city").fill("Manhattan");
    const answered = page.waitForResponse((response) => response.url().includes("/trpc/address.locality") && (response.request().postData() ?? "").includes("10002"));
    await page.locator("#postalCode").fill("10002");
    await answered;
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    expect(await page.locator("#city").inputValue()).toBe("Manhattan");
    expect(await page.locator("#region").inputValue()).toBe("NY");

    // Escape closes the list; Tab leaves the field without taking a suggestion.
    await line1.fill("");
    await line1.pressSequentially("1 Main St, Springfield");
    await expect.poll(() => line1.getAttribute("aria-expanded")).toBe("true");
    await page.keyboard.press("Escape");
    expect(await line1.getAttribute("aria-expanded")).toBe("false");
    await page.keyboard.press("ArrowDown");
    expect(await line1.getAttribute("aria-expanded")).toBe("true");
    await page.keyboard.press("Tab");
    expect(await line1.getAttribute("aria-expanded")).toBe("false");
    expect(await line1.inputValue()).toBe("1 Main St, Springfield");
    expect(errors).toEqual([]);
  });
});

describe("a German address", () => {
  it("asks the lookup nothing: no ZIP code lookup, no completions, the form as it was", async () => {
    const { app } = shop();
    const { page, errors } = await shopperPage("phone");
    const asked = lookupRequests(page);
    await addToCart(page, app.url, "ceramic-mug", "1");
    await page.goto(`${app.url}/checkout`);
    await page.locator("#country").selectOption("DE");
    await page.locator("#line1").click();
    await page.locator("#line1").pressSequentially("Unter den Linden 6, Berlin");
    await page.locator("#postalCode").fill("10117");
    await page.waitForTimeout(600);
    expect(await page.locator("#line1").getAttribute("role")).toBeNull();
    expect(await page.locator("#city").inputValue()).toBe("");
    expect(asked).toEqual([]);
    expect(errors).toEqual([]);
  });
});
