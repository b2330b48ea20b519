// The hosted card field with the keyboard alone, on a phone and on a desktop: focus goes only where Tab sends it,
// each part lands in its own input, a CVC of letters, a CVC too long for the brand and a past expiry are flagged
// while the shopper is still in the field, in the field's own words; the brand is named as it is recognised, the
// accepted brands are drawn, a secure-payment note sits by the field, and the frame takes the page's type.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { Frame, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { expectNoAxeViolations } from "./axe.ts";
import { addToCart, checkoutUpToPayment, newPhonePage, screenshots, setUpShop, type Size, usShopper, VIEWPORTS } from "./shop-harness.ts";

const shop = setUpShop();

const SIZES = (Object.keys(VIEWPORTS) as Size[]).map((name) => ({ name, ...VIEWPORTS[name] }));

async function cardFrame(page: Page): Promise<Frame> {
  const frame = await (await page.locator("[data-testid=card-frame]").elementHandle())?.contentFrame();
  if (!frame) throw new Error("The card field's frame is not there");
  return frame;
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/**
 * axe inside the card frame (the page's own run does not reach into it), every rule the page gets except the three
 * that judge a whole page (one main landmark, a level-one heading, all content in landmarks): the frame is a part of
 * the checkout page, inside its main landmark, and the page is checked as a page.
 */
async function frameAxeViolations(frame: Frame): Promise<string[]> {
  await frame.evaluate(axeSource);
  return frame.evaluate(async () => {
    type Result = { violations: { id: string; impact: string | null; nodes: { target: unknown[] }[] }[] };
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<Result> } }).axe;
    const { violations } = await axe.run(document, {
      resultTypes: ["violations"],
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] },
      rules: { "landmark-one-main": { enabled: false }, "page-has-heading-one": { enabled: false }, region: { enabled: false } },
    });
    return violations.map((v) => `${v.impact} ${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  });
}

/** The id of the input that has the keyboard inside the card frame, or null when the frame does not have it. */
async function focusedInput(page: Page, frame: Frame): Promise<string | null> {
  const pageFocus = await page.evaluate(() => document.activeElement?.getAttribute("data-testid") ?? null);
  if (pageFocus !== "card-frame") return null;
  return frame.evaluate(() => (document.hasFocus() ? (document.activeElement?.id ?? null) : null));
}

async function fieldState(frame: Frame, id: string): Promise<{ value: string; invalid: string | null; error: string }> {
  return frame.evaluate((inputId) => {
    const input = document.getElementById(inputId) as HTMLInputElement;
    const errorId = (input.getAttribute("aria-describedby") ?? "").split(" ").find((ref) => ref.endsWith("-error")) ?? "";
    return { value: input.value, invalid: input.getAttribute("aria-invalid"), error: document.getElementById(errorId)?.textContent ?? "" };
  }, id);
}

describe("the card field with the keyboard alone", () => {
  for (const viewport of SIZES) {
    it(`goes where Tab says and flags a bad CVC or a past expiry at once (${viewport.name})`, async () => {
      const { app, browser } = shop();
      const { page, errors } = await newPhonePage(browser);
      await page.setViewportSize({ width: viewport.width, height: viewport.height });
      const shot = (step: string) => page.screenshot({ path: path.join(screenshots, `card-field-${step}-${viewport.name}.png`), fullPage: true });

      await addToCart(page, app.url, "ceramic-mug", "1");
      await checkoutUpToPayment(page, app.url, usShopper(`card-field-${viewport.name}@example.com`));
      const frameLocator = page.frameLocator("[data-testid=card-frame]");
      await frameLocator.getByLabel("Card number").waitFor();
      await page.locator(".card-field__frame--loading").waitFor({ state: "detached" });
      const frame = await cardFrame(page);
      // The payment step as the shopper sees it: the card field in the middle of the screen.
      await page.locator(".card-field").evaluate((element) => element.scrollIntoView({ block: "center" }));

      // Trust: the note by the field and the accepted brands, drawn inside the frame.
      await expect.poll(() => page.getByTestId("card-secure-note").textContent()).toBe("Secure, encrypted card payment");
      const brands = frameLocator.getByRole("list", { name: "Accepted cards" });
      for (const brand of ["Visa", "Mastercard", "American Express"]) expect(await brands.getByRole("img", { name: brand }).count()).toBe(1);

      // The frame's inputs use the page's type and colour.
      const pageType = await page.locator(".card-field").evaluate((element) => {
        const style = getComputedStyle(element);
        return { font: style.fontFamily, color: style.color };
      });
      const fieldType = await frame.evaluate(() => {
        const style = getComputedStyle(document.getElementById("card-number") as HTMLElement);
        return { font: style.fontFamily, color: style.color };
      });
      expect(fieldType).toEqual(pageType);
      await shot("empty");
      await expectNoAxeViolations(page, `the payment step (${viewport.name})`);
      expect(await frameAxeViolations(frame)).toEqual([]);

      // 16 digits: the brand is named, and the keyboard stays in the card number.
      await frameLocator.getByLabel("Card number").focus();
      await page.keyboard.type("4242424242424242");
      expect(await fieldState(frame, "card-number")).toEqual({ value: "4242 4242 4242 4242", invalid: "false", error: "" });
      expect(await frameLocator.locator("#card-number-brand").textContent()).toBe("Visa");
      expect(await focusedInput(page, frame)).toBe("card-number");
      await shot("number");

      // Tab goes to the expiry, the expiry goes in the expiry, Tab goes to the CVC.
      await page.keyboard.press("Tab");
      expect(await focusedInput(page, frame)).toBe("card-expiry");
      await page.keyboard.type("1234");
      expect(await fieldState(frame, "card-expiry")).toEqual({ value: "12/34", invalid: "false", error: "" });
      expect(await focusedInput(page, frame)).toBe("card-expiry");
      await page.keyboard.press("Tab");
      expect(await focusedInput(page, frame)).toBe("card-cvc");

      // Letters in the CVC are flagged while the shopper is still in it.
      await page.keyboard.type("abc");
      expect(await focusedInput(page, frame)).toBe("card-cvc");
      expect(await fieldState(frame, "card-cvc")).toEqual({
        value: "abc",
        invalid: "true",
        error: "The CVC takes digits only. Enter the 3-digit CVC on the back of your card.",
      });
      expect(await fieldState(frame, "card-expiry")).toMatchObject({ value: "12/34", invalid: "false" });
      await shot("cvc-letters");

      // Four digits are not a Visa CVC.
      for (let i = 0; i < 3; i++) await page.keyboard.press("Backspace");
      await page.keyboard.type("1234");
      expect(await fieldState(frame, "card-cvc")).toEqual({ value: "1234", invalid: "true", error: "Enter the 3-digit CVC on the back of your card." });
      await page.keyboard.press("Backspace");
      expect(await fieldState(frame, "card-cvc")).toEqual({ value: "123", invalid: "false", error: "" });
      await expect.poll(() => page.locator(".card-field__status").textContent()).toBe("✓ Visa card details complete");

      // Back to the expiry with Shift+Tab: a past date is flagged at once, and the card is no longer complete.
      await page.keyboard.press("Shift+Tab");
      expect(await focusedInput(page, frame)).toBe("card-expiry");
      await page.keyboard.press("ControlOrMeta+A");
      await page.keyboard.type("0120");
      expect(await focusedInput(page, frame)).toBe("card-expiry");
      expect(await fieldState(frame, "card-expiry")).toEqual({
        value: "01/20",
        invalid: "true",
        error: "This expiry date is in the past. Enter the date printed on your card (MM/YY).",
      });
      await expect.poll(() => page.locator(".card-field__status").textContent()).toBe("");
      await shot("expiry-past");
      await expectNoAxeViolations(page, `the payment step with a card error (${viewport.name})`);
      expect(await frameAxeViolations(frame)).toEqual([]);

      await page.keyboard.press("ControlOrMeta+A");
      await page.keyboard.type("1234");
      expect(await fieldState(frame, "card-expiry")).toEqual({ value: "12/34", invalid: "false", error: "" });
      await expect.poll(() => page.locator(".card-field__status").textContent()).toBe("✓ Visa card details complete");
      await shot("complete");
      expect(errors).toEqual([]);
      await page.context().close();
    });
  }

  it("shows every field's message and takes the focus when the page asks, and ignores a page style it cannot trust", async () => {
    const { app, browser } = shop();
    const { page, errors } = await newPhonePage(browser);
    await addToCart(page, app.url, "ceramic-mug", "1");
    await checkoutUpToPayment(page, app.url, usShopper("card-field-commands@example.com"));
    await page.frameLocator("[data-testid=card-frame]").getByLabel("Card number").waitFor();
    await page.locator(".card-field__frame--loading").waitFor({ state: "detached" });
    const frame = await cardFrame(page);

    // What CardField's handle sends: validate() before paying with an empty card, then focus().
    const send = (type: string) =>
      page.evaluate((messageType) => {
        const iframe = document.querySelector<HTMLIFrameElement>("[data-testid=card-frame]");
        iframe?.contentWindow?.postMessage({ type: messageType }, new URL(iframe.src).origin);
      }, type);
    await send("sandbox:validate");
    await expect.poll(() => fieldState(frame, "card-number")).toEqual({ value: "", invalid: "true", error: "Enter your card number." });
    expect(await fieldState(frame, "card-expiry")).toEqual({ value: "", invalid: "true", error: "Enter the expiry date (MM/YY)." });
    expect(await fieldState(frame, "card-cvc")).toEqual({ value: "", invalid: "true", error: "Enter the CVC." });
    await page.locator("[data-testid=card-frame]").focus();
    await send("sandbox:focus");
    await expect.poll(() => focusedInput(page, frame)).toBe("card-number");
    await page.screenshot({ path: path.join(screenshots, "card-field-validate-phone.png"), fullPage: true });

    // The same field with a page style that is not a font, a size or a colour: each such value is dropped.
    const src = await page.locator("[data-testid=card-frame]").getAttribute("src");
    const hostile = `${src?.split("#")[0]}#${new URLSearchParams({ font: "Georgia, serif", size: "99px", ink: "url(https://example.com/x)", danger: "red;x:y" })}`;
    const fieldPage = await page.context().newPage();
    await fieldPage.goto(hostile);
    const style = await fieldPage.evaluate(() => {
      const root = getComputedStyle(document.documentElement);
      return { font: root.fontFamily, size: root.fontSize, ink: root.getPropertyValue("--ink").trim(), danger: root.getPropertyValue("--danger").trim() };
    });
    expect(style).toEqual({ font: "Georgia, serif", size: "16px", ink: "#1a1f36", danger: "#b3123a" });
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
