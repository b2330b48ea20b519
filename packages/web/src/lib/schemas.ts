// core's schemas as the shop in the browser uses them: zod's settings first (./zod-config.ts), then the schemas. Every
// value the web takes from "@checkout/core/schemas" comes through here (types may come from core directly), so zod and
// its settings load only with the first page that validates something, never with the entry.
import "./zod-config.ts";

export * from "@checkout/core/schemas";
