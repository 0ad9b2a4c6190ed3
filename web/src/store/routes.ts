// Every storefront page and the paths it answers, in order (the first match wins).
import { at, type PageRoute } from "../router";
import { Account } from "./pages/account";
import { Cart } from "./pages/cart";
import { Checkout } from "./pages/checkout";
import { Confirm, SignUp } from "./pages/signup";
import { Home } from "./pages/home";
import { OrderPage, Orders } from "./pages/orders";
import { Password } from "./pages/password";
import { ProductPage } from "./pages/product";
import { CategoryPage, Search } from "./pages/search";
import { SignIn } from "./pages/signin";
import { Support, TicketPage } from "./pages/support";

export const routes: PageRoute[] = [
  { match: at(), page: Home },
  { match: at("search"), page: Search },
  { match: at("categories", ":id"), page: CategoryPage },
  { match: at("products", ":id"), page: ProductPage },
  { match: at("cart"), page: Cart },
  { match: at("checkout"), page: Checkout },
  { match: at("orders"), page: Orders },
  { match: at("orders", ":id"), page: OrderPage },
  { match: at("signin"), page: SignIn },
  { match: at("signup"), page: SignUp },
  { match: at("confirm"), page: Confirm },
  { match: at("password"), page: Password },
  { match: at("account"), page: Account },
  { match: at("support"), page: Support },
  { match: at("support", ":id"), page: TicketPage },
];
