// A product at "/products/:id": picture, description, variant pickers, quantity and "Add to cart".
import { useRef, useState, type FormEvent } from "react";
import type { Product } from "../lib/schemas.ts";
import { trpc } from "../trpc.ts";
import { Link } from "../router.tsx";
import { useCart } from "../cart/cart-context.tsx";
import { useCurrency } from "../currency/currency-context.tsx";
import { describeError, errorCodeOf } from "../lib/errors.ts";
import { MAX_OF_ONE_ITEM, quantityErrorMessage, quantityProblem } from "../lib/quantity-message.ts";
import { useQuery } from "../lib/use-query.ts";
import { useDocumentTitle } from "../lib/use-document-title.ts";
import { findVariant, initialSelection, optionGroups, selectValue } from "../lib/variants.ts";
import { Money } from "../components/money.tsx";
import { ProductImage } from "../components/product-image.tsx";
import { VariantPicker } from "../components/variant-picker.tsx";
import { ErrorPanel, Loading } from "../components/status-panels.tsx";
import { NotFoundPage } from "./not-found-page.tsx";

export function ProductPage({ productId }: { productId: string }) {
  const { currency } = useCurrency();
  const { state, reload } = useQuery(`product:${productId}:${currency}`, () => trpc.catalog.get.query({ productId, currency }));
  const isMissing = state.status === "error" && ["NOT_FOUND", "BAD_INPUT"].includes(errorCodeOf(state.error));
  useDocumentTitle(isMissing ? "Not found" : (state.data?.name ?? "Product"));
  if (isMissing) return <NotFoundPage what="product" />;
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link href="/">Shop</Link>
        <span aria-hidden="true"> / </span>
        <span aria-current="page">{state.data?.name ?? "Product"}</span>
      </nav>
      {state.status === "loading" && <Loading label="Loading product…" />}
      {state.status === "error" && <ErrorPanel error={state.error} onRetry={reload} title="We couldn't load this product" />}
      {state.status === "success" && <ProductDetails key={state.data.id} product={state.data} />}
    </>
  );
}

type AddState = { status: "idle" } | { status: "adding" } | { status: "added"; message: string } | { status: "failed"; message: string };

/** "Everyday Tee (Black / S)", or the product's own name when it has one variant. */
function lineLabel(product: Product, variantName: string): string {
  return variantName === "Default" ? product.name : `${product.name} (${variantName})`;
}

function ProductDetails({ product }: { product: Product }) {
  const { addLine } = useCart();
  const addButton = useRef<HTMLButtonElement>(null);
  const groups = optionGroups(product.variants);
  const [selection, setSelection] = useState(() => initialSelection(product.variants));
  const [quantityText, setQuantityText] = useState("1");
  const [addState, setAddState] = useState<AddState>({ status: "idle" });
  const variant = findVariant(product.variants, selection) ?? product.variants[0];
  // The shop's limit per order (its cap per item, its share of scarce stock), as the catalogue tells it.
  const maxPerOrder = variant?.maxPerOrder ?? MAX_OF_ONE_ITEM;
  const maxQuantity = Math.max(1, Math.min(MAX_OF_ONE_ITEM, variant?.available ?? 1, maxPerOrder));
  const quantity = Number(quantityText);
  const quantityError = quantityProblem(quantityText, variant?.available ?? 0, undefined, maxPerOrder);
  const colour = variant?.options.colour;

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (quantityError) {
      document.getElementById("quantity")?.focus();
      return;
    }
    if (!variant?.inStock || addState.status === "adding") return;
    // The button stays enabled (aria-disabled) while the cart saves, so keyboard focus stays on it and never drops to the page.
    setAddState({ status: "adding" });
    try {
      const cart = await addLine(variant.sku, quantity);
      const message = `${quantity} × ${lineLabel(product, variant.name)}. Your cart has ${cart.itemCount} ${cart.itemCount === 1 ? "item" : "items"}.`;
      setAddState({ status: "added", message });
    } catch (error) {
      setAddState({ status: "failed", message: quantityErrorMessage(describeError(error), quantity) });
    } finally {
      // A shopper who pressed the button and is still here gets it back if anything took focus away meanwhile.
      if (document.activeElement === document.body || document.activeElement === null) addButton.current?.focus();
    }
  }

  return (
    <article className="product" aria-labelledby="page-title">
      <div className="product__media">
        <ProductImage src={variant?.image ?? product.image} alt={colour ? `${product.name} in ${colour}` : product.name} isPriority />
      </div>
      <div className="product__details">
        <p className="eyebrow">{product.category}</p>
        <h1 id="page-title" tabIndex={-1}>
          {product.name}
        </h1>
        <p className="product__price" data-testid="product-price">
          {variant ? <Money amount={variant.price} currency={variant.currency} /> : null}
        </p>
        <p className="product__description">{product.description}</p>
        <form className="product__form" onSubmit={onSubmit} noValidate>
          <VariantPicker
            productId={product.id}
            variants={product.variants}
            groups={groups}
            selection={selection}
            onSelect={(group, value) => {
              setSelection((current) => selectValue(product.variants, current, group, value));
              setAddState({ status: "idle" });
            }}
          />
          <p className="stock-note" aria-live="polite">
            {variant && !variant.inStock && <span className="badge badge--muted">Sold out</span>}
            {variant?.inStock && variant.available <= 5 && <span className="badge badge--warn">Only {variant.available} left</span>}
            {variant?.inStock && variant.available > 5 && <span className="badge badge--ok">In stock</span>}
          </p>
          <div className="field field--quantity">
            <label htmlFor="quantity">Quantity</label>
            <input
              id="quantity"
              name="quantity"
              type="number"
              inputMode="numeric"
              min={1}
              max={maxQuantity}
              step={1}
              value={quantityText}
              onChange={(event) => setQuantityText(event.target.value)}
              aria-invalid={quantityError ? true : undefined}
              aria-describedby={quantityError ? "quantity-error" : undefined}
              data-testid="quantity"
            />
            {quantityError && (
              <p className="field__error" id="quantity-error">
                {quantityError}
              </p>
            )}
          </div>
          <button
            ref={addButton}
            type="submit"
            className="button button--primary button--wide"
            data-testid="add-to-cart"
            disabled={!variant?.inStock}
            aria-disabled={addState.status === "adding" ? true : undefined}
          >
            {!variant?.inStock ? "Sold out" : addState.status === "adding" ? "Adding…" : "Add to cart"}
          </button>
          {/* Always in the page, so what is put in it is announced (politely); the link to the cart comes right after the button. */}
          <div role="status" className="add-status" data-testid="add-status">
            {addState.status === "added" && (
              <div className="notice notice--success" data-testid="add-confirmation">
                <p>
                  <strong>Added to your cart:</strong> {addState.message}
                </p>
                <Link href="/cart" className="button button--secondary button--small" data-testid="view-cart">
                  View cart
                </Link>
              </div>
            )}
          </div>
          {addState.status === "failed" && (
            <p className="notice notice--error" role="alert">
              {addState.message}
            </p>
          )}
        </form>
      </div>
    </article>
  );
}
