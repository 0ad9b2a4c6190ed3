import { signOut } from "../auth";
import { href, type Route } from "../router";
import { useSession } from "../ui/ui";

const LINKS: [string, string][] = [
  ["/", "Home"],
  ["/search", "Search"],
  ["/cart", "Cart"],
  ["/orders", "Orders"],
  ["/support", "Support"],
];

export function StoreHeader({ route }: { route: Route }) {
  const session = useSession();
  return (
    <header class="top">
      <a class="brand" href={href("/")}>
        Gears
      </a>
      <nav aria-label="Shop">
        <ul>
          {LINKS.map(([path, label]) => (
            <li key={path}>
              <a href={href(path)} aria-current={route.path === path ? "page" : undefined}>
                {label}
              </a>
            </li>
          ))}
          {session.signedIn ? (
            <>
              <li>
                <a href={href("/account")} aria-current={route.path === "/account" ? "page" : undefined}>
                  Account
                </a>
              </li>
              <li>
                <button class="linklike" type="button" onClick={() => void signOut()}>
                  Sign out
                </button>
              </li>
            </>
          ) : (
            <li>
              <a href={href("/signin")} aria-current={route.path === "/signin" ? "page" : undefined}>
                Sign in
              </a>
            </li>
          )}
        </ul>
      </nav>
    </header>
  );
}
