// Sets the tab title per page so history and screen readers name where the shopper is.
import { useEffect } from "react";

export function useDocumentTitle(title: string | undefined): void {
  useEffect(() => {
    document.title = title ? `${title} · Northwind Supply` : "Northwind Supply";
  }, [title]);
}
