// A product at "/products/:id": picture, description, variant pickers, quantity and "Add to cart".
import { useState, type FormEvent } from "react";
import { MAX_LINE_QUANTITY, type Product } from "../lib/schemas.ts";
import { trpc } from "../trpc.ts";
import { Link } from "../router.tsx";
import { useCart } from "../cart/cart-context.tsx";
import { useCurrency } from "../currency/currency-context.tsx";
import { describeError, errorCodeOf } from "../lib/errors.ts";
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

function ProductDetails({ product }: { product: Product }) {
  const { addLine, announce } = useCart();
  const groups = optionGroups(product.variants);
  const [selection, setSelection] = useState(() => initialSelection(product.variants));
  const [quantityText, setQuantityText] = useState("1");
  const [addState, setAddState] = useState<AddState>({ status: "idle" });
  const variant = findVariant(product.variants, selection) ?? product.variants[0];
  const maxQuantity = Math.max(1, Math.min(MAX_LINE_QUANTITY, variant?.available ?? 1));
  const quantity = Number(quantityText);
  const quantityError = !Number.isInteger(quantity) || quantity < 1 ? "Enter a quantity of at least 1" : quantity > maxQuantity ? `You can add at most ${maxQuantity}` : null;

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (quantityError) {
      document.getElementById("quantity")?.focus();
      return;
    }
    if (!variant?.inStock || addState.status === "adding") return;
    setAddState({ status: "adding" });
    try {
      const cart = await addLine(variant.sku, quantity);
      const label = variant.name === "Default" ? product.name : `${product.name} (${variant.name})`;
      const message = `Added ${quantity} × ${label} to your cart. Your cart has ${cart.itemCount} ${cart.itemCount === 1 ? "item" : "items"}.`;
      setAddState({ status: "added", message });
      announce(message);
    } catch (error) {
      setAddState({ status: "failed", message: describeError(error).message });
    }
  }

  return (
    <article className="product" aria-labelledby="page-title">
      <div className="product__media">
        <ProductImage src={product.image} alt={product.name} isPriority />
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
          <button type="submit" className="button button--primary button--wide" data-testid="add-to-cart" disabled={!variant?.inStock || addState.status === "adding"}>
            {!variant?.inStock ? "Sold out" : addState.status === "adding" ? "Adding…" : "Add to cart"}
          </button>
          {addState.status === "added" && (
            <div className="notice notice--success" data-testid="add-confirmation">
              <p>{addState.message}</p>
              <Link href="/cart" className="button button--secondary button--small">
                View cart
              </Link>
            </div>
          )}
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
