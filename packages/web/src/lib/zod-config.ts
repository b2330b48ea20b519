// zod, set before any schema is built (./schemas.ts imports this before core's schemas): never compile validators with `new Function`. The
// shop's CSP allows no eval, so zod's probe for it, made as each object schema is constructed, would be refused and
// reported as a violation on every page; the interpreted validators check the very same schemas from core.
import { config } from "zod/v4/core";

config({ jitless: true });
