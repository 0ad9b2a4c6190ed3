import { signOut } from "../auth";
import { href, type Route } from "../router";
import { useSession } from "../ui/ui";
import { adminRoutes } from "./routes";

export function AdminHeader({ route }: { route: Route }) {
  const session = useSession();
  const links = adminRoutes.filter((r) => r.nav && session.hasRole(...r.roles));
  return (
    <header class="top">
      <a class="brand" href={href("/")}>
        Gears admin
      </a>
      {session.signedIn ? (
        <nav aria-label="Console">
          <ul>
            {links.map(({ nav }) => (
              <li key={nav!.path}>
                <a href={href(nav!.path)} aria-current={route.path === nav!.path ? "page" : undefined}>
                  {nav!.label}
                </a>
              </li>
            ))}
            <li>
              <a href="./index.html">Shop</a>
            </li>
            <li>
              <button class="linklike" type="button" onClick={() => void signOut()}>
                Sign out
              </button>
            </li>
          </ul>
        </nav>
      ) : null}
    </header>
  );
}
