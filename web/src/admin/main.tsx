// The admin console: staff pages. Signed-in staff only; each page says which roles may open it, and a customer (or a
// support agent on an admin-only page) is told so instead of seeing a half-empty page. The API refuses them anyway.
import { render } from "preact";
import "../ui/styles.css";
import "../auth";
import { loadConfig } from "../config";
import { href, useRoute } from "../router";
import { Page, useSession } from "../ui/ui";
import { AdminSignIn } from "./signin";
import { adminRoutes, type AdminRoute } from "./routes";
import { AdminHeader } from "./shell";

export const STAFF = ["admin", "support"];

function Refused({ route }: { route: AdminRoute }) {
  return (
    <Page title="Not for your account">
      <div class="alert error" role="alert">
        <strong>You may not open this page.</strong> It is for {route.roles.join(" or ")} staff; your account has{" "}
        {useSession().me?.roles.join(", ") || "no staff role"}.
      </div>
      <p>
        <a href="./index.html">Back to the shop</a>
      </p>
    </Page>
  );
}

function App() {
  const route = useRoute();
  const session = useSession();
  const found = adminRoutes.find((r) => r.match(route.parts));
  let body;
  if (!session.signedIn) body = <AdminSignIn />;
  else if (!found)
    body = (
      <Page title="Page not found">
        <p>
          There is no such page. <a href={href("/")}>Back to the console</a>.
        </p>
      </Page>
    );
  else if (!session.hasRole(...found.roles)) body = <Refused route={found} />;
  else body = <found.page route={route} />;
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById("main")?.focus(); }}>
        Skip to content
      </a>
      <AdminHeader route={route} />
      <main id="main" tabIndex={-1}>
        {body}
      </main>
    </>
  );
}

void loadConfig().then(() => render(<App />, document.getElementById("app")!));
