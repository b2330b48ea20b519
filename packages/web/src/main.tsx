// Entry point: mounts the app with its router, display currency and cart.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app.tsx";
import { CartProvider } from "./cart/cart-context.tsx";
import { CurrencyProvider } from "./currency/currency-context.tsx";
import { RouterProvider } from "./router.tsx";
import "./styles.css";

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");

createRoot(root).render(
  <StrictMode>
    <RouterProvider>
      <CurrencyProvider>
        <CartProvider>
          <App />
        </CartProvider>
      </CurrencyProvider>
    </RouterProvider>
  </StrictMode>,
);
