// The storefront: what a customer sees. Each route is one page module under ./pages.
import { render } from "preact";
import "../ui/styles.css";
import "../auth";
import { loadConfig } from "../config";
import { href, useRoute } from "../router";
import { Page, useSession } from "../ui/ui";
import { routes } from "./routes";
import { StoreHeader } from "./shell";

function App() {
  const route = useRoute();
  useSession();
  const found = routes.find((r) => r.match(route.parts));
  const View = found?.page;
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById("main")?.focus(); }}>
        Skip to content
      </a>
      <StoreHeader route={route} />
      <main id="main" tabIndex={-1}>
        {View ? (
          <View route={route} />
        ) : (
          <Page title="Page not found">
            <p>
              There is no such page. <a href={href("/")}>Back to the shop</a>.
            </p>
          </Page>
        )}
      </main>
      <footer>Gears: an open serverless shop. Prices include VAT.</footer>
    </>
  );
}

void loadConfig().then(() => render(<App />, document.getElementById("app")!));
