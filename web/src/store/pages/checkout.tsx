import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, api, apiBase, newKey, unwrap } from "../../api/client";
import { getConfig } from "../../config";
import { mountCard, realStripe } from "../../stripe";
import { href, navigate } from "../../router";
import { Field, Notice, Page, Price, Problem, Select, useAction, useAsync, useSession } from "../../ui/ui";
import { SignedIn } from "../common";
import { ActionForm, NotYet } from "../components";
import { Totals } from "./cart";

const COUNTRIES = [
  ["GB", "United Kingdom"],
  ["IE", "Ireland"],
  ["FR", "France"],
  ["DE", "Germany"],
  ["NL", "Netherlands"],
  ["BE", "Belgium"],
  ["ES", "Spain"],
  ["IT", "Italy"],
  ["SE", "Sweden"],
  ["US", "United States"],
].map(([value, label]) => ({ value: value!, label: label! }));

const TEST_CARDS = [
  { value: "pm_card_visa", label: "Visa (test card that pays)" },
  { value: "pm_card_mastercard", label: "Mastercard (test card that pays)" },
  { value: "pm_card_chargeDeclined", label: "Declined card (test card that fails)" },
];

/** A link the API gave, made absolute against the API's address. */
export function absolute(url: string): string {
  try {
    return new URL(url, apiBase() + "/").toString();
  } catch {
    return url;
  }
}

/** Checkout: where to send it, an optional discount code, how to pay; then the order's page (or PayPal's). */
export function Checkout() {
  return <SignedIn title="Checkout" path="/checkout">{() => <CheckoutView />}</SignedIn>;
}

function CheckoutView() {
  const me = useSession().me;
  const cart = useAsync(() => unwrap(api().GET("/cart")), []);
  const local = getConfig().localCloud;
  const [address, setAddress] = useState({ name: me?.name ?? "", line1: "", line2: "", city: "", postalCode: "", country: "GB" });
  const [discountCode, setDiscountCode] = useState("");
  const [method, setMethod] = useState<"card" | "paypal">("card");
  const [card, setCard] = useState(local ? "pm_card_visa" : "");
  const [key, setKey] = useState<string | null>(null);
  const [paypal, setPaypal] = useState<{ orderId: string; url: string } | null>(null);
  // real Stripe (a deployed shop with a publishable key): its Payment Element takes the card
  const stripe = realStripe();
  const cardBox = useRef<HTMLDivElement>(null);
  const stripeCard = useRef<Awaited<ReturnType<typeof mountCard>> | null>(null);
  const [stripeError, setStripeError] = useState<unknown>(null);
  const total = cart.data?.total;
  useEffect(() => {
    if (!stripe || method !== "card" || !total || !cardBox.current) return;
    let live = true;
    setStripeError(null);
    mountCard(cardBox.current, total.amount, total.currency).then(
      (handle) => (live ? (stripeCard.current = handle) : handle.destroy()),
      (e) => live && setStripeError(e),
    );
    return () => {
      live = false;
      stripeCard.current?.destroy();
      stripeCard.current = null;
    };
  }, [stripe, method, total?.amount, total?.currency, Boolean(cart.data?.lines.length)]);
  const set = (k: keyof typeof address) => (v: string) => setAddress((a) => ({ ...a, [k]: v }));

  const place = useAction(async () => {
    // one key per attempt: a retry after a lost answer reuses it (the shop then answers with the same order)
    let paymentMethod = "paypal";
    if (method === "card") {
      if (stripe) {
        if (!stripeCard.current) throw new Error("The card form is not ready yet: wait a moment and try again.");
        paymentMethod = await stripeCard.current.paymentMethod();
      } else paymentMethod = card.trim();
    }
    const idempotencyKey = key ?? newKey();
    setKey(idempotencyKey);
    try {
      const receipt = await unwrap(
        api().POST("/checkout", {
          params: { header: { "Idempotency-Key": idempotencyKey } },
          body: {
            shippingAddress: {
              name: address.name.trim(),
              line1: address.line1.trim(),
              line2: address.line2.trim() || null,
              city: address.city.trim(),
              postalCode: address.postalCode.trim(),
              country: address.country,
            },
            paymentMethod,
            discountCode: discountCode.trim() || null,
          },
        }),
      );
      setKey(null);
      if (receipt.payment.method === "paypal" && receipt.payment.approvalUrl) {
        const url = absolute(receipt.payment.approvalUrl);
        setPaypal({ orderId: receipt.orderId, url });
        window.location.assign(url);
      } else {
        navigate(`/orders/${encodeURIComponent(receipt.orderId)}`, { placed: "1" });
      }
    } catch (e) {
      // refused (not lost): the next attempt, with whatever was changed, is a new one
      if (e instanceof ApiError && e.status >= 400 && e.status < 500 && e.status !== 409) setKey(null);
      throw e;
    }
  });

  if (paypal)
    return (
      <Page title="Pay with PayPal">
        <Notice kind="info">
          Your order is placed. Taking you to PayPal to approve the payment…
        </Notice>
        <p>
          <a class="btn primary" href={paypal.url}>
            Pay with PayPal
          </a>
        </p>
        <p>
          If nothing happens, use the button above. <a href={href(`/orders/${encodeURIComponent(paypal.orderId)}`)}>See the order</a>.
        </p>
      </Page>
    );

  const c = cart.data;
  if (!c) return <NotYet title="Checkout" state={cart} />;
  if (c.lines.length === 0)
    return (
      <Page title="Checkout">
        <p>
          Your cart is empty. <a href={href("/search")}>Find something</a>.
        </p>
      </Page>
    );
  return (
    <Page title="Checkout">
      <div class="layout-side">
        <section aria-labelledby="summary-title" class="panel">
          <h2 id="summary-title">Your order</h2>
          <ul>
            {c.lines.map((l) => (
              <li key={l.productId}>
                {l.quantity} × {l.title} <Price value={l.lineTotal} />
              </li>
            ))}
          </ul>
          <Totals rows={[["Subtotal", c.subtotal], ["Shipping", c.shipping]]} total={c.total} />
          <p class="muted">A discount code is taken off when the order is placed.</p>
          <p>
            <a href={href("/cart")}>Change the cart</a>
          </p>
        </section>
        <ActionForm
          onSubmit={() => void place.run()}
          error={place.error}
          busy={place.busy}
          disabled={!c.checkoutReady}
          submit={method === "paypal" ? "Place order and pay with PayPal" : "Place order and pay"}
        >
          {!c.checkoutReady ? (
            <Notice kind="warning">
              Some lines in your cart cannot be bought as they are. <a href={href("/cart")}>Fix the cart</a> first.
            </Notice>
          ) : null}
          <fieldset class="plain">
            <legend>Shipping address</legend>
            <Field label="Full name" autocomplete="name" required maxLength={200} value={address.name} onValue={set("name")} />
            <Field label="Address line 1" autocomplete="address-line1" required maxLength={200} value={address.line1} onValue={set("line1")} />
            <Field label="Address line 2 (optional)" autocomplete="address-line2" maxLength={200} value={address.line2} onValue={set("line2")} />
            <Field label="Town or city" autocomplete="address-level2" required maxLength={100} value={address.city} onValue={set("city")} />
            <Field label="Postcode" autocomplete="postal-code" required maxLength={20} value={address.postalCode} onValue={set("postalCode")} />
            <Select label="Country" autocomplete="country" value={address.country} onValue={set("country")} options={COUNTRIES} />
          </fieldset>
          <Field label="Discount code (optional)" maxLength={64} value={discountCode} onValue={setDiscountCode} autocomplete="off" />
          <fieldset class="plain">
            <legend>Payment</legend>
            <label class="radio">
              <input type="radio" name="method" value="card" checked={method === "card"} onChange={() => setMethod("card")} />
              Card
            </label>
            <label class="radio">
              <input type="radio" name="method" value="paypal" checked={method === "paypal"} onChange={() => setMethod("paypal")} />
              PayPal
            </label>
            {method === "card" ? (
              stripe ? (
                <div class="field">
                  <Problem error={stripeError} />
                  <div ref={cardBox} class="stripe-card" />
                </div>
              ) : local ? (
                <Select label="Test card" value={card} onValue={setCard} options={TEST_CARDS} />
              ) : (
                <Field
                  label="Card payment method"
                  hint="A Stripe payment method id, such as pm_card_visa."
                  required
                  pattern="pm_[A-Za-z0-9_]{1,100}"
                  value={card}
                  onValue={setCard}
                  autocomplete="off"
                />
              )
            ) : (
              <p class="muted">You will approve the payment on PayPal's page, then come back here.</p>
            )}
          </fieldset>
        </ActionForm>
      </div>
    </Page>
  );
}
