// A product's illustration; decorative next to its name, so the alt text stays short.
export function ProductImage({ src, alt, className = "" }: { src: string; alt: string; className?: string }) {
  return <img className={`product-image ${className}`.trim()} src={src} alt={alt} width={600} height={600} loading="lazy" decoding="async" />;
}
