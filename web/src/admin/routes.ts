// Every console page, the paths it answers and the roles that may open it (as the API's route authorization says:
// docs/authorization.md).
import { at, type PageRoute } from "../router";
import { Dashboard } from "./pages/dashboard";
import { AnalyticsPage } from "./pages/analytics";
import { CampaignPage, CampaignsPage } from "./pages/campaigns";
import { CatalogPage, NewProductPage, ProductPage } from "./pages/catalog";
import { CustomerPage, CustomersPage } from "./pages/customers";
import { DiscountPage, DiscountsPage } from "./pages/discounts";
import { InventoryPage, SkuPage } from "./pages/inventory";
import { OrderPage, OrdersPage } from "./pages/orders";
import { TicketPage, TicketsPage } from "./pages/tickets";

/** ``nav``: the page's link in the header (its label and path), for the pages that have one. */
export type AdminRoute = PageRoute & { roles: string[]; nav?: { label: string; path: string } };

const STAFF = ["admin", "support"];
const ADMIN = ["admin"];

export const adminRoutes: AdminRoute[] = [
  { match: at(), page: Dashboard, roles: STAFF, nav: { label: "Overview", path: "/" } },
  // GET /admin/orders and GET /orders/{id}: support and admin; ship, deliver, cancel, refund: admin (the page shows
  // those to admins only)
  { match: at("orders"), page: OrdersPage, roles: STAFF, nav: { label: "Orders", path: "/orders" } },
  { match: at("orders", ":id"), page: OrderPage, roles: STAFF },
  // reading the catalog is public, changing it is admin's
  { match: at("catalog"), page: CatalogPage, roles: ADMIN, nav: { label: "Catalog", path: "/catalog" } },
  { match: at("catalog", "new"), page: NewProductPage, roles: ADMIN },
  { match: (p) => p.length === 2 && p[0] === "catalog" && p[1] !== "new", page: ProductPage, roles: ADMIN },
  { match: at("inventory"), page: InventoryPage, roles: ADMIN, nav: { label: "Inventory", path: "/inventory" } },
  { match: at("inventory", ":sku"), page: SkuPage, roles: ADMIN },
  { match: at("customers"), page: CustomersPage, roles: STAFF, nav: { label: "Customers", path: "/customers" } },
  { match: at("customers", ":userId"), page: CustomerPage, roles: STAFF },
  { match: at("tickets"), page: TicketsPage, roles: STAFF, nav: { label: "Tickets", path: "/tickets" } },
  { match: at("tickets", ":ticketId"), page: TicketPage, roles: STAFF },
  { match: at("campaigns"), page: CampaignsPage, roles: ADMIN, nav: { label: "Campaigns", path: "/campaigns" } },
  { match: at("campaigns", ":id"), page: CampaignPage, roles: ADMIN },
  { match: at("discounts"), page: DiscountsPage, roles: ADMIN, nav: { label: "Discounts", path: "/discounts" } },
  { match: at("discounts", ":code"), page: DiscountPage, roles: ADMIN },
  { match: at("analytics"), page: AnalyticsPage, roles: ADMIN, nav: { label: "Analytics", path: "/analytics" } },
];
