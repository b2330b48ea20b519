import { describe, expect, it } from "vitest";
import { escapeHtml, orderUrl, render, type ConfirmationView } from "./order-confirmation-email.ts";

const view: ConfirmationView = {
  orderId: "5f0c6f2e-1f7c-4c55-8a0e-0d6f4b1c2a3b",
  number: "100042",
  email: "ada@example.com",
  currency: "USD",
  lines: [
    { productName: "Everyday Tee", variantName: "Black / M", quantity: 2, unitPrice: 2500, lineTotal: 5000 },
    { productName: "Mug <script>alert(1)</script>", variantName: "White & Blue", quantity: 1, unitPrice: 1400, lineTotal: 1400 },
  ],
  subtotal: 6400,
  discount: 640,
  promoCode: "WELCOME10",
  shipping: 500,
  shippingOptionName: "Standard",
  tax: 473,
  isTaxInclusive: false,
  total: 6733,
  shippingAddress: { name: 'Ada "The Countess" Lovelace', line1: "500 Howard St", city: "San Francisco", region: "CA", postalCode: "94105", country: "US" },
};

describe("render", () => {
  const email = render(view, { publicUrl: "https://shop.example/" });

  it("addresses the shopper and names the order number in the subject, HTML and text", () => {
    expect(email.to).toBe("ada@example.com");
    expect(email.subject).toBe("Order 100042 confirmed");
    expect(email.html).toContain("100042");
    expect(email.text).toContain("Order number: 100042");
  });

  it("lists every line and every total, shipping and tax included", () => {
    for (const part of [email.text, email.html]) {
      expect(part).toContain("Everyday Tee");
      expect(part).toContain("$50.00");
      expect(part).toContain("$64.00");
      expect(part).toContain("$6.40");
      expect(part).toContain("WELCOME10");
      expect(part).toContain("$5.00");
      expect(part).toContain("$4.73");
      expect(part).toContain("$67.33");
      expect(part).toContain("San Francisco, CA 94105");
      expect(part).toContain("United States");
    }
    expect(email.text).toContain("Shipping (Standard): $5.00");
    expect(email.text).toContain("Tax: $4.73");
    expect(email.text).toContain("Total: $67.33");
  });

  it("links to the order page under PUBLIC_URL", () => {
    const link = "https://shop.example/orders#5f0c6f2e-1f7c-4c55-8a0e-0d6f4b1c2a3b";
    expect(email.text).toContain(link);
    expect(email.html).toContain(`href="${link}"`);
  });

  it("escapes what the shopper and the catalogue typed in the HTML, and leaves the text as typed", () => {
    expect(email.html).not.toContain("<script>");
    expect(email.html).toContain("Mug &#60;script&#62;alert(1)&#60;/script&#62;");
    expect(email.html).toContain("White &#38; Blue");
    expect(email.html).toContain("Ada &#34;The Countess&#34; Lovelace");
    expect(email.text).toContain('Ada "The Countess" Lovelace');
  });

  it("says tax is included rather than added for tax-inclusive prices", () => {
    const eur = render({ ...view, currency: "EUR", isTaxInclusive: true, discount: 0, promoCode: null }, { publicUrl: "https://shop.example" });
    expect(eur.text).toContain("Includes tax: €4.73");
    expect(eur.text).not.toContain("Discount");
  });
});

describe("render, the address", () => {
  it("writes a German address as its post office does: postcode before the city, the country by name", () => {
    const berlin = { ...view, shippingAddress: { name: "Ada Lovelace", line1: "Unter den Linden 6", city: "Berlin", postalCode: "10117", country: "DE" as const } };
    const { text } = render(berlin, { publicUrl: "https://shop.example/" });
    expect(text).toContain("10117 Berlin");
    expect(text).not.toContain("Berlin 10117");
    expect(text).toContain("Germany");
  });
});

describe("escapeHtml", () => {
  it("escapes the five characters that matter in text and attributes", () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe("&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;&#60;/a&#62;");
  });
});

describe("orderUrl", () => {
  it("joins without a double slash and encodes the id", () => {
    expect(orderUrl("http://localhost:3000/", "a/b")).toBe("http://localhost:3000/orders#a%2Fb");
  });
});
