// Pieces the storefront pages share: product cards, availability in words, a "sign in first" notice, the category
// tree, a debounced value, and adding to the cart.
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, unwrap, type Schemas } from "../api/client";
import { href } from "../router";
import { Page, Price, useSession } from "../ui/ui";
import "./store.css";

export type Level = "in_stock" | "low" | "out" | "unknown";

export const LEVEL_WORDS: Record<Level, string> = {
  in_stock: "In stock",
  low: "Only a few left",
  out: "Out of stock",
  unknown: "Availability not known",
};

export function Availability({ level, available }: { level: Level; available?: number | null }) {
  const words = LEVEL_WORDS[level] ?? level;
  return (
    <span class={`avail avail-${level}`}>
      {words}
      {level === "low" && typeof available === "number" ? ` (${available} left)` : ""}
    </span>
  );
}

type CardItem = {
  productId: string;
  title: string;
  price: Schemas["Money"];
  image: string | null;
  availability?: Level;
};

/** A product in a grid: its picture (decorative: the title says what it is), title as the link, price. */
export function ProductCard({ item }: { item: CardItem }) {
  return (
    <li class="card">
      {item.image ? <img src={item.image} alt="" loading="lazy" /> : null}
      <h3>
        <a href={href(`/products/${encodeURIComponent(item.productId)}`)}>{item.title}</a>
      </h3>
      <Price value={item.price} />
      {item.availability ? <Availability level={item.availability} /> : null}
    </li>
  );
}

export function ProductGrid({ items, label }: { items: CardItem[]; label?: string }) {
  return (
    <ul class="grid" aria-label={label}>
      {items.map((p) => (
        <ProductCard key={p.productId} item={p} />
      ))}
    </ul>
  );
}

/** A page that needs a signed-in customer: the sign-in link (back here after) instead of the page. */
export function SignedIn({ title, path, children }: { title: string; path: string; children: () => ComponentChildren }) {
  const session = useSession();
  if (!session.signedIn)
    return (
      <Page title={title}>
        <p>
          Please <a href={href("/signin", { next: path })}>sign in</a> first. New here?{" "}
          <a href={href("/signup")}>Create an account</a>.
        </p>
      </Page>
    );
  return <>{children()}</>;
}

/** ``value``, once it has stayed the same for ``ms``. */
export function useDebounced<T>(value: T, ms = 250): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return settled;
}

type Node = Schemas["CategoryNode"];

let categoriesCache: Promise<Node[]> | null = null;
/** The category tree (read once per page load). */
export function loadCategories(): Promise<Node[]> {
  if (!categoriesCache) {
    categoriesCache = unwrap(api().GET("/categories")).then(
      (t) => t.categories,
      (e) => {
        categoriesCache = null;
        throw e;
      },
    );
  }
  return categoriesCache;
}

/** id → {name, path of ids from the top}. */
export function indexCategories(nodes: Node[]): Map<string, { node: Node; path: string[] }> {
  const out = new Map<string, { node: Node; path: string[] }>();
  const walk = (list: Node[], above: string[]) => {
    for (const n of list) {
      const path = [...above, n.id];
      out.set(n.id, { node: n, path });
      walk(n.children ?? [], path);
    }
  };
  walk(nodes, []);
  return out;
}

/** Set a product's quantity in the cart to what is there already plus ``quantity`` (at most 99). */
export async function addToCart(productId: string, quantity: number): Promise<Schemas["CartAnswer"]> {
  let already = 0;
  try {
    const cart = await unwrap(api().GET("/cart"));
    already = cart.lines.find((l) => l.productId === productId)?.quantity ?? 0;
  } catch {
    // no cart yet: start one
  }
  return unwrap(
    api().PUT("/cart/items/{productId}", {
      params: { path: { productId } },
      body: { quantity: Math.min(99, already + quantity) },
    }),
  );
}

export const CANCEL_WORDS: Record<string, string> = {
  out_of_stock: "some of it was out of stock",
  payment_failed: "the payment failed",
  customer_request: "you cancelled it",
  admin_request: "the shop cancelled it",
};

/** A table that may scroll sideways on a phone: a named region the keyboard can reach (and so scroll). */
export function TableWrap({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

