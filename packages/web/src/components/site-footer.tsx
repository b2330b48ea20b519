// The footer: reassurance about payments and a note that this is a demo shop.
export function SiteFooter() {
  return (
    <footer className="site-footer">
      <div className="site-footer__inner">
        <p>
          <strong>Northwind Supply</strong> · Well-made goods for everyday use.
        </p>
        <p className="muted">Card details are entered in our payment provider's secure field and never reach our servers. This is a demo shop: no real charges are made.</p>
      </div>
    </footer>
  );
}
