// Where the shopper's cart id lives between visits: localStorage, tolerating browsers that refuse it.
const CART_ID_KEY = "checkout.cartId";

export function readCartId(): string | null {
  try {
    return window.localStorage.getItem(CART_ID_KEY);
  } catch {
    return null;
  }
}

export function writeCartId(cartId: string): void {
  try {
    window.localStorage.setItem(CART_ID_KEY, cartId);
  } catch {
    // Private mode: the cart lasts as long as the tab.
  }
}

export function clearCartId(): void {
  try {
    window.localStorage.removeItem(CART_ID_KEY);
  } catch {
    // Nothing stored, nothing to clear.
  }
}
