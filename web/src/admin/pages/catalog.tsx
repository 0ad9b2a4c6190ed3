// Catalog: the active products by category, a new product, a product's edit (at the version read: If-Match) and its
// archiving. GET /products lists active products only and GET /products/{id} answers 404 for drafts, so a draft
// made here is kept in this tab's memory until it is made active.
import { useState } from "preact/hooks";
import { ApiError, api, unwrap, type Schemas } from "../../api/client";
import { href, navigate, type Route } from "../../router";
import { Button, Field, Loading, Notice, Page, Price, Problem, Select, TextArea, useAction, useAsync, when } from "../../ui/ui";
import { Facts, count, fromMinor, toMinor, usePaged, invalid } from "../kit";

type Product = Schemas["ProductAnswer"];
type Category = Schemas["CategoryNode"];

/** Products this tab created or changed, by id: a draft cannot be read back from the API. */
const known = new Map<string, Product>();

function flatten(nodes: Category[], depth = 0, trail = ""): { value: string; label: string }[] {
  return nodes.flatMap((n) => {
    const label = trail ? `${trail} › ${n.name}` : n.name;
    return [{ value: n.id, label }, ...flatten(n.children, depth + 1, label)];
  });
}

function useCategories() {
  return useAsync(() => unwrap(api().GET("/categories")).then((t) => flatten(t.categories)), []);
}

export function CatalogPage({ route }: { route: Route }) {
  const category = route.query.get("category") ?? "";
  const categories = useCategories();
  const query = (cursor?: string) => ({ limit: 50, ...(category ? { category } : {}), ...(cursor ? { cursor } : {}) });
  const list = useAsync(() => unwrap(api().GET("/products", { params: { query: query() } })), [category]);
  const paged = usePaged(list.data, (cursor) => unwrap(api().GET("/products", { params: { query: query(cursor) } })));
  const drafts = [...known.values()].filter((p) => p.status !== "active");
  return (
    <Page
      title="Catalog"
      actions={
        <a class="btn primary" href={href("/catalog/new")}>
          New product
        </a>
      }
    >
      <div class="filters">
        <Select
          label="Category"
          value={category}
          onValue={(v) => navigate("/catalog", { category: v }, true)}
          options={[{ value: "", label: "Every category" }, ...(categories.data ?? [])]}
        />
      </div>
      <Problem error={categories.error} />
      {drafts.length ? (
        <>
          <h2>Made here, not active</h2>
          <ul>
            {drafts.map((p) => (
              <li key={p.productId}>
                <a href={href(`/catalog/${encodeURIComponent(p.productId)}`)}>{p.title}</a> ({p.status}, SKU {p.sku})
              </li>
            ))}
          </ul>
        </>
      ) : null}
      <h2>Active products</h2>
      <Problem error={list.error} />
      {list.loading && !list.data ? <Loading what="Loading products" /> : null}
      {list.data ? (
        paged.items.length ? (
          <>
            <p role="status">{count(paged.items.length, "product")} shown.</p>
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Title</th>
                    <th scope="col">SKU</th>
                    <th scope="col">Category</th>
                    <th scope="col" class="num">
                      Price
                    </th>
                    <th scope="col">Stock</th>
                    <th scope="col">Changed</th>
                  </tr>
                </thead>
                <tbody>
                  {paged.items.map((p) => (
                    <tr key={p.productId}>
                      <td>
                        <a href={href(`/catalog/${encodeURIComponent(p.productId)}`)}>{p.title}</a>
                      </td>
                      <td>
                        <a class="mono" href={href(`/inventory/${encodeURIComponent(p.sku)}`)} aria-label={`Stock of ${p.sku}`}>
                          {p.sku}
                        </a>
                      </td>
                      <td>{p.category}</td>
                      <td class="num">
                        <Price value={p.price} />
                      </td>
                      <td>
                        {p.availability.level.replace("_", " ")}
                        {p.availability.available !== null ? ` (${p.availability.available})` : ""}
                      </td>
                      <td>{when(p.updatedAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {paged.button}
          </>
        ) : (
          <p>No active products{category ? " in this category" : ""}.</p>
        )
      ) : null}
    </Page>
  );
}

export function NewProductPage() {
  return (
    <Page title="New product">
      <p>
        <a href={href("/catalog")}>Back to the catalog</a>
      </p>
      <ProductForm product={null} onSaved={(p) => navigate(`/catalog/${encodeURIComponent(p.productId)}`, { saved: "created" })} />
    </Page>
  );
}

export function ProductPage({ route }: { route: Route }) {
  const productId = route.parts[1] ?? "";
  const saved = route.query.get("saved");
  const product = useAsync(async () => {
    try {
      const p = await unwrap(api().GET("/products/{productId}", { params: { path: { productId } } }));
      known.set(p.productId, p);
      return p;
    } catch (e) {
      const mine = known.get(productId);
      if (mine && e instanceof ApiError && e.status === 404) return mine;
      throw e;
    }
  }, [productId]);
  const [archived, setArchived] = useState(false);
  const p = product.data;
  const archive = useAction(async () => {
    if (!p) return;
    await unwrap(
      api().DELETE("/products/{productId}", { params: { path: { productId }, header: { "If-Match": `"${p.version}"` } } }),
    );
    known.set(productId, { ...p, status: "archived" });
    setArchived(true);
  });
  const [sure, setSure] = useState(false);
  return (
    <Page title={p ? `Product: ${p.title}` : "Product"}>
      <p>
        <a href={href("/catalog")}>Back to the catalog</a>
      </p>
      <Problem error={product.error} />
      {product.loading && !p ? <Loading what="Loading the product" /> : null}
      {saved === "created" ? <Notice kind="success">Product created.</Notice> : null}
      {saved === "saved" ? <Notice kind="success">Changes saved.</Notice> : null}
      {archived ? <Notice kind="success">Product archived: it has left the shop. Set its status to draft or active below to restore it.</Notice> : null}
      {p ? (
        <>
          <Facts
            items={[
              ["Product id", <span class="mono">{p.productId}</span>],
              ["SKU", <a class="mono" href={href(`/inventory/${encodeURIComponent(p.sku)}`)}>{p.sku}</a>],
              ["Status", p.status],
              ["Version", String(p.version)],
              ["Created", when(p.createdAt)],
              ["Changed", when(p.updatedAt)],
              ["Stock", `${p.availability.level.replace("_", " ")}${p.availability.available !== null ? ` (${p.availability.available} available)` : ""}`],
            ]}
          />
          <h2>Edit</h2>
          <ProductForm
            key={`${p.productId}:${p.version}:${archived}`}
            product={archived ? { ...p, status: "archived" } : p}
            onReload={product.reload}
            onSaved={(np) => {
              known.set(np.productId, np);
              setArchived(false);
              product.reload();
              navigate(`/catalog/${encodeURIComponent(np.productId)}`, { saved: "saved" }, true);
            }}
          />
          {p.status !== "archived" && !archived ? (
            <section aria-labelledby="archive-h">
              <h2 id="archive-h">Archive</h2>
              <p>An archived product leaves every listing; its orders keep it.</p>
              <Problem error={archive.error} />
              {sure ? (
                <div class="row">
                  <Button kind="danger" type="button" busy={archive.busy} onClick={() => void archive.run()}>
                    Yes, archive it
                  </Button>
                  <Button kind="secondary" type="button" onClick={() => setSure(false)}>
                    Keep it
                  </Button>
                </div>
              ) : (
                <Button kind="danger" type="button" onClick={() => setSure(true)}>
                  Archive product…
                </Button>
              )}
            </section>
          ) : null}
        </>
      ) : null}
    </Page>
  );
}

function move<T>(list: T[], from: number, to: number): T[] {
  const out = [...list];
  const [it] = out.splice(from, 1);
  out.splice(to, 0, it!);
  return out;
}

function attributesText(a: Record<string, string>): string {
  return Object.entries(a)
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n");
}

function parseAttributes(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [i, line] of text.split("\n").entries()) {
    if (!line.trim()) continue;
    const at = line.indexOf(":");
    if (at < 1) throw invalid(`Attributes, line ${i + 1}: write "name: value".`);
    out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

function ProductForm({ product, onSaved, onReload }: { product: Product | null; onSaved: (p: Product) => void; onReload?: () => void }) {
  const categories = useCategories();
  const [title, setTitle] = useState(product?.title ?? "");
  const [sku, setSku] = useState(product?.sku ?? "");
  const [description, setDescription] = useState(product?.description ?? "");
  const [currency, setCurrency] = useState(product?.price.currency ?? "GBP");
  const [price, setPrice] = useState(product ? fromMinor(product.price) : "");
  const [category, setCategory] = useState(product?.category ?? "");
  const [brand, setBrand] = useState(product?.brand ?? "");
  const [status, setStatus] = useState<string>(product?.status ?? "draft");
  const [images, setImages] = useState<string[]>(product?.images ?? []);
  const [image, setImage] = useState("");
  const [imageError, setImageError] = useState("");
  const [attributes, setAttributes] = useState(attributesText(product?.attributes ?? {}));
  const save = useAction(async () => {
    const amount = toMinor(price, currency);
    if (amount === null) throw invalid(`The price is an amount in ${currency}, like 19.99.`);
    const cat = category || categories.data?.[0]?.value || "";
    if (!cat) throw invalid("Choose a category.");
    const common = {
      title: title.trim(),
      description,
      price: { amount, currency },
      category: cat,
      brand: brand.trim() || null,
      images,
      attributes: parseAttributes(attributes),
    };
    if (!product) {
      const created = await unwrap(
        api().POST("/products", { body: { ...common, sku: sku.trim(), status: status as "draft" | "active" } }),
      );
      known.set(created.productId, created);
      onSaved(created);
    } else {
      const changed = await unwrap(
        api().PUT("/products/{productId}", {
          params: { path: { productId: product.productId }, header: { "If-Match": `"${product.version}"` } },
          body: {
            ...common,
            status: status as Product["status"],
            sku: product.sku,
            version: product.version,
            productId: product.productId,
            createdAt: product.createdAt,
            updatedAt: product.updatedAt,
            availability: null,
          },
        }),
      );
      known.set(changed.productId, changed);
      onSaved(changed);
    }
  });
  const stale = save.error instanceof ApiError && save.error.status === 409 && product;
  const addImage = () => {
    const u = image.trim();
    if (!u) return;
    try {
      const parsed = new URL(u);
      if (!/^https?:$/.test(parsed.protocol)) throw new Error("not a web address");
    } catch {
      setImageError("An image is a web address starting with https://");
      return;
    }
    setImageError("");
    if (!images.includes(u)) setImages([...images, u]);
    setImage("");
  };
  return (
    <form
      class="stack"
      onSubmit={(e) => {
        e.preventDefault();
        void save.run();
      }}
    >
      <Problem error={save.error} />
      {stale ? (
        <Notice kind="warning">
          Someone changed this product since you opened it.{" "}
          {onReload ? (
            <button class="linklike" type="button" onClick={onReload}>
              Load the current version
            </button>
          ) : (
            "Load the current version"
          )}{" "}
          and make your change again.
        </Notice>
      ) : null}
      <Field label="Title" required maxLength={200} value={title} onValue={setTitle} />
      {product ? (
        <Field label="SKU" value={sku} readOnly hint="A product's SKU cannot change." />
      ) : (
        <Field
          label="SKU"
          required
          maxLength={64}
          pattern="[A-Za-z0-9][A-Za-z0-9_.\-]*"
          hint="Letters, digits, '_', '.' or '-'; it decides the product's id."
          value={sku}
          onValue={setSku}
          autocomplete="off"
        />
      )}
      <TextArea label="Description" maxLength={5000} value={description} onValue={setDescription} />
      <div class="row">
        <Field label="Price" required inputMode="decimal" value={price} onValue={setPrice} hint="For example 19.99" />
        <Select
          label="Currency"
          value={currency}
          onValue={setCurrency}
          options={["GBP", "EUR", "USD"].map((c) => ({ value: c, label: c }))}
        />
      </div>
      {categories.loading ? <Loading what="Loading categories" /> : null}
      <Problem error={categories.error} />
      <Select
        label="Category"
        value={category || categories.data?.[0]?.value || ""}
        onValue={setCategory}
        options={[
          ...(category && categories.data && !categories.data.some((c) => c.value === category) ? [{ value: category, label: category }] : []),
          ...(categories.data ?? []),
        ]}
      />
      <Field label="Brand (optional)" maxLength={100} value={brand} onValue={setBrand} />
      <Select
        label="Status"
        value={status}
        onValue={setStatus}
        options={[
          { value: "draft", label: "Draft (not in the shop)" },
          { value: "active", label: "Active (in the shop)" },
          ...(product ? [{ value: "archived", label: "Archived" }] : []),
        ]}
      />
      <fieldset class="checks">
        <legend>Images</legend>
        {images.length ? (
          <ul class="thumbs">
            {images.map((u, i) => (
              <li key={u}>
                <img src={u} alt={`Image ${i + 1} of ${title || "the product"}`} loading="lazy" />
                <span>{u}</span>
                <span class="row">
                  {i > 0 ? (
                    <button class="linklike" type="button" onClick={() => setImages(move(images, i, i - 1))} aria-label={`Move image ${i + 1} earlier`}>
                      Earlier
                    </button>
                  ) : null}
                  <button class="linklike" type="button" onClick={() => setImages(images.filter((x) => x !== u))} aria-label={`Remove image ${i + 1}`}>
                    Remove
                  </button>
                </span>
              </li>
            ))}
          </ul>
        ) : (
          <p class="muted">No images yet.</p>
        )}
        <Field
          label="Image URL"
          type="url"
          value={image}
          onValue={setImage}
          onKeyDown={(e) => {
            if (e.key === "Enter") {
              e.preventDefault();
              addImage();
            }
          }}
          aria-invalid={imageError ? "true" : undefined}
          hint={imageError || "Add one at a time, in the order the shop shows them."}
        />
        <Button kind="secondary" type="button" onClick={addImage} disabled={images.length >= 20}>
          Add image
        </Button>
      </fieldset>
      <TextArea label="Attributes (one “name: value” a line)" value={attributes} onValue={setAttributes} />
      <Button type="submit" busy={save.busy}>
        {product ? "Save changes" : "Create product"}
      </Button>
    </form>
  );
}
