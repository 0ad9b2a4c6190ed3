import { api, unwrap, type Schemas } from "../../api/client";
import { href } from "../../router";
import { Page, useAsync, useSession } from "../../ui/ui";
import { loadCategories, ProductGrid } from "../common";
import { CategoryLinks, LoadState } from "../components";

const BASIS: Record<string, string> = {
  history: "Picked for you",
  popular: "Popular now",
  "popular-in-category": "Popular now",
  trending: "Trending now",
};

/** The front page: a search box, the categories, what we recommend (for the signed-in, from their orders; for
 * anyone else, what sells most), and what is new. */
export function Home() {
  const session = useSession();
  const signedIn = session.signedIn;
  const fresh = useAsync(() => unwrap(api().GET("/search", { params: { query: { sort: "newest", limit: "8", inStock: "true" } } })), []);
  const cats = useAsync(loadCategories, []);
  const picks = useAsync<{ basis: string; items: Schemas["RecommendedItem"][] }>(
    () =>
      signedIn
        ? unwrap(api().GET("/me/recommendations", { params: { query: { limit: "8" } } }))
        : unwrap(api().GET("/recommendations/popular", { params: { query: { limit: "8" } } })),
    [signedIn],
  );
  return (
    <Page title="Welcome to Gears">
      <form
        role="search"
        class="search-box"
        onSubmit={(e) => {
          e.preventDefault();
          const q = String(new FormData(e.currentTarget as HTMLFormElement).get("q") ?? "");
          window.location.hash = href("/search", { q: q.trim() }).slice(1);
        }}
      >
        <div class="field">
          <label for="home-q">Search the shop</label>
          <div class="inline">
            <input id="home-q" name="q" type="search" autocomplete="off" />
            <button class="btn primary" type="submit">
              Search
            </button>
          </div>
        </div>
      </form>
      {cats.data && cats.data.length ? (
        <nav aria-labelledby="cats-title">
          <h2 id="cats-title">Shop by category</h2>
          <CategoryLinks nodes={cats.data} />
        </nav>
      ) : null}
      <section aria-labelledby="picks-title">
        <h2 id="picks-title">{picks.data ? BASIS[picks.data.basis] ?? "Recommended" : signedIn ? "Recommended for you" : "Popular now"}</h2>
        <LoadState state={picks} />
        {picks.data ? <ProductGrid items={picks.data.items} /> : null}
        {signedIn ? null : (
          <p>
            <a href={href("/signin")}>Sign in</a> to see what we recommend for you.
          </p>
        )}
      </section>
      <section aria-labelledby="new-title">
        <h2 id="new-title">New in</h2>
        <LoadState state={fresh} />
        {fresh.data ? <ProductGrid items={fresh.data.items} /> : null}
      </section>
    </Page>
  );
}
