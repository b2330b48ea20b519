// A tiny history-API router: the current path, navigate(), <Link> with click interception (and its page's chunk
// fetched when the shopper points at it), and matching.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type AnchorHTMLAttributes, type MouseEvent, type ReactNode } from "react";
import { prefetchHref } from "./routes.tsx";

export { matchPath } from "./lib/match-path.ts";

export interface Location {
  pathname: string;
  search: string;
  /** The fragment without its `#`: where the app keeps ids that must never reach a server log (an order id). */
  hash: string;
}

interface RouterValue {
  location: Location;
  navigate: (to: string, options?: { replace?: boolean }) => void;
}

const RouterContext = createContext<RouterValue | null>(null);

function currentLocation(): Location {
  return { pathname: window.location.pathname, search: window.location.search, hash: window.location.hash.replace(/^#/, "") };
}

/** `location` is for rendering without a browser (the build's prerender); in the browser the address bar is the truth. */
export function RouterProvider({ children, location: givenLocation }: { children: ReactNode; location?: Location }) {
  const [location, setLocation] = useState(() => givenLocation ?? currentLocation());

  useEffect(() => {
    const onPopState = () => setLocation(currentLocation());
    window.addEventListener("popstate", onPopState);
    window.addEventListener("hashchange", onPopState);
    return () => {
      window.removeEventListener("popstate", onPopState);
      window.removeEventListener("hashchange", onPopState);
    };
  }, []);

  const navigate = useCallback((to: string, options?: { replace?: boolean }) => {
    const url = new URL(to, window.location.href);
    const target = `${url.pathname}${url.search}${url.hash}`;
    if (options?.replace) window.history.replaceState(null, "", target);
    else window.history.pushState(null, "", target);
    setLocation(currentLocation());
    window.scrollTo(0, 0);
  }, []);

  const value = useMemo(() => ({ location, navigate }), [location, navigate]);
  return <RouterContext.Provider value={value}>{children}</RouterContext.Provider>;
}

export function useRouter(): RouterValue {
  const value = useContext(RouterContext);
  if (!value) throw new Error("useRouter must be used inside <RouterProvider>");
  return value;
}

function isPlainLeftClick(event: MouseEvent<HTMLAnchorElement>): boolean {
  return event.button === 0 && !event.metaKey && !event.altKey && !event.ctrlKey && !event.shiftKey && !event.defaultPrevented;
}

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { href: string };

/** An ordinary link that navigates in-app on a plain click; new-tab clicks still work. */
export function Link({ href, onClick, onPointerEnter, onFocus, onTouchStart, target, ...rest }: LinkProps) {
  const { navigate } = useRouter();
  const handleClick = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (!isPlainLeftClick(event) || (target && target !== "_self")) return;
    const url = new URL(href, window.location.href);
    if (url.origin !== window.location.origin) return;
    event.preventDefault();
    navigate(href);
  };
  // Pointing at a link (hover, keyboard focus, a finger going down) is a good sign it is next: fetch its page's chunk.
  return (
    <a
      href={href}
      target={target}
      onClick={handleClick}
      onPointerEnter={(event) => {
        onPointerEnter?.(event);
        prefetchHref(href);
      }}
      onFocus={(event) => {
        onFocus?.(event);
        prefetchHref(href);
      }}
      onTouchStart={(event) => {
        onTouchStart?.(event);
        prefetchHref(href);
      }}
      {...rest}
    />
  );
}
