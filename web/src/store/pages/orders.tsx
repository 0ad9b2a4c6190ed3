import { useEffect, useState } from "preact/hooks";
import { ApiError, api, unwrap, type Schemas } from "../../api/client";
import { href, type Route } from "../../router";
import { Button, Notice, Page, Price, Problem, Status, useAction, useAsync, when } from "../../ui/ui";
import { carrierLabel } from "../../ui/words";
import { CANCEL_WORDS, SignedIn } from "../common";
import { DataTable, Facts, LoadState, NotYet } from "../components";
import { MoreButton, usePages } from "../../ui/paging";
import { Totals } from "./cart";
import { absolute } from "./checkout";

type Order = Schemas["OrderAnswer"];
type Summary = Schemas["OrderSummary"];

const UNSETTLED = ["PENDING", "CONFIRMED", "AWAITING_PAYMENT"];
const CANCELLABLE = ["PENDING", "CONFIRMED", "AWAITING_PAYMENT", "PAID"];
const FINAL = ["DELIVERED", "CANCELLED", "REFUNDED"];

const STATUS_WORDS: Record<string, string> = {
  PENDING: "We have your order and are checking the stock.",
  CONFIRMED: "The stock is reserved; the payment is being taken.",
  AWAITING_PAYMENT: "Waiting for you to approve the payment with PayPal.",
  PAID: "Paid. We are getting it ready to ship.",
  SHIPPED: "On its way.",
  DELIVERED: "Delivered.",
  CANCELLED: "Cancelled.",
  REFUNDED: "Refunded.",
};

const words = (s: string) => s.replaceAll("_", " ").toLowerCase();

/** My orders, newest first, a page at a time. */
export function Orders() {
  return <SignedIn title="Your orders" path="/orders">{() => <OrderList />}</SignedIn>;
}

function OrderList() {
  const first = useAsync(() => unwrap(api().GET("/orders", { params: { query: { limit: "20" } } })), []);
  const pages = usePages<Summary>(first.data, (cursor) => unwrap(api().GET("/orders", { params: { query: { limit: "20", cursor } } })));
  return (
    <Page title="Your orders">
      <LoadState state={first} />
      {first.data && pages.items.length === 0 ? (
        <p>
          No orders yet. <a href={href("/search")}>Find something</a>.
        </p>
      ) : null}
      {pages.items.length ? (
        <DataTable
          caption="Orders"
          columns={["Order", "Placed", "Items", "Total", "Status"]}
          items={pages.items}
          row={(o) => (
            <tr key={o.orderId}>
              <td>
                <a class="id" href={href(`/orders/${encodeURIComponent(o.orderId)}`)}>{o.orderId}</a>
              </td>
              <td>{when(o.placedAt)}</td>
              <td>{o.itemCount}</td>
              <td>
                <Price value={o.total} />
              </td>
              <td>
                <Status value={o.status} />
              </td>
            </tr>
          )}
        />
      ) : null}
      <MoreButton pages={pages} label="More orders" />
    </Page>
  );
}

/** One order: its status (read again every 3 s until it settles), history, lines, totals, payment and shipment. */
export function OrderPage({ route }: { route: Route }) {
  const id = route.parts[1] ?? "";
  return <SignedIn title="Your order" path={`/orders/${id}`}>{() => <OrderView id={id} placed={route.query.get("placed") === "1"} />}</SignedIn>;
}

function OrderView({ id, placed }: { id: string; placed: boolean }) {
  const loaded = useAsync(() => unwrap(api().GET("/orders/{orderId}", { params: { path: { orderId: id } } })), [id]);
  const [order, setOrder] = useState<Order | undefined>(undefined);
  useEffect(() => setOrder(undefined), [id]);
  useEffect(() => {
    if (loaded.data) setOrder(loaded.data);
  }, [loaded.data]);
  const status = order?.status;
  // a just-placed order is written a moment after checkout answers: until then it is 404, so ask again (a minute)
  const [misses, setMisses] = useState(0);
  const placing = !order && loaded.error instanceof ApiError && loaded.error.status === 404 && misses < 40;
  useEffect(() => {
    if (loaded.loading) return;
    if (placing) {
      const t = setTimeout(() => {
        setMisses((n) => n + 1);
        loaded.reload();
      }, 1500);
      return () => clearTimeout(t);
    }
    if (!status || FINAL.includes(status)) return;
    // unsettled: every 3 s; paid or shipped: now and then, so a shipment shows without a reload
    const t = setTimeout(loaded.reload, UNSETTLED.includes(status) ? 3000 : 15000);
    return () => clearTimeout(t);
  }, [loaded.loading, status, loaded.reload, placing]);
  const [asking, setAsking] = useState(false);
  const cancel = useAction(async () => {
    const o = await unwrap(api().POST("/orders/{orderId}/cancel", { params: { path: { orderId: id } } }));
    setOrder(o);
    setAsking(false);
  });

  if (!order)
    return (
      <NotYet
        title="Your order"
        state={placing ? { loading: true, error: null } : loaded}
        back={<a href={href("/orders")}>All your orders</a>}
      />
    );
  const o = order;
  const address = o.shippingAddress;
  const shipped = o.status === "SHIPPED" || o.status === "DELIVERED" || Boolean(o.shipment.trackingNumber);
  const rows: [string, Schemas["Money"], boolean?][] = [["Subtotal", o.subtotal]];
  if (o.discount) rows.push([`Discount (${o.discount.code})`, o.discount.amount, true]);
  rows.push(["Shipping", o.shipping]);
  return (
    <Page title={`Order ${o.orderId}`}>
      {placed ? <Notice kind="success">Thank you: your order is placed.</Notice> : null}
      <p role="status" aria-live="polite" aria-atomic="true">
        Status: <Status value={o.status} /> {STATUS_WORDS[o.status] ?? ""}
        {UNSETTLED.includes(o.status) ? <span class="muted"> (this page updates by itself)</span> : null}
      </p>
      {o.status === "CANCELLED" ? (
        <Notice kind="warning">
          This order was cancelled{o.cancelReason ? ` because ${CANCEL_WORDS[o.cancelReason] ?? words(o.cancelReason)}` : ""}
          {o.payment.failure ? ` (${o.payment.failure})` : ""}.
          {o.payment.refunded.amount > 0 ? (
            <>
              {" "}
              <Price value={o.payment.refunded} /> was refunded.
            </>
          ) : null}
        </Notice>
      ) : null}
      {o.status === "AWAITING_PAYMENT" && o.payment.approvalUrl ? (
        <Notice kind="info">
          <p>
            <a class="btn primary" href={absolute(o.payment.approvalUrl)}>
              Pay with PayPal
            </a>
          </p>
          {o.payment.approvalExpiresAt ? <p>Approve the payment by {when(o.payment.approvalExpiresAt)}, or the order is cancelled.</p> : null}
        </Notice>
      ) : null}
      {shipped ? (
        <section aria-labelledby="ship-title" class="panel">
          <h2 id="ship-title">Delivery</h2>
          <Facts
            rows={[
              ["Carrier", carrierLabel(o.shipment.carrier)],
              ["Tracking number", o.shipment.trackingNumber],
              ["Shipped", when(o.shipment.shippedAt)],
              ["Delivered", when(o.shipment.deliveredAt)],
            ]}
          />
        </section>
      ) : null}
      <h2>What you ordered</h2>
      <DataTable
        caption="Lines of the order"
        columns={["Product", "Quantity", "Price", "Total"]}
        items={o.lines}
        row={(l) => (
          <tr key={l.productId}>
            <td>
              <a href={href(`/products/${encodeURIComponent(l.productId)}`)}>{l.title}</a>
            </td>
            <td>{l.quantity}</td>
            <td>
              <Price value={l.unitPrice} />
            </td>
            <td>
              <Price value={l.lineTotal} />
            </td>
          </tr>
        )}
      />
      <Totals rows={rows} total={o.total} />
      <h2>Payment</h2>
      <Facts
        rows={[
          ["Method", o.payment.method === "paypal" ? "PayPal" : o.payment.method ? "Card" : "None yet"],
          ["Charged", <Price value={o.payment.charged} />],
          ["Refunded", o.payment.refunded.amount > 0 ? <Price value={o.payment.refunded} /> : null],
          ["Problem", o.status !== "CANCELLED" ? o.payment.failure : null],
        ]}
      />
      <h2>Shipping address</h2>
      <address>
        {["name", "line1", "line2", "city", "postalCode", "country"]
          .map((k) => address[k])
          .filter(Boolean)
          .map((line, i) => (
            <span key={i}>
              {line}
              <br />
            </span>
          ))}
      </address>
      <h2>History</h2>
      <ol class="steps">
        {o.history.map((s) => (
          <li key={s.seq}>
            {when(s.at)}: <Status value={s.to} />
            {s.reason ? ` (${CANCEL_WORDS[s.reason] ?? words(s.reason)})` : ""}
          </li>
        ))}
      </ol>
      {CANCELLABLE.includes(o.status) ? (
        <section aria-labelledby="cancel-title">
          <h2 id="cancel-title">Cancel the order</h2>
          <Problem error={cancel.error} />
          {asking ? (
            <div class="page-actions">
              <p>Cancel this order? {o.status === "PAID" ? "The payment is refunded." : ""}</p>
              <Button kind="danger" type="button" busy={cancel.busy} onClick={() => void cancel.run()}>
                Yes, cancel the order
              </Button>
              <Button kind="secondary" type="button" onClick={() => setAsking(false)}>
                Keep it
              </Button>
            </div>
          ) : (
            <Button kind="secondary" type="button" onClick={() => setAsking(true)}>
              Cancel order
            </Button>
          )}
        </section>
      ) : null}
      <p>
        <a href={href("/orders")}>All your orders</a> · <a href={href("/support", { order: o.orderId })}>Ask about this order</a>
      </p>
    </Page>
  );
}
