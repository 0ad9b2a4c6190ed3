// The storefront in a browser: a newcomer signs up, confirms with the mailed code, finds a product by a misspelt
// word, filters, buys it by card and sees it paid; another customer pays with PayPal (the local PayPal page) and sees
// it paid; a declined card says why the order was cancelled. Every storefront page is checked (axe, no page error)
// and photographed at a desktop's and a phone's width.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  adminToken,
  call,
  checkPage,
  eventually,
  launch,
  mailedCode,
  newCustomer,
  newPage,
  newProduct,
  signInThroughPage,
  store,
} from "./harness.mjs";

const PAID = "Paid. We are getting it ready to ship.";
let browser;
let product; // {productId, sku, title, word}

/** A made-up word of ``n`` letters (the search has never seen it). */
function word(n = 9) {
  const consonants = "bcdfgklmnprstvz";
  const vowels = "aeiou";
  let w = "";
  for (let i = 0; i < n; i++) w += (i % 2 ? vowels : consonants)[Math.floor(Math.random() * (i % 2 ? 5 : 15))];
  return w;
}

/** The word with one letter changed (a typo the search forgives: one edit on a word of five letters or more). */
function typo(w) {
  const i = 3;
  const other = w[i] === "a" ? "e" : "a";
  return w.slice(0, i) + other + w.slice(i + 1);
}

before(async () => {
  browser = await launch();
  const admin = await adminToken();
  const w = word();
  const made = await newProduct(admin, {
    sku: `WEB-${w.toUpperCase()}`,
    title: `${w[0].toUpperCase()}${w.slice(1)} bevel gear`,
    description: "A bevel gear made for the storefront's browser test.",
    stock: 50,
    threshold: 1,
    word: w, // searchable: minutes on a busy shop (its events, then the index)
  });
  product = { ...made, word: w };
});

after(async () => {
  await browser?.close();
});

/** The page checked once nothing on it is loading any more (each load shows a "Loading…" status while it runs). */
async function check(page, name) {
  await page.waitForFunction(() => !document.querySelector(".loading"), null, { timeout: 60_000 });
  await checkPage(page, name);
}

/** Another page of the open storefront without a page load (a load would forget the session, held in memory). */
async function go(page, route) {
  await page.evaluate((r) => {
    window.location.hash = r;
  }, route);
}

async function fillAddress(page) {
  await page.getByLabel("Full name").fill("Ada Lovelace");
  await page.getByLabel("Address line 1").fill("12 Analytical Row");
  await page.getByLabel("Town or city").fill("London");
  await page.getByLabel("Postcode").fill("N1 9GU");
}

/** From the product's page to a cart holding one of it. */
async function addOne(page) {
  await go(page, `/products/${product.productId}`);
  await page.getByRole("heading", { level: 1, name: product.title }).waitFor();
  await page.getByLabel("Quantity", { exact: true }).fill("1");
  await page.getByRole("button", { name: "Add to cart" }).click();
  await page.getByText("Added: your cart has").waitFor();
}

/** A new customer (made through the API) signed in on a fresh page, one of the product in the cart, at checkout
 * with the address filled in. */
async function atCheckout(prefix) {
  const customer = await newCustomer(prefix);
  const page = await newPage(browser);
  await page.goto(store("/signin"));
  await signInThroughPage(page, customer.email, customer.password);
  await page.getByRole("heading", { level: 1, name: "Welcome to Gears" }).waitFor();
  await addOne(page);
  await go(page, "/checkout");
  await page.getByRole("heading", { level: 1, name: "Checkout" }).waitFor();
  await fillAddress(page);
  return { customer, page };
}

test("a newcomer signs up, finds a product with a typo, filters, and pays by card", async () => {
  const page = await newPage(browser);
  const email = `web-new-${Math.random().toString(16).slice(2, 10)}@example.com`;
  const password = "Sup3rSecret!x";

  await page.goto(store("/"));
  await page.getByRole("heading", { level: 1, name: "Welcome to Gears" }).waitFor();
  await check(page, "home");

  // sign up → the mailed code → sign in
  await page.getByRole("navigation", { name: "Shop" }).getByRole("link", { name: "Sign in" }).click();
  await page.getByRole("link", { name: "Create an account" }).click();
  await page.getByRole("heading", { level: 1, name: "Create an account" }).waitFor();
  await check(page, "signup");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Your name (optional)").fill("Newcomer");
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("heading", { level: 1, name: "Confirm your email" }).waitFor();
  await check(page, "confirm");
  await page.getByLabel("Code").fill(await mailedCode(email));
  await page.getByRole("button", { name: "Confirm" }).click();
  await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
  await page.getByText("Your email is confirmed").waitFor();
  await check(page, "signin");
  await signInThroughPage(page, email, password);
  await page.getByRole("heading", { level: 1, name: "Welcome to Gears" }).waitFor();
  await page.getByRole("heading", { level: 2, name: /Popular|Trending|Picked|Recommended/ }).waitFor();
  await check(page, "home-signed-in");

  // search as you type, with a letter wrong
  await page.getByRole("navigation", { name: "Shop" }).getByRole("link", { name: "Search", exact: true }).click();
  await page.getByRole("heading", { level: 1, name: "Search" }).waitFor();
  await page.getByLabel("Search the shop").pressSequentially(typo(product.word), { delay: 40 });
  await page.waitForURL(new RegExp(`q=${typo(product.word)}`));
  const result = page.getByRole("list", { name: "Results" }).getByRole("link", { name: product.title });
  await result.waitFor();
  await page.getByRole("status").filter({ hasText: `for “${typo(product.word)}”` }).waitFor();
  await check(page, "search");

  // filters: in stock only, then a price order (on a narrow screen they start folded)
  if (!(await page.getByLabel("Sort by").isVisible())) await page.getByText("Filters and sorting").click();
  await page.getByLabel(/In stock only/).check();
  await page.waitForURL(/inStock=true/);
  await result.waitFor();
  await page.getByLabel("Sort by").selectOption("price-asc");
  await page.waitForURL(/sort=price-asc/);
  await result.waitFor();
  await check(page, "search-filtered");

  // the product, into the cart
  await result.click();
  await page.getByRole("heading", { level: 1, name: product.title }).waitFor();
  await check(page, "product");
  await page.getByLabel("Quantity", { exact: true }).fill("2");
  await page.getByRole("button", { name: "Add to cart" }).click();
  await page.getByText("Added: your cart has 2 of these").waitFor();
  await page.getByRole("link", { name: "Go to the cart" }).click();
  await page.getByRole("heading", { level: 1, name: "Your cart" }).waitFor();
  await page.getByLabel(`Quantity of ${product.title}`).fill("1");
  await page.getByRole("button", { name: "Update" }).click();
  await page.getByText(`${product.title}: quantity 1.`).waitFor();
  await check(page, "cart");

  // checkout by card
  await page.getByRole("link", { name: "Go to checkout" }).click();
  await page.getByRole("heading", { level: 1, name: "Checkout" }).waitFor();
  await fillAddress(page);
  await page.getByLabel("Card", { exact: true }).check();
  const card = page.getByLabel("Test card");
  if (await card.count()) await card.selectOption("pm_card_visa");
  else await page.getByLabel("Card payment method").fill("pm_card_visa");
  await check(page, "checkout");
  await page.getByRole("button", { name: "Place order and pay" }).click();
  await page.waitForURL(/#\/orders\/[^/?]+/);
  await page.getByText(PAID).first().waitFor({ timeout: 120_000 });
  await page.getByRole("heading", { level: 1, name: /^Order / }).waitFor();
  await check(page, "order-paid");

  // the other pages a customer has
  await page.getByRole("link", { name: "All your orders" }).click();
  await page.getByRole("heading", { level: 1, name: "Your orders" }).waitFor();
  await check(page, "orders");

  await page.getByRole("navigation", { name: "Shop" }).getByRole("link", { name: "Support" }).click();
  await page.getByRole("heading", { level: 1, name: "Support" }).waitFor();
  await check(page, "support");
  await page.getByLabel("Subject").fill("Where is my bevel gear?");
  await page.getByLabel("Message").fill("Just checking when it ships.");
  await page.getByRole("button", { name: "Send", exact: true }).click();
  await page.getByRole("heading", { level: 1, name: "Where is my bevel gear?" }).waitFor();
  await page.getByLabel("Your reply").fill("Also: gift wrap, please.");
  await page.getByRole("button", { name: "Send reply" }).click();
  await page.getByText("Also: gift wrap, please.").first().waitFor();
  await check(page, "ticket");

  await page.getByRole("navigation", { name: "Shop" }).getByRole("link", { name: "Account" }).click();
  await page.getByRole("heading", { level: 1, name: "Your account" }).waitFor();
  await page.getByRole("button", { name: "Save preferences" }).waitFor();
  await page.getByLabel("Name", { exact: true }).fill("Newcomer Renamed");
  await page.getByRole("button", { name: "Save profile" }).click();
  await page.getByText("Saved.").waitFor();
  await page.getByRole("button", { name: "Save preferences" }).click();
  await page.getByText("Your preferences are saved.").waitFor();
  await check(page, "account");

  const categories = (await call("GET", "/categories")).body.categories;
  await go(page, `/categories/${categories[0].id}`);
  await page.getByRole("heading", { level: 1, name: categories[0].name }).waitFor();
  await check(page, "category");

  await go(page, "/password");
  await page.getByRole("heading", { level: 1, name: "Reset your password" }).waitFor();
  await check(page, "password");
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Send the code" }).click();
  await page.getByLabel("New password").waitFor();
  await check(page, "password-code");
});

test("a customer pays with PayPal and sees the order paid", async () => {
  const { customer, page } = await atCheckout("web-paypal");
  await page.getByLabel("PayPal", { exact: true }).check();
  await page.getByRole("button", { name: "Place order and pay with PayPal" }).click();

  // the shop's approval link (a refresh page while the PayPal order is made), then the local PayPal's page
  await page.getByRole("heading", { level: 1, name: "PayPal (local)" }).waitFor({ timeout: 60_000 });
  await page.getByRole("button", { name: "Pay with PayPal" }).click();

  // back at the shop (a new page load: the session was in memory, so sign in again) on the order's page
  await page.waitForURL(/#\/orders\/[^/?]+/, { timeout: 60_000 });
  await page.getByRole("main").getByRole("link", { name: "sign in", exact: true }).click();
  await signInThroughPage(page, customer.email, customer.password);
  await page.getByRole("heading", { level: 1, name: /^Order / }).waitFor();
  await page.getByText(PAID).first().waitFor({ timeout: 120_000 });
  await check(page, "order-paypal-paid");
});

test("a declined card cancels the order, and the order says why", async () => {
  const { page } = await atCheckout("web-declined");
  const card = page.getByLabel("Test card");
  if (!(await card.count())) return; // real Stripe: no test card to choose here
  await card.selectOption("pm_card_chargeDeclined");
  await page.getByRole("button", { name: "Place order and pay" }).click();
  await page.waitForURL(/#\/orders\/[^/?]+/);
  await page.getByText("This order was cancelled because the payment failed").waitFor({ timeout: 120_000 });
  await check(page, "order-cancelled");
});
