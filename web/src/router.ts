// Routes after the '#': /#/products/42?tab=x. A link is a plain <a href="#/...">, so the keyboard, middle-click and
// the back button work as they do on any page.
import { useEffect, useState } from "preact/hooks";

export type Route = { path: string; parts: string[]; query: URLSearchParams };

function current(): Route {
  const raw = window.location.hash.replace(/^#/, "") || "/";
  const [path = "/", search = ""] = raw.split("?", 2);
  return { path, parts: path.split("/").filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(search) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const on = () => {
      setRoute(current());
      window.scrollTo(0, 0);
    };
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return route;
}

/** The href of a route: href("/products", id) → "#/products/<id>", with an optional query. */
export function href(path: string, query?: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  const s = q.toString();
  return `#${path}${s ? `?${s}` : ""}`;
}

export function navigate(path: string, query?: Record<string, string | number | undefined | null>, replace = false): void {
  const target = href(path, query);
  if (replace) window.location.replace(target);
  else window.location.hash = target.slice(1);
}

/** A page of an app: which paths it answers (``match`` on the path's parts) and what it draws. */
export type PageRoute = {
  match: (parts: string[]) => boolean;
  page: (props: { route: Route }) => preact.JSX.Element | null;
};

/** A route for a fixed path with named holes: at("products", ":id") matches #/products/42. */
export function at(...pattern: string[]): (parts: string[]) => boolean {
  return (parts) => parts.length === pattern.length && pattern.every((p, i) => p.startsWith(":") || p === parts[i]);
}
