// Entry point: loads the first page's chunk, then renders the shop over the prerendered HTML.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { loadPage, pageOf } from "./routes.tsx";
import { Shop } from "./shop.tsx";
import "./styles.css";

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");

// The prerendered HTML stays on screen until the first page's chunk is in, so it is replaced by that page at once and
// never by a loading placeholder. A chunk that fails to load is reported by the page itself (it loads again there).
const firstPage = pageOf(window.location.pathname);
const ready = firstPage ? loadPage(firstPage).catch(() => undefined) : Promise.resolve();

void ready.then(() => {
  createRoot(root).render(
    <StrictMode>
      <Shop />
    </StrictMode>,
  );
});
