import { describe, expect, it } from "vitest";
import type { Step } from "./script-types.ts";
import { compileTemplate, compileValue, listTemplateVariables, renderRequestStep, renderTemplate, renderValue, TemplateRenderError, TemplateSyntaxError } from "./template.ts";

describe("compileTemplate", () => {
  it("splits text and placeholders, trimming spaces inside the braces", () => {
    expect(compileTemplate("/orders/{{orderId}}/lines/{{ lineId }}").parts).toEqual([
      { kind: "text", text: "/orders/" },
      { kind: "variable", name: "orderId" },
      { kind: "text", text: "/lines/" },
      { kind: "variable", name: "lineId" },
    ]);
  });

  it("parses helper calls with their arguments", () => {
    expect(compileTemplate("{{ $randomNumber(1, 100) }}{{ $randomString() }}").parts).toEqual([
      { kind: "helper", name: "randomNumber", args: [1, 100] },
      { kind: "helper", name: "randomString", args: [] },
    ]);
  });

  it("rejects unclosed braces, unknown helpers, wrong arities and expressions", () => {
    expect(() => compileTemplate("/orders/{{ id")).toThrow(TemplateSyntaxError);
    expect(() => compileTemplate("{{ $now() }}")).toThrow(/unknown helper \$now\(\)/);
    expect(() => compileTemplate("{{ $randomNumber(5) }}")).toThrow(/takes 2 arguments, got 1/);
    expect(() => compileTemplate("{{ $uuid(1) }}")).toThrow(/takes 0 arguments/);
    expect(() => compileTemplate("{{ $randomNumber(9, 1) }}")).toThrow(/min <= max/);
    expect(() => compileTemplate("{{ a + b }}")).toThrow(/neither a variable name nor a \$helper\(\) call/);
  });
});

describe("listTemplateVariables", () => {
  it("lists variables but not helpers", () => {
    expect(listTemplateVariables(compileTemplate("{{ sku }}-{{ $uuid() }}-{{ qty }}"))).toEqual(["sku", "qty"]);
  });
});

describe("renderTemplate", () => {
  it("substitutes variables, stringifying numbers and objects", () => {
    const template = compileTemplate("/carts/{{ cartId }}?n={{ n }}&o={{ o }}");
    expect(renderTemplate(template, { cartId: "c_1", n: 3, o: { a: 1 } })).toBe('/carts/c_1?n=3&o={"a":1}');
  });

  it("throws a TemplateRenderError naming a variable the virtual user does not have", () => {
    const template = compileTemplate("/orders/{{ orderId }}");
    expect(() => renderTemplate(template, {})).toThrow(TemplateRenderError);
    expect(() => renderTemplate(template, { orderId: undefined })).toThrow(expect.objectContaining({ variable: "orderId" }));
  });

  it("renders helpers fresh each time", () => {
    const template = compileTemplate("{{ $randomString() }}|{{ $randomString(8) }}|{{ $uuid() }}|{{ $randomNumber(1, 3) }}|{{ $timestamp() }}");
    const before = Date.now();
    const [short, eight, uuid, number, timestamp] = renderTemplate(template, {}).split("|");
    expect(short).toMatch(/^[A-Za-z0-9]{10}$/);
    expect(eight).toMatch(/^[A-Za-z0-9]{8}$/);
    expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(["1", "2", "3"]).toContain(number);
    expect(Number(timestamp)).toBeGreaterThanOrEqual(before);
    const numbers = new Set(Array.from({ length: 200 }, () => renderTemplate(compileTemplate("{{ $randomNumber(1, 3) }}"), {})));
    expect([...numbers].sort()).toEqual(["1", "2", "3"]);
  });
});

describe("compileValue", () => {
  it("keeps values without placeholders as constants, by reference", () => {
    const body = { items: [{ sku: "TEE-M", quantity: 2 }] };
    const compiled = compileValue(body);
    expect(compiled).toEqual({ kind: "constant", value: body });
  });

  it("compiles only the strings that have placeholders", () => {
    const compiled = compileValue({ sku: "{{ sku }}", quantity: 2 });
    expect(compiled.kind).toBe("object");
  });
});

describe("renderValue", () => {
  it("renders deep values and keeps a single placeholder's type", () => {
    const compiled = compileValue({ cartId: "{{ cartId }}", lines: [{ sku: "{{ sku }}", quantity: "{{ quantity }}", note: "x{{ quantity }}" }], fixed: true });
    expect(renderValue(compiled, { cartId: 41, sku: "MUG", quantity: 2 })).toEqual({
      cartId: 41,
      lines: [{ sku: "MUG", quantity: 2, note: "x2" }],
      fixed: true,
    });
  });
});

describe("renderRequestStep", () => {
  it("renders url, json, qs and headers from a virtual user's bag", () => {
    const step: Extract<Step, { kind: "request" }> = {
      kind: "request",
      method: "POST",
      url: "/carts/{{ cartId }}/lines",
      json: { sku: "{{ sku }}", idempotencyKey: "{{ $uuid() }}" },
      qs: { currency: "{{ currency }}" },
      headers: { authorization: "Bearer {{ token }}", "x-static": "1" },
    };
    const rendered = renderRequestStep(step, { cartId: "c_9", sku: "TEE-M", currency: "EUR", token: "t0k" });
    expect(rendered.url).toBe("/carts/c_9/lines");
    expect(rendered.json).toMatchObject({ sku: "TEE-M", idempotencyKey: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(rendered.qs).toEqual({ currency: "EUR" });
    expect(rendered.headers).toEqual({ authorization: "Bearer t0k", "x-static": "1" });
    expect(() => renderRequestStep(step, { cartId: "c_9", sku: "TEE-M", currency: "EUR" })).toThrow(/token/);
  });
});
