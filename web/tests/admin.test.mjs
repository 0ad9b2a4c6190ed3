// The admin console in a browser: an admin ships a paid order with a tracking number and the customer's order page
// shows it shipped with that number; a support agent's reply to a ticket reaches the customer's ticket page; an
// admin sends a campaign and follows its counts; the analytics page draws the forecast with its interval band; a
// customer opening the console is refused. Every console page is checked (axe, no page error) and photographed at a
// desktop's and a phone's width.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  adminToken,
  call,
  checkPage,
  console_,
  eventually,
  launch,
  newCustomer,
  newPage,
  newProduct,
  shop,
  signInThroughPage,
  store,
} from "./harness.mjs";

const ADDRESS = { name: "Grace Hopper", line1: "1 Compiler Way", city: "Leeds", postalCode: "LS1 4AP", country: "GB" };
let browser;
let admin; // token
let product; // {productId, sku, title}
let buyer; // {email, password, token}
let orderId;
const run = Math.random().toString(16).slice(2, 10);

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** What the hourly schedule does, now: the RFM segments recomputed (`gears invoke`, as tests/e2e/test_crm.py does,
 * with the Python tests/e2e/test_web.py names in GEARS_PYTHON). */
function recomputeSegments() {
  const python = process.env.GEARS_PYTHON || join(ROOT, ".venv", "bin", "python");
  const done = spawnSync(
    python,
    [
      "-m",
      "gears.cli",
      "--template",
      shop.template || join(ROOT, "template.yaml"),
      "--state-dir",
      shop.stateDir || dirname(process.env.GEARS_STATE),
      "invoke",
      "CrmSegmentsFunction",
      "--event",
      join(ROOT, "events", "CrmSegmentsFunction", "scheduled.json"),
    ],
    { cwd: ROOT, encoding: "utf8", timeout: 300_000 },
  );
  assert.equal(done.status, 0, `the segments' recompute failed: ${done.error ?? ""} ${(done.stderr || "").slice(-2000)}`);
}

const h1 = (page, name) => page.getByRole("heading", { level: 1, name }).waitFor();

/** Another console route in the same document (a reload would sign the page out: tokens live in memory only). */
async function go(page, route) {
  await page.evaluate((r) => {
    window.location.hash = r;
  }, route);
}

/** A console page signed in as ``who`` at ``route``. */
async function consoleAs(who, route = "/") {
  const page = await newPage(browser);
  await page.goto(console_(route));
  await h1(page, "Staff sign in");
  await signInThroughPage(page, who.email, who.password);
  return page;
}

async function paidOrder(customer) {
  let r = await call("DELETE", "/cart", { token: customer.token });
  r = await call("PUT", `/cart/items/${product.productId}`, { token: customer.token, body: { quantity: 1 } });
  assert.ok(r.status < 300, `cart: ${r.status} ${JSON.stringify(r.body)}`);
  r = await call("POST", "/checkout", {
    token: customer.token,
    headers: { "Idempotency-Key": crypto.randomUUID() },
    body: { shippingAddress: ADDRESS, paymentMethod: "pm_card_visa" },
  });
  assert.ok(r.status < 300, `checkout: ${r.status} ${JSON.stringify(r.body)}`);
  const id = r.body.orderId;
  await eventually(async () => (await call("GET", `/orders/${id}`, { token: customer.token })).body?.status === "PAID", `order ${id} to be PAID`);
  return id;
}

before(async () => {
  browser = await launch();
  admin = await adminToken();
  product = await newProduct(admin, {
    sku: `ADM-${run.toUpperCase()}`,
    title: `Console test sprocket ${run}`,
    description: "A sprocket made for the admin console's browser test.",
    price: 2400,
  });
  buyer = await newCustomer("adm-buyer");
  const consent = await call("PUT", "/me/notification-preferences", {
    token: buyer.token,
    body: { marketing: { consent: true, source: "web-test" } },
  });
  assert.ok(consent.status < 300, JSON.stringify(consent.body));
  orderId = await paidOrder(buyer);
});

after(async () => {
  await browser?.close();
});

test("an admin ships an order with tracking and the customer sees it shipped", async () => {
  const page = await consoleAs(shop.admin, "/");
  await h1(page, "Overview");
  await page.getByText("Paid orders to ship").waitFor();
  await checkPage(page, "admin-overview");

  await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Orders" }).click();
  await h1(page, "Orders");
  await page.getByLabel("Status").selectOption("PAID");
  await page.getByRole("link", { name: orderId }).waitFor();
  await checkPage(page, "admin-orders");

  await page.getByRole("link", { name: orderId }).click();
  await h1(page, `Order ${orderId}`);
  await page.getByRole("heading", { name: "Ship", exact: true }).waitFor();
  await checkPage(page, "admin-order-paid");
  const tracking = `WB${String(Math.floor(Math.random() * 1e9)).padStart(9, "0")}GB`;
  await page.getByLabel("Carrier").selectOption("royal_mail");
  await page.getByLabel("Tracking number").fill(tracking);
  await page.getByRole("button", { name: "Ship order" }).click();
  await page.getByText(`tracking number ${tracking}`).waitFor();
  await page.getByRole("heading", { name: "Delivery", exact: true }).waitFor();
  await checkPage(page, "admin-order-shipped");
  // a partial refund: £5 of it
  await page.getByLabel("How much").selectOption("part");
  await page.getByLabel(/^Amount/).fill("5.00");
  await page.getByLabel("Reason (optional)").fill("Scuffed box");
  await page.getByRole("button", { name: "Refund", exact: true }).click();
  await page.getByText(/^Refunded £5\.00; £5\.00 refunded in all/).waitFor();

  // the customer's own order page, in the storefront
  const mine = await newPage(browser);
  await mine.goto(store(`/signin?next=/orders/${orderId}`));
  await h1(mine, "Sign in");
  await signInThroughPage(mine, buyer.email, buyer.password);
  await mine.getByText(tracking).first().waitFor();
  await mine.locator(".status", { hasText: /shipped/i }).first().waitFor();
  await mine.context().close();

  // the SKU's ledger shows the order's movements
  await go(page, `/inventory/${product.sku}`);
  await h1(page, `Stock of ${product.sku}`);
  await page.getByRole("heading", { name: "Ledger" }).waitFor();
  await checkPage(page, "admin-sku");
  await page.getByLabel("Units received").fill("5");
  await page.getByRole("button", { name: "Restock", exact: true }).click();
  await page.getByText(/Restocked 5/).waitFor();
  await go(page, "/inventory");
  await h1(page, "Inventory");
  await page.getByRole("heading", { name: "Low stock" }).waitFor();
  await checkPage(page, "admin-inventory");
  await page.context().close();
});

test("the catalog pages create, edit and show products", async () => {
  const page = await consoleAs(shop.admin, "/catalog");
  await h1(page, "Catalog");
  await page.getByRole("heading", { name: "Active products" }).waitFor();
  await checkPage(page, "admin-catalog");
  await page.getByRole("link", { name: "New product" }).click();
  await h1(page, "New product");
  await checkPage(page, "admin-product-new");
  await page.getByLabel("Title").fill(`Draft idler ${run}`);
  await page.getByLabel("SKU").fill(`ADM-DRAFT-${run.toUpperCase()}`);
  await page.getByLabel("Price", { exact: true }).fill("7.50");
  await page.getByRole("button", { name: "Create product" }).click();
  await h1(page, `Product: Draft idler ${run}`);
  await page.getByText("Product created.").waitFor();
  await page.getByLabel("Title").fill(`Draft idler ${run} (changed)`);
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByText("Changes saved.").waitFor();
  await checkPage(page, "admin-product");
  await go(page, "/discounts");
  await h1(page, "Discount codes");
  await checkPage(page, "admin-discounts");
  await page.context().close();
});

test("a support agent's reply to a ticket reaches the customer", async () => {
  // a support agent: a customer given the support role (which signs them out: they sign in again)
  const agent = await newCustomer("adm-support");
  const me = await call("GET", "/me", { token: agent.token });
  const roles = await call("PUT", `/admin/users/${me.body.userId}/roles`, { token: admin, body: { roles: ["support"] } });
  assert.ok(roles.status < 300, JSON.stringify(roles.body));

  const subject = `Where is my sprocket ${run}?`;
  const opened = await call("POST", "/support/tickets", {
    token: buyer.token,
    body: { subject, message: "It has not come yet.", orderId },
  });
  assert.ok(opened.status < 300, JSON.stringify(opened.body));
  const ticketId = opened.body.ticketId;

  const page = await consoleAs(agent, "/tickets");
  await h1(page, "Support tickets");
  await page.getByRole("link", { name: subject }).waitFor();
  await checkPage(page, "admin-tickets");
  await page.getByRole("link", { name: subject }).click();
  await h1(page, `Ticket: ${subject}`);
  await checkPage(page, "admin-ticket");
  const reply = `It left our warehouse today (${run}).`;
  await page.getByLabel("Your reply").fill(reply);
  await page.getByRole("button", { name: "Send reply" }).click();
  await page.getByText("Reply sent: the customer sees it").waitFor();
  await page.getByText(reply).waitFor();

  // the customer's history, as support sees it
  await go(page, `/customers/${opened.body.userId}`);
  await page.getByRole("heading", { name: "Timeline" }).waitFor();
  await checkPage(page, "admin-customer");
  await go(page, "/customers");
  await h1(page, "Customers");
  await checkPage(page, "admin-customers");
  // an admin-only page is refused to support, in words
  await go(page, "/analytics");
  await h1(page, "Not for your account");
  await page.context().close();

  const mine = await newPage(browser);
  await mine.goto(store(`/signin?next=/support/${ticketId}`));
  await h1(mine, "Sign in");
  await signInThroughPage(mine, buyer.email, buyer.password);
  await mine.getByText(reply).first().waitFor();
  await mine.context().close();
});

test("an admin sends a campaign and sees its counts", async () => {
  // the buyer (a paid order) scored into a segment, so the campaign has someone to count
  recomputeSegments();
  const userId = (await call("GET", "/me", { token: buyer.token })).body.userId;
  const record = await call("GET", `/admin/customers/${userId}`, { token: admin });
  const segment = record.body?.rfm?.segment;
  assert.ok(segment, `the buyer was not scored into a segment: ${JSON.stringify(record.body)}`);
  const page = await consoleAs(shop.admin, "/campaigns");
  await h1(page, "Campaigns");
  await checkPage(page, "admin-campaigns");
  const name = `Console test ${run}`;
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Segment").selectOption(segment);
  await page.getByLabel("Subject", { exact: true }).fill("Hello {{ first_name }}");
  await page.getByLabel(/^Message/).fill("Thanks for shopping with Gears, {{ name }}.");
  await page.getByRole("button", { name: "Send campaign" }).click();
  await h1(page, `Campaign: ${name}`);
  await page.getByRole("heading", { name: "Delivery" }).waitFor();
  await page.getByRole("rowheader", { name: "All channels" }).waitFor();
  await page.getByText("launched", { exact: true }).waitFor({ timeout: 120_000 });
  // the page refreshes itself: the buyer (who consented to marketing) is targeted and sent to
  const targeted = page.locator(".facts div").filter({ has: page.getByText("Targeted", { exact: true }) }).locator("dd");
  await eventually(async () => Number(await targeted.textContent()) >= 1, "the campaign to target the buyer's segment");
  const all = page.getByRole("row", { name: /All channels/ }).getByRole("cell");
  await eventually(async () => {
    const n = (await all.allTextContents()).map(Number);
    return n[0] >= 1; // sent
  }, "the campaign to be sent to the buyer");
  await checkPage(page, "admin-campaign");
  await page.context().close();
});

/** Enough past sales for a forecast (14 days at least): imported as history only when the shop has fewer. */
async function ensureHistory() {
  const now = await call("GET", "/admin/analytics/forecast", { token: admin });
  if (now.status === 200) return;
  assert.equal(now.status, 422, JSON.stringify(now.body));
  const orders = [];
  for (let d = 21; d >= 1; d--) {
    const at = new Date(Date.now() - d * 86_400_000);
    at.setUTCHours(12, 0, 0, 0);
    orders.push({
      orderId: `web-${run}-${d}`,
      customerId: `web-${run}`,
      placedAt: at.toISOString(),
      country: "GB",
      lines: [{ productId: product.productId, sku: product.sku, title: product.title, quantity: 1 + (d % 3), unitPrice: { amount: 2400, currency: "GBP" } }],
    });
  }
  const r = await call("POST", "/admin/orders/history", { token: admin, body: { orders } });
  assert.ok(r.status < 300, JSON.stringify(r.body));
  await eventually(async () => (await call("GET", "/admin/analytics/forecast", { token: admin })).status === 200, "the forecast to have its history", 300);
}

test("the analytics page draws sales and the forecast with its band", async () => {
  await ensureHistory();
  const page = await consoleAs(shop.admin, "/analytics");
  await h1(page, "Analytics");
  const sales = page.locator("section[aria-labelledby='sales-h']");
  await sales.getByRole("img", { name: /Revenue per day/ }).waitFor();
  await sales.getByRole("table").waitFor();
  const forecast = page.locator("section[aria-labelledby='forecast-h']");
  const chart = forecast.getByRole("img", { name: /forecast for 14 days/ });
  await chart.waitFor();
  assert.equal(await chart.evaluate((svg) => svg.tagName.toLowerCase()), "svg");
  assert.equal(await forecast.locator("svg path.band").count(), 1, "the interval band");
  assert.ok(((await forecast.locator("svg path.band").getAttribute("d")) ?? "").endsWith("Z"));
  await forecast.getByRole("table").waitFor();
  await checkPage(page, "admin-analytics");
  await page.context().close();
});

test("a customer opening the console is refused", async () => {
  const customer = await newCustomer("adm-nosy");
  const page = await consoleAs(customer, "/orders");
  await h1(page, "Not for your account");
  await page.getByText("You may not open this page.").waitFor();
  await checkPage(page, "admin-refused");
  await page.context().close();
});
