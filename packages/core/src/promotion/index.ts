// Promo codes: the pure rules, and their use in checkout (apply, resolve, redeem, release).
export * from "./promotion.ts";
export { applyToCart, removeFromCart, resolveForCart, redeem, releaseRedemption, type ResolvedPromotion } from "./promotion.service.ts";
export { seedPromotions, seedPromotionList } from "./seed-promotions.ts";
