// One product in the catalogue grid: the whole card is a link to the product page.
import type { Product } from "@checkout/core/schemas";
import { Link } from "../router.tsx";
import { Money } from "./money.tsx";
import { ProductImage } from "./product-image.tsx";

function hasVariedPrices(product: Product): boolean {
  return product.variants.some((variant) => variant.price !== product.priceFrom);
}

export function ProductCard({ product }: { product: Product }) {
  const isSoldOut = product.variants.every((variant) => !variant.inStock);
  // The picture of the variant its page opens on (the first in stock), so the card and the page agree.
  const shown = product.variants.find((variant) => variant.inStock) ?? product.variants[0];
  return (
    <li className="product-card-item">
      <Link href={`/products/${encodeURIComponent(product.id)}`} className="product-card" data-testid="product-card">
        <div className="product-card__media">
          <ProductImage src={shown?.image ?? product.image} alt="" />
          {isSoldOut && <span className="badge badge--muted product-card__badge">Sold out</span>}
        </div>
        <div className="product-card__body">
          <p className="product-card__category">{product.category}</p>
          <h2 className="product-card__name">{product.name}</h2>
          <p className="product-card__description">{product.description}</p>
          <p className="product-card__price">
            {hasVariedPrices(product) && <span className="muted">From </span>}
            <Money amount={product.priceFrom} currency={product.currency} />
          </p>
        </div>
      </Link>
    </li>
  );
}
