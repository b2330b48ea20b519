// A product's illustration; decorative next to its name, so the alt text stays short. Images in a list load as they
// scroll into view; the one a page is about (`isPriority`) loads at once, first, as the page's largest paint.
export function ProductImage({ src, alt, className = "", isPriority = false }: { src: string; alt: string; className?: string; isPriority?: boolean }) {
  return (
    <img
      className={`product-image ${className}`.trim()}
      src={src}
      alt={alt}
      width={600}
      height={600}
      loading={isPriority ? "eager" : "lazy"}
      fetchPriority={isPriority ? "high" : "auto"}
      decoding="async"
    />
  );
}
