// Orders: the list by status (support and admin), an order's detail with its payment, and fulfilment for admins:
// ship with a carrier and tracking number, mark delivered, cancel, refund in full or in part.
import { useState } from "preact/hooks";
import { api, newKey, unwrap, type Schemas } from "../../api/client";
import { href, navigate, type Route } from "../../router";
import { Button, Field, Loading, Notice, Page, Price, Problem, Select, Status, TextArea, money, useAction, useAsync, when } from "../../ui/ui";
import {
  CANCEL_REASONS,
  CARRIERS,
  Facts,
  ORDER_STATUSES,
  carrierLabel,
  count,
  fromMinor,
  invalid,
  toMinor,
  useIsAdmin,
  usePaged,
  OpenById,
  type Carrier,
} from "../kit";

type Order = Schemas["OrderAnswer"];
type Payment = Schemas["PaymentAnswer"];

const PAGE = "25";

export function OrdersPage({ route }: { route: Route }) {
  const status = route.query.get("status") ?? "";
  const from = route.query.get("from") ?? "";
  const to = route.query.get("to") ?? "";
  const query = (cursor?: string) => ({
    limit: PAGE,
    ...(status ? { status } : {}),
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    ...(cursor ? { cursor } : {}),
  });
  const list = useAsync(() => unwrap(api().GET("/admin/orders", { params: { query: query() } })), [status, from, to]);
  const paged = usePaged(list.data, (cursor) => unwrap(api().GET("/admin/orders", { params: { query: query(cursor) } })));
  const set = (k: string, v: string) => navigate("/orders", { status, from, to, [k]: v }, true);
  return (
    <Page title="Orders">
      <OpenById name="Find an order by id" label="Order id" path="/orders" button="Open order" />
      <div class="filters">
        <Select
          label="Status"
          value={status}
          onValue={(v) => set("status", v)}
          options={[{ value: "", label: "Every status" }, ...ORDER_STATUSES.map((s) => ({ value: s, label: s.replaceAll("_", " ").toLowerCase() }))]}
        />
        <Field label="Placed from" type="date" value={from} onChange={(e) => set("from", e.currentTarget.value)} />
        <Field label="Placed to" type="date" value={to} onChange={(e) => set("to", e.currentTarget.value)} />
      </div>
      <Problem error={list.error} />
      {list.loading && !list.data ? <Loading what="Loading orders" /> : null}
      {list.data ? (
        paged.items.length ? (
          <>
            <p role="status">{count(paged.items.length, "order")} shown, newest first.</p>
            <div class="table-wrap">
              <table>
                <caption class="visually-hidden">Orders</caption>
                <thead>
                  <tr>
                    <th scope="col">Order</th>
                    <th scope="col">Placed</th>
                    <th scope="col">Status</th>
                    <th scope="col" class="num">
                      Items
                    </th>
                    <th scope="col" class="num">
                      Total
                    </th>
                    <th scope="col">Customer</th>
                  </tr>
                </thead>
                <tbody>
                  {paged.items.map((o) => (
                    <tr key={o.orderId}>
                      <td>
                        <a href={href(`/orders/${encodeURIComponent(o.orderId)}`)} class="mono">
                          {o.orderId}
                        </a>
                      </td>
                      <td>{when(o.placedAt)}</td>
                      <td>
                        <Status value={o.status} />
                      </td>
                      <td class="num">{o.itemCount}</td>
                      <td class="num">
                        <Price value={o.total} />
                      </td>
                      <td>
                        <a href={href(`/customers/${encodeURIComponent(o.userId)}`)} class="mono">
                          {o.userId}
                        </a>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {paged.button}
          </>
        ) : (
          <p>No orders match.</p>
        )
      ) : null}
    </Page>
  );
}

export function OrderPage({ route }: { route: Route }) {
  const orderId = route.parts[1] ?? "";
  const admin = useIsAdmin();
  const order = useAsync(() => unwrap(api().GET("/orders/{orderId}", { params: { path: { orderId } } })), [orderId]);
  const payment = useAsync(
    () => unwrap(api().GET("/orders/{orderId}/payment", { params: { path: { orderId } } })).catch(() => null),
    [orderId],
  );
  const [done, setDone] = useState("");
  const reload = (what: string) => {
    setDone(what);
    order.reload();
    payment.reload();
  };
  const o = order.data;
  return (
    <Page
      title={`Order ${orderId}`}
      actions={
        <Button kind="secondary" type="button" busy={order.loading} onClick={() => reload("")}>
          Refresh
        </Button>
      }
    >
      <p>
        <a href={href("/orders")}>All orders</a>
      </p>
      <Problem error={order.error} />
      {order.loading && !o ? <Loading what="Loading the order" /> : null}
      {done ? <Notice kind="success">{done}</Notice> : null}
      {o ? (
        <>
          <Facts
            items={[
              ["Status", <Status value={o.status} />],
              ["Placed", when(o.placedAt)],
              ["Last change", when(o.updatedAt)],
              [
                "Customer",
                <a href={href(`/customers/${encodeURIComponent(o.userId)}`)} class="mono">
                  {o.userId}
                </a>,
              ],
              ["Total", <Price value={o.total} />],
              ["Cancelled because", o.cancelReason ? CANCEL_REASONS[o.cancelReason] ?? o.cancelReason : ""],
              ["Carrier", carrierLabel(o.shipment.carrier)],
              ["Tracking number", o.shipment.trackingNumber ? <span class="mono">{o.shipment.trackingNumber}</span> : ""],
              ["Shipped", when(o.shipment.shippedAt)],
              ["Delivered", when(o.shipment.deliveredAt)],
            ]}
          />
          {admin ? <Fulfilment order={o} payment={payment.data ?? null} onDone={reload} /> : null}
          <h2>Lines</h2>
          <div class="table-wrap" tabIndex={0} role="region" aria-label="Order lines">
            <table>
              <thead>
                <tr>
                  <th scope="col">Product</th>
                  <th scope="col">SKU</th>
                  <th scope="col" class="num">
                    Quantity
                  </th>
                  <th scope="col" class="num">
                    Unit price
                  </th>
                  <th scope="col" class="num">
                    Line total
                  </th>
                </tr>
              </thead>
              <tbody>
                {o.lines.map((l) => (
                  <tr key={l.productId}>
                    <td>{l.title}</td>
                    <td class="mono">{l.sku}</td>
                    <td class="num">{l.quantity}</td>
                    <td class="num">
                      <Price value={l.unitPrice} />
                    </td>
                    <td class="num">
                      <Price value={l.lineTotal} />
                    </td>
                  </tr>
                ))}
              </tbody>
              <tfoot>
                <tr>
                  <th scope="row" colSpan={4}>
                    Subtotal
                  </th>
                  <td class="num">
                    <Price value={o.subtotal} />
                  </td>
                </tr>
                {o.discount ? (
                  <tr>
                    <th scope="row" colSpan={4}>
                      Discount ({o.discount.code})
                    </th>
                    <td class="num">−{money(o.discount.amount)}</td>
                  </tr>
                ) : null}
                <tr>
                  <th scope="row" colSpan={4}>
                    Shipping
                  </th>
                  <td class="num">
                    <Price value={o.shipping} />
                  </td>
                </tr>
                <tr>
                  <th scope="row" colSpan={4}>
                    Total
                  </th>
                  <td class="num">
                    <Price value={o.total} />
                  </td>
                </tr>
              </tfoot>
            </table>
          </div>
          <div class="columns">
            <div>
              <h2>Shipping address</h2>
              <address>
                {Object.entries(o.shippingAddress)
                  .filter(([, v]) => v)
                  .map(([k, v]) => (
                    <div key={k}>{v}</div>
                  ))}
              </address>
            </div>
            <PaymentFacts order={o} payment={payment.data ?? null} loading={payment.loading} />
          </div>
          <h2>History</h2>
          <ol class="timeline">
            {o.history.map((s) => (
              <li key={s.seq}>
                {when(s.at)}: {s.from ? <Status value={s.from} /> : "placed"} → <Status value={s.to} />
                {s.reason ? ` (${CANCEL_REASONS[s.reason] ?? s.reason})` : ""}{" "}
                <span class="muted">
                  by {s.cause.type === "request" ? `a request of ${s.cause.id}` : s.cause.type}
                </span>
              </li>
            ))}
          </ol>
        </>
      ) : null}
    </Page>
  );
}

function PaymentFacts({ order, payment, loading }: { order: Order; payment: Payment | null; loading: boolean }) {
  const p = order.payment;
  return (
    <div>
      <h2>Payment</h2>
      {loading && !payment ? <Loading what="Loading the payment" /> : null}
      <Facts
        items={[
          ["Provider", payment?.provider === "paypal" ? "PayPal" : payment?.provider === "stripe" ? "Stripe (card)" : ""],
          ["Payment status", payment ? <Status value={payment.status} /> : ""],
          ["Method", p.method],
          ["Charged", <Price value={p.charged} />],
          ["Refunded", <Price value={p.refunded} />],
          ["Still refundable", payment ? <Price value={payment.refundable} /> : ""],
          ["Voided", p.voided ? "yes" : ""],
          ["Failure", p.failure ?? ""],
          ["Payment intent", p.paymentIntentId ? <span class="mono">{p.paymentIntentId}</span> : ""],
          ["Awaiting approval until", when(p.approvalExpiresAt)],
        ]}
      />
      {p.refunds.length ? (
        <>
          <h3>Refunds</h3>
          <ul>
            {p.refunds.map((r) => (
              <li key={r.refundId}>
                {money({ amount: r.amount, currency: p.charged.currency })} on {when(r.at)}
                {payment?.refunds.find((x) => x.refundId === r.refundId)?.reason
                  ? `: ${payment.refunds.find((x) => x.refundId === r.refundId)!.reason}`
                  : ""}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </div>
  );
}

/** What an admin may do with the order now. */
function Fulfilment({ order, payment, onDone }: { order: Order; payment: Payment | null; onDone: (what: string) => void }) {
  const s = order.status;
  const canShip = s === "PAID";
  const canDeliver = s === "SHIPPED";
  const canCancel = !["SHIPPED", "DELIVERED", "CANCELLED", "REFUNDED"].includes(s);
  const refundable = payment ? payment.refundable.amount > 0 : order.payment.charged.amount - order.payment.refunded.amount > 0;
  if (!canShip && !canDeliver && !canCancel && !refundable) return null;
  return (
    <section aria-labelledby="fulfil-h">
      <h2 id="fulfil-h">Fulfilment</h2>
      <div class="actions-grid">
        {canShip ? <ShipForm order={order} onDone={onDone} /> : null}
        {canDeliver ? <DeliverForm order={order} onDone={onDone} /> : null}
        {refundable ? <RefundForm order={order} payment={payment} onDone={onDone} /> : null}
        {canCancel ? <CancelForm order={order} onDone={onDone} /> : null}
      </div>
    </section>
  );
}

function ShipForm({ order, onDone }: { order: Order; onDone: (what: string) => void }) {
  const [carrier, setCarrier] = useState<Carrier>("royal_mail");
  const [tracking, setTracking] = useState("");
  const format = CARRIERS.find((c) => c.value === carrier)?.format ?? "";
  const ship = useAction(async () => {
    const trackingNumber = tracking.replace(/\s+/g, "").toUpperCase();
    await unwrap(
      api().POST("/admin/orders/{orderId}/ship", {
        params: { path: { orderId: order.orderId } },
        body: { carrier, trackingNumber },
      }),
    );
    setTracking("");
    onDone(`Shipped with ${carrierLabel(carrier)}, tracking number ${trackingNumber}.`);
  });
  return (
    <form
      class="panel"
      aria-labelledby="ship-h"
      onSubmit={(e) => {
        e.preventDefault();
        void ship.run();
      }}
    >
      <h3 id="ship-h">Ship</h3>
      <Problem error={ship.error} />
      <Select label="Carrier" value={carrier} onValue={(v) => setCarrier(v as Carrier)} options={CARRIERS.map(({ value, label }) => ({ value, label }))} />
      <Field label="Tracking number" hint={`${carrierLabel(carrier)}: ${format}`} required minLength={4} maxLength={40} value={tracking} onValue={setTracking} autocomplete="off" />
      <Button type="submit" busy={ship.busy}>
        Ship order
      </Button>
    </form>
  );
}

function DeliverForm({ order, onDone }: { order: Order; onDone: (what: string) => void }) {
  const deliver = useAction(async () => {
    await unwrap(api().POST("/admin/orders/{orderId}/deliver", { params: { path: { orderId: order.orderId } } }));
    onDone("Marked as delivered.");
  });
  return (
    <div class="panel">
      <h3>Delivery</h3>
      <p>
        Shipped with {carrierLabel(order.shipment.carrier)} ({order.shipment.trackingNumber}) on {when(order.shipment.shippedAt)}.
      </p>
      <Problem error={deliver.error} />
      <Button type="button" busy={deliver.busy} onClick={() => void deliver.run()}>
        Mark delivered
      </Button>
    </div>
  );
}

function CancelForm({ order, onDone }: { order: Order; onDone: (what: string) => void }) {
  const [sure, setSure] = useState(false);
  const cancel = useAction(async () => {
    await unwrap(api().POST("/orders/{orderId}/cancel", { params: { path: { orderId: order.orderId } } }));
    setSure(false);
    onDone("Order cancelled. A paid order's payment is refunded or voided by the payment service.");
  });
  return (
    <div class="panel">
      <h3>Cancel</h3>
      <p>Cancelling releases the stock and gives back (or voids) any payment.</p>
      <Problem error={cancel.error} />
      {sure ? (
        <div class="row">
          <Button kind="danger" type="button" busy={cancel.busy} onClick={() => void cancel.run()}>
            Yes, cancel order
          </Button>
          <Button kind="secondary" type="button" onClick={() => setSure(false)}>
            Keep it
          </Button>
        </div>
      ) : (
        <Button kind="danger" type="button" onClick={() => setSure(true)}>
          Cancel order…
        </Button>
      )}
    </div>
  );
}

function RefundForm({ order, payment, onDone }: { order: Order; payment: Payment | null; onDone: (what: string) => void }) {
  const currency = payment?.refundable.currency ?? order.payment.charged.currency;
  const left = payment?.refundable ?? { amount: order.payment.charged.amount - order.payment.refunded.amount, currency };
  const [full, setFull] = useState("full");
  const [amount, setAmount] = useState("");
  const [reason, setReason] = useState("");
  const [key, setKey] = useState(newKey);
  const refund = useAction(async () => {
    let minor: number | null = null;
    if (full === "part") {
      minor = toMinor(amount, currency);
      if (!minor) throw invalid(`Give the amount to refund in ${currency}, like ${fromMinor({ amount: 1050, currency })}.`);
      if (minor > left.amount) throw invalid(`At most ${money(left)} is left to refund.`);
    }
    const r = await unwrap(
      api().POST("/admin/orders/{orderId}/refund", {
        params: { path: { orderId: order.orderId }, header: { "Idempotency-Key": key } },
        body: { amount: minor, reason: reason.trim() || null },
      }),
    );
    setKey(newKey());
    setAmount("");
    setReason("");
    onDone(`Refunded ${money(r.amount)}${r.full ? " (everything left)" : ""}; ${money(r.refundedTotal)} refunded in all.`);
  });
  return (
    <form
      class="panel"
      aria-labelledby="refund-h"
      onSubmit={(e) => {
        e.preventDefault();
        void refund.run();
      }}
    >
      <h3 id="refund-h">Refund</h3>
      <p>{money(left)} can still be refunded.</p>
      <Problem error={refund.error} />
      <Select
        label="How much"
        value={full}
        onValue={setFull}
        options={[
          { value: "full", label: `Everything left (${money(left)})` },
          { value: "part", label: "Part of it" },
        ]}
      />
      {full === "part" ? (
        <Field label={`Amount (${currency})`} inputMode="decimal" required value={amount} onValue={setAmount} hint={`At most ${fromMinor(left)}`} />
      ) : null}
      <TextArea label="Reason (optional)" maxLength={500} value={reason} onValue={setReason} />
      <Button type="submit" busy={refund.busy}>
        Refund
      </Button>
    </form>
  );
}
