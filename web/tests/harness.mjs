// What every browser test uses: Debian's chromium driven by playwright-core (never Playwright's own download), the
// running local shop (its runtime.json, given by tests/e2e/test_web.py in GEARS_STATE), axe-core on each page
// (no serious or critical violation), a screenshot of each page at a desktop's and a phone's width, the codes the
// local mailbox received, and the API for a test's own setup.
import { readFileSync, mkdirSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const statePath = process.env.GEARS_STATE;
if (!statePath) throw new Error("GEARS_STATE: the running shop's runtime.json (tests/e2e/test_web.py sets it)");
/** The running shop: api, mailbox, admin {email, password}, stripe, paypal. */
export const shop = JSON.parse(readFileSync(statePath, "utf8"));
export const artifacts = process.env.GEARS_ARTIFACTS || join(here, "..", "test-results");
const shots = join(artifacts, "screenshots");
mkdirSync(shots, { recursive: true });

const AXE = readFileSync(join(here, "..", "node_modules", "axe-core", "axe.min.js"), "utf8");
export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

/** Chromium as this machine allows it: headless, no sandbox as root, nothing phoned home. */
export async function launch() {
  const executablePath = process.env.CHROMIUM || ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(existsSync);
  if (!executablePath) throw new Error("no chromium: `make browser` installs Debian's");
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
}

/** A fresh page (its own memory: no session shared with another context) that fails the test on a page error. */
export async function newPage(browser, viewport = DESKTOP) {
  const context = await browser.newContext({ viewport, locale: "en-GB", timezoneId: "Europe/London" });
  context.setDefaultTimeout(30_000);
  const page = await context.newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(String(e)));
  return page;
}

export const url = (path = "/") => shop.api.replace(/\/$/, "") + path;
export const store = (route = "/") => url(`/#${route}`);
export const console_ = (route = "/") => url(`/admin.html#${route}`);

/** axe-core on the page as it is now: throws listing every serious or critical violation. */
export async function axe(page, name) {
  // Evaluated through the browser's devtools protocol: the pages' content security policy (no inline script) stays on.
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(AXE);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
  });
  const bad = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  if (bad.length) throw new Error(`axe on ${name}: ${JSON.stringify(bad, null, 1)}`);
  return result;
}

/** The page checked (axe, no page error) and photographed at a desktop's and a phone's width. */
export async function checkPage(page, name) {
  await page.waitForLoadState("networkidle").catch(() => {});
  await axe(page, name);
  if (page.errors.length) throw new Error(`${name}: page errors ${page.errors.join("; ")}`);
  const size = page.viewportSize();
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: join(shots, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await axe(page, `${name} (phone)`);
  await page.screenshot({ path: join(shots, `${name}-phone.png`), fullPage: true });
  if (size) await page.setViewportSize(size);
}

/** Messages the local mailbox holds for ``to``, oldest first. */
export function mailFor(to) {
  if (!existsSync(shop.mailbox)) return [];
  return readFileSync(shop.mailbox, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((m) => (m.to || []).map((t) => t.toLowerCase()).includes(to.toLowerCase()));
}

/** The newest six-digit code the local mailbox has for ``to`` (waits up to 20 s for it). */
export async function mailedCode(to, { after = 0 } = {}) {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    for (const m of mailFor(to).slice(after).reverse()) {
      const found = /\b(\d{6})\b/.exec(m.body || "");
      if (found) return found[1];
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no code was mailed to ${to}`);
}

/** The API as a test's own setup uses it: ``call("POST", "/products", {token, body})`` → {status, body}. */
export async function call(method, path, { token, body, headers = {} } = {}) {
  const r = await fetch(url(path), {
    method,
    headers: { ...(body ? { "content-type": "application/json" } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  return { status: r.status, body: parsed, headers: r.headers };
}

export async function login(email, password) {
  const r = await call("POST", "/auth/login", { body: { email, password } });
  if (r.status !== 200) throw new Error(`login ${email}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.accessToken;
}

export const adminToken = () => login(shop.admin.email, shop.admin.password);

/** A confirmed customer made through the API: {email, password, token}. */
export async function newCustomer(prefix = "web") {
  const email = `${prefix}-${Math.random().toString(16).slice(2, 12)}@example.com`;
  const password = "Sup3rSecret!x";
  let r = await call("POST", "/auth/signup", { body: { email, password } });
  if (r.status >= 300) throw new Error(`signup: ${r.status} ${JSON.stringify(r.body)}`);
  r = await call("POST", "/auth/confirm", { body: { email, code: await mailedCode(email) } });
  if (r.status >= 300) throw new Error(`confirm: ${r.status} ${JSON.stringify(r.body)}`);
  return { email, password, token: await login(email, password) };
}

/** Poll ``check`` until it returns something truthy (or fail after ``seconds``). */
export async function eventually(check, what, seconds = 120) {
  const deadline = Date.now() + seconds * 1000;
  let last;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${what} did not happen; last: ${JSON.stringify(last)}`);
}

/** Sign in through the page's own form (storefront or console). */
export async function signInThroughPage(page, email, password) {
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** An active product with stock, made through the API as an admin does, once the catalog shows it in stock:
 * {productId, sku, title}. ``searchable``: also wait until the search finds it by ``word`` (the index is async). */
export async function newProduct(token, { sku, title, description, price = 1250, stock = 20, threshold = 2, word = null } = {}) {
  const categories = (await call("GET", "/categories")).body.categories;
  const made = await call("POST", "/products", {
    token,
    body: { sku, title, description, price: { amount: price, currency: "GBP" }, category: categories[0].id, status: "active" },
  });
  if (made.status !== 201) throw new Error(`product: ${made.status} ${JSON.stringify(made.body)}`);
  const product = { productId: made.body.productId, sku, title };
  let r = await call("PUT", `/inventory/${sku}`, { token, body: { threshold, productId: product.productId } });
  if (r.status >= 300) throw new Error(`stock record: ${r.status} ${JSON.stringify(r.body)}`);
  r = await call("POST", `/inventory/${sku}/restock`, { token, body: { quantity: stock, reference: `web-${sku}` } });
  if (r.status >= 300) throw new Error(`restock: ${r.status} ${JSON.stringify(r.body)}`);
  await eventually(async () => {
    const p = await call("GET", `/products/${product.productId}`);
    return ["in_stock", "low"].includes(p.body?.availability?.level);
  }, "the catalog to show the product in stock");
  if (word) {
    await eventually(async () => {
      const s = await call("GET", `/search?q=${encodeURIComponent(word)}`);
      return (s.body?.items ?? []).some((i) => i.productId === product.productId && i.availability !== "out");
    }, "the search to find the product in stock", 300);
  }
  return product;
}
