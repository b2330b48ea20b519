// The catalogue a page at a time in real Chromium: the first page, "Show more products" with focus on the first product
// it added, a category filter and a search, against a shop with more products than one page holds.
import { describe, expect, it } from "vitest";
import { newPhonePage, setUpShop } from "./shop-harness.ts";

const shop = setUpShop();
const EXTRA = 30;

describe("the catalogue in pages", () => {
  it("shows a page, loads the next with Show more products, and filters by category and search", async () => {
    const { app, database, browser } = shop();
    for (let n = 1; n <= EXTRA; n += 1) {
      const id = `desk-lamp-${n}`;
      const sku = `LAMP-${n}`;
      await database.db
        .insertInto("product")
        .values({
          id,
          name: `Desk Lamp ${n}`,
          description: "A brass desk lamp with a linen shade.",
          category: "Lighting",
          image: "/images/products/everyday-tee.svg",
          position: 100 + n,
        })
        .execute();
      await database.db
        .insertInto("variant")
        .values({ sku, product_id: id, name: "Default", options: JSON.stringify({}), weight_grams: 900, position: 0 })
        .execute();
      await database.db
        .insertInto("price")
        .values([
          { sku, currency: "USD", amount: 6500 },
          { sku, currency: "EUR", amount: 6000 },
        ])
        .execute();
      await database.db.insertInto("inventory").values({ sku, available: 5 }).execute();
    }
    const total = Number(
      (
        await database.db
          .selectFrom("product")
          .select((eb) => eb.fn.countAll().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    );

    const { page, errors } = await newPhonePage(browser, [{ status: 400, path: "/trpc/catalog.list" }]);
    await page.goto(app.url);
    const cards = page.getByTestId("product-card");
    await cards.first().waitFor();
    await expect.poll(() => cards.count()).toBe(24);

    const more = page.getByRole("button", { name: "Show more products" });
    await more.click();
    await expect.poll(() => cards.count()).toBe(total);
    // Focus moves to the first product the click added, not back to the top of the page.
    const focused = await page.evaluate(() => document.activeElement?.getAttribute("href"));
    expect(focused).toBe(await cards.nth(24).getAttribute("href"));
    await expect.poll(() => more.count()).toBe(0);

    await page.getByLabel("Category").selectOption("Lighting");
    await expect.poll(() => cards.count()).toBe(24);
    await expect.poll(async () => (await cards.allTextContents()).every((text) => text.includes("Lighting"))).toBe(true);
    await page.getByRole("button", { name: "Show more products" }).click();
    await expect.poll(() => cards.count()).toBe(EXTRA);

    await page.getByLabel("Category").selectOption("");
    const search = page.getByLabel("Search products");
    await search.fill("ceramic");
    await search.press("Enter");
    // The unfiltered list also holds the mug, so wait for the searched list as a whole: the mug in it, the lamp gone.
    await expect
      .poll(async () => {
        const texts = await cards.allTextContents();
        return {
          mug: texts.some((text) => text.includes("Ceramic Mug")),
          lamp: texts.some((text) => text.includes("Desk Lamp")),
        };
      })
      .toEqual({ mug: true, lamp: false });

    // Too short to search: the form says so and asks nothing of the API.
    await search.fill("ab");
    await search.press("Enter");
    await expect.poll(() => page.locator("#catalog-search-error").textContent()).toMatch(/at least 3 characters/);
    expect(errors).toEqual([]);
  });
});
