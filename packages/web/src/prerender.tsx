// Build-time rendering (scripts/prerender.ts loads this through Vite): the catalogue's first frame for "/", and the
// shell every other route starts from (header, a loading status, footer), as HTML that paints before any script runs.
import { renderToString } from "react-dom/server";
import { loadPage } from "./routes.tsx";
import { Shop } from "./shop.tsx";

export async function renderCatalog(): Promise<string> {
  await loadPage("catalog");
  return renderToString(<Shop location={{ pathname: "/", search: "", hash: "" }} />);
}

export function renderShell(): string {
  return renderToString(<Shop location={{ pathname: "/", search: "", hash: "" }} isShell />);
}
