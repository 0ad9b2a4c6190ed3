// The console's first page: who is signed in, what needs doing (orders to ship, open tickets, low stock: each for
// the roles that may see it) and the pages this account may open.
import { api, unwrap } from "../../api/client";
import { href } from "../../router";
import { Loading, Page, useAsync, useSession } from "../../ui/ui";
import { adminRoutes } from "../routes";

function Todo({ label, path, query, load }: { label: string; path: string; query?: Record<string, string>; load: () => Promise<{ items: unknown[]; nextCursor?: string | null }> }) {
  const a = useAsync(load, []);
  let text = "";
  if (a.loading) return <li><Loading what={label} /></li>;
  if (a.error || !a.data) text = "could not be counted";
  else text = `${a.data.items.length}${a.data.nextCursor ? "+" : ""}`;
  return (
    <li>
      <a href={href(path, query)}>{label}</a>: <strong>{text}</strong>
    </li>
  );
}

export function Dashboard() {
  const session = useSession();
  const admin = session.hasRole("admin");
  const pages = adminRoutes.filter((r) => r.nav && r.nav.path !== "/" && session.hasRole(...r.roles));
  return (
    <Page title="Overview">
      <p>
        Signed in as {session.me?.email} ({session.me?.roles.join(", ")}).
      </p>
      <h2>To do</h2>
      <ul>
        <Todo
          label="Paid orders to ship"
          path="/orders"
          query={{ status: "PAID" }}
          load={() => unwrap(api().GET("/admin/orders", { params: { query: { status: "PAID", limit: "50" } } }))}
        />
        <Todo
          label="Open tickets"
          path="/tickets"
          query={{ status: "open" }}
          load={() => unwrap(api().GET("/admin/tickets", { params: { query: { status: "open", limit: "50" } } }))}
        />
        {admin ? (
          <Todo label="SKUs low on stock" path="/inventory" load={() => unwrap(api().GET("/inventory/low-stock", { params: { query: { limit: "50" } } }))} />
        ) : null}
      </ul>
      <h2>Pages</h2>
      <ul>
        {pages.map((r) => (
          <li key={r.nav!.path}>
            <a href={href(r.nav!.path)}>{r.nav!.label}</a>
          </li>
        ))}
      </ul>
    </Page>
  );
}
