import { useEffect, useRef, useState } from "preact/hooks";
import { api, unwrap, type Schemas } from "../../api/client";
import { href, navigate, type Route } from "../../router";
import { Button, Field, Loading, money, Page, Problem, Select, useAsync } from "../../ui/ui";
import { indexCategories, LEVEL_WORDS, loadCategories, ProductGrid, useDebounced } from "../common";
import { CategoryLinks } from "../components";
import { MoreButton, usePages } from "../../ui/paging";

const SORTS = [
  { value: "", label: "Best match" },
  { value: "newest", label: "Newest first" },
  { value: "price-asc", label: "Price: low to high" },
  { value: "price-desc", label: "Price: high to low" },
];

type Filters = { q: string; category: string; minPrice: string; maxPrice: string; inStock: string; sort: string };
const KEYS: (keyof Filters)[] = ["q", "category", "minPrice", "maxPrice", "inStock", "sort"];

function filtersOf(route: Route): Filters {
  const f = {} as Filters;
  for (const k of KEYS) f[k] = route.query.get(k) ?? "";
  return f;
}

/** Major units typed by a person ("12.50") → minor units ("1250"); "" when not a price. */
function toMinor(text: string): string {
  const n = Number(text.replace(",", "."));
  return text.trim() && Number.isFinite(n) && n >= 0 ? String(Math.round(n * 100)) : "";
}
const toMajor = (minor: string) => (minor ? String(Number(minor) / 100) : "");

/** Search (and category browsing): results update as the visitor types; filters from the answer's facets. */
export function Search({ route }: { route: Route }) {
  return <Browse route={route} base="/search" />;
}

export function CategoryPage({ route }: { route: Route }) {
  const id = route.parts[1] ?? "";
  return <Browse route={route} base={`/categories/${encodeURIComponent(id)}`} fixedCategory={id} />;
}

function Browse({ route, base, fixedCategory }: { route: Route; base: string; fixedCategory?: string }) {
  const filters = filtersOf(route);
  if (fixedCategory) filters.category = fixedCategory;
  const [typed, setTyped] = useState(filters.q);
  // on a phone the filters start folded, so the results are not a long scroll away
  const [filtersOpen] = useState(() => window.matchMedia("(min-width: 701px)").matches);
  const q = useDebounced(typed, 250);
  const cats = useAsync(() => loadCategories().then(indexCategories), []);

  // the words typed go to the address (replacing it, so Back is not a letter at a time) once typing pauses
  const pushed = useRef(filters.q);
  useEffect(() => {
    if (q.trim() !== filters.q) {
      pushed.current = q.trim();
      go({ q: q.trim() }, true);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [q]);
  // a link that changes q (the header's Search, Back) puts it in the box; what this box put there does not
  useEffect(() => {
    if (filters.q !== pushed.current && filters.q !== typed.trim()) setTyped(filters.q);
    pushed.current = filters.q;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [filters.q]);

  function go(change: Partial<Filters>, replace = false) {
    const next: Record<string, string> = { ...filters, ...change };
    if (fixedCategory) delete next.category;
    navigate(base, next, replace);
  }
  const link = (change: Partial<Filters>) => {
    const next: Record<string, string> = { ...filters, ...change };
    if (fixedCategory) delete next.category;
    return href(base, next);
  };

  const key = JSON.stringify(filters);
  const results = useAsync(() => {
    const query: Record<string, string> = { limit: "24" };
    for (const k of KEYS) if (filters[k]) query[k] = filters[k];
    return unwrap(api().GET("/search", { params: { query } }));
  }, [key]);
  const pages = usePages<Schemas["SearchItem"]>(results.data, (cursor) => {
    const query: Record<string, string> = { limit: "24", cursor };
    for (const k of KEYS) if (filters[k]) query[k] = filters[k];
    return unwrap(api().GET("/search", { params: { query } }));
  });

  const index = cats.data;
  const catName = (id: string) => index?.get(id)?.node.name ?? id;
  const answer = results.data;
  const items = pages.items;
  const title = fixedCategory ? catName(fixedCategory) : "Search";
  const [minText, setMinText] = useState(toMajor(filters.minPrice));
  const [maxText, setMaxText] = useState(toMajor(filters.maxPrice));
  useEffect(() => {
    setMinText(toMajor(filters.minPrice));
    setMaxText(toMajor(filters.maxPrice));
  }, [filters.minPrice, filters.maxPrice]);
  const currency = items[0]?.price.currency ?? "GBP";

  const crumbs = fixedCategory ? index?.get(fixedCategory)?.path ?? [] : [];
  const children = fixedCategory ? index?.get(fixedCategory)?.node.children ?? [] : [];
  const inStockCount = answer?.facets.availability
    .filter((a) => a.level === "in_stock" || a.level === "low")
    .reduce((s, a) => s + a.count, 0);

  return (
    <Page title={title}>
      {fixedCategory && crumbs.length > 1 ? (
        <nav class="crumbs" aria-label="Breadcrumb">
          <ol>
            {crumbs.map((id, i) => (
              <li key={id}>
                {i === crumbs.length - 1 ? (
                  <span aria-current="page">{catName(id)}</span>
                ) : (
                  <a href={href(`/categories/${encodeURIComponent(id)}`)}>{catName(id)}</a>
                )}
              </li>
            ))}
          </ol>
        </nav>
      ) : null}
      {children.length ? (
        <nav aria-label="Subcategories">
          <CategoryLinks nodes={children} />
        </nav>
      ) : null}
      <form
        role="search"
        class="search-box"
        onSubmit={(e) => {
          e.preventDefault();
          pushed.current = typed.trim();
          go({ q: typed.trim() }, true);
        }}
      >
        <Field
          label={fixedCategory ? `Search in ${title}` : "Search the shop"}
          type="search"
          value={typed}
          onValue={setTyped}
          autocomplete="off"
          hint="Results update as you type."
        />
      </form>
      <div class="layout-side">
        <aside class="facets" aria-label="Filters">
          <details open={filtersOpen}>
          <summary>Filters and sorting</summary>
          <Select label="Sort by" value={filters.sort} onValue={(v) => go({ sort: v })} options={SORTS} />
          {!fixedCategory && answer && answer.facets.categories.length ? (
            <fieldset>
              <legend>Category</legend>
              <ul>
                {filters.category ? (
                  <li>
                    <a href={link({ category: "" })}>All categories</a>
                  </li>
                ) : null}
                {answer.facets.categories.map((c) => (
                  <li key={c.id}>
                    <a href={link({ category: c.id })} aria-current={filters.category === c.id ? "true" : undefined}>
                      {catName(c.id)} ({c.count})
                    </a>
                  </li>
                ))}
              </ul>
            </fieldset>
          ) : null}
          {answer && answer.facets.priceBands.length ? (
            <fieldset>
              <legend>Price</legend>
              <ul>
                {filters.minPrice || filters.maxPrice ? (
                  <li>
                    <a href={link({ minPrice: "", maxPrice: "" })}>Any price</a>
                  </li>
                ) : null}
                {answer.facets.priceBands.map((b) => {
                  const min = String(b.min);
                  const max = b.max === null ? "" : String(b.max - 1);
                  const label =
                    b.max === null
                      ? `${money({ amount: b.min, currency })} and over`
                      : `${money({ amount: b.min, currency })} to ${money({ amount: b.max, currency })}`;
                  return (
                    <li key={min}>
                      <a
                        href={link({ minPrice: min, maxPrice: max })}
                        aria-current={filters.minPrice === min && filters.maxPrice === max ? "true" : undefined}
                      >
                        {label} ({b.count})
                      </a>
                    </li>
                  );
                })}
              </ul>
              <form
                onSubmit={(e) => {
                  e.preventDefault();
                  go({ minPrice: toMinor(minText), maxPrice: toMinor(maxText) });
                }}
              >
                <div class="row">
                  <Field label="From" inputMode="decimal" value={minText} onValue={setMinText} />
                  <Field label="To" inputMode="decimal" value={maxText} onValue={setMaxText} />
                </div>
                <Button kind="secondary" type="submit">
                  Set price
                </Button>
              </form>
            </fieldset>
          ) : null}
          <fieldset>
            <legend>Availability</legend>
            <label class="check">
              <input
                type="checkbox"
                checked={filters.inStock === "true"}
                onChange={(e) => go({ inStock: (e.currentTarget as HTMLInputElement).checked ? "true" : "" })}
              />
              In stock only{inStockCount !== undefined ? ` (${inStockCount})` : ""}
            </label>
            {answer ? (
              <ul class="muted">
                {answer.facets.availability
                  .filter((a) => a.count > 0)
                  .map((a) => (
                    <li key={a.level}>
                      {LEVEL_WORDS[a.level]}: {a.count}
                    </li>
                  ))}
              </ul>
            ) : null}
          </fieldset>
          </details>
        </aside>
        <div>
          <p class="result-count" role="status" aria-live="polite" aria-atomic="true">
            {results.loading && !answer
              ? "Searching…"
              : answer
                ? `${answer.total} ${answer.total === 1 ? "product" : "products"}${filters.q ? ` for “${filters.q}”` : ""}`
                : ""}
          </p>
          <Problem error={results.error} />
          {results.loading && !answer ? <Loading what="Searching" /> : null}
          {answer && answer.total === 0 ? (
            <p>
              Nothing matches. Try other words, or <a href={href(base)}>clear the filters</a>.
            </p>
          ) : null}
          <h2 class="visually-hidden">Results</h2>
          <ProductGrid items={items} label="Results" />
          <MoreButton pages={pages} label="More results" />
        </div>
      </div>
    </Page>
  );
}
