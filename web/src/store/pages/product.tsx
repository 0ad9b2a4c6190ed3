import { useEffect, useState } from "preact/hooks";
import { api, unwrap } from "../../api/client";
import { href, type Route } from "../../router";
import { Button, Field, Notice, Page, Price, Problem, useAction, useAsync, useSession } from "../../ui/ui";
import { addToCart, Availability, indexCategories, loadCategories, ProductGrid } from "../common";
import { Facts, NotYet } from "../components";

const BASIS: Record<string, string> = {
  "co-purchase": "Customers who bought this also bought",
  "popular-in-category": "Popular in this category",
  popular: "Popular now",
};

/** A product: pictures, price, stock, add to cart with a quantity, and related products. */
export function ProductPage({ route }: { route: Route }) {
  const id = route.parts[1] ?? "";
  const session = useSession();
  const product = useAsync(() => unwrap(api().GET("/products/{productId}", { params: { path: { productId: id } } })), [id]);
  const related = useAsync(
    () => unwrap(api().GET("/products/{productId}/related", { params: { path: { productId: id }, query: { limit: "4" } } })),
    [id],
  );
  const cats = useAsync(() => loadCategories().then(indexCategories), []);
  const [shown, setShown] = useState(0);
  const [quantity, setQuantity] = useState("1");
  const [added, setAdded] = useState<number | null>(null);
  useEffect(() => {
    setShown(0);
    setQuantity("1");
    setAdded(null);
  }, [id]);
  const add = useAction(async () => {
    const n = Math.max(1, Math.min(99, Math.floor(Number(quantity)) || 1));
    const cart = await addToCart(id, n);
    setAdded(cart.lines.find((l) => l.productId === id)?.quantity ?? n);
  });

  const p = product.data;
  if (!p) return <NotYet title={product.loading ? "Product" : "Product not found"} state={product} back={<a href={href("/search")}>Search the shop</a>} />;
  const out = p.availability.level === "out";
  const forSale = p.status === "active";
  const category = cats.data?.get(p.category);
  const image = p.images[shown] ?? p.images[0];
  return (
    <Page title={p.title}>
      {category ? (
        <nav class="crumbs" aria-label="Breadcrumb">
          <ol>
            {category.path.map((cid) => (
              <li key={cid}>
                <a href={href(`/categories/${encodeURIComponent(cid)}`)}>{cats.data?.get(cid)?.node.name ?? cid}</a>
              </li>
            ))}
          </ol>
        </nav>
      ) : null}
      <div class="product">
        <div>
          {image ? <img src={image} alt={`${p.title}, picture ${shown + 1} of ${p.images.length}`} /> : <p class="muted">No picture yet.</p>}
          {p.images.length > 1 ? (
            <ul class="thumbs" aria-label="Pictures">
              {p.images.map((src, i) => (
                <li key={src + i}>
                  <button type="button" aria-pressed={i === shown ? "true" : "false"} aria-label={`Show picture ${i + 1}`} onClick={() => setShown(i)}>
                    <img src={src} alt="" />
                  </button>
                </li>
              ))}
            </ul>
          ) : null}
        </div>
        <div>
          <p>
            <Price value={p.price} />
          </p>
          <p>
            <Availability level={p.availability.level} available={p.availability.available} />
          </p>
          {p.brand ? <p class="muted">Brand: {p.brand}</p> : null}
          {!forSale ? <Notice kind="warning">This product is not for sale at the moment.</Notice> : null}
          {session.signedIn ? (
            <form
              class="inline"
              onSubmit={(e) => {
                e.preventDefault();
                void add.run();
              }}
            >
              <Field label="Quantity" type="number" min={1} max={99} class="qty" value={quantity} onValue={setQuantity} required />
              <Button type="submit" busy={add.busy} disabled={out || !forSale}>
                Add to cart
              </Button>
            </form>
          ) : (
            <p>
              <a href={href("/signin", { next: `/products/${id}` })}>Sign in</a> to buy this.
            </p>
          )}
          <Problem error={add.error} />
          {added !== null ? (
            <Notice kind="success">
              Added: your cart has {added} of these. <a href={href("/cart")}>Go to the cart</a>
            </Notice>
          ) : null}
          <p style={{ whiteSpace: "pre-wrap" }}>{p.description}</p>
          <Facts rows={Object.entries(p.attributes)} />
          <p class="muted">SKU {p.sku}</p>
        </div>
      </div>
      {related.data && related.data.items.length ? (
        <section aria-labelledby="related-title">
          <h2 id="related-title">{BASIS[related.data.basis] ?? "Related"}</h2>
          <ProductGrid items={related.data.items} />
        </section>
      ) : null}
    </Page>
  );
}
