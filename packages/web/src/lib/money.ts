// Formats integer minor units (cents) for display; the server computes every amount. The formatting itself lives in
// ./format.ts, in the shopper's language, with the shop's other number and date formats.
export { formatMoney } from "./format.ts";
