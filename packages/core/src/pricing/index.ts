export * from "./pricing.ts";
export * from "./shipping.ts";
export * from "./tax.ts";
