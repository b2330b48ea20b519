// What a wrong address shows: a plain explanation and a way back to the shop.
import { Link } from "../router.tsx";
import { useDocumentTitle } from "../lib/use-document-title.ts";

export function NotFoundPage({ what = "page" }: { what?: string }) {
  useDocumentTitle("Not found");
  return (
    <section className="empty-state" aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        We can't find that {what}
      </h1>
      <p>It may have moved, or the link may be mistyped.</p>
      <Link href="/" className="button button--primary">
        Back to the shop
      </Link>
    </section>
  );
}
