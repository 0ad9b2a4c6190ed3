import { useEffect, useState } from "preact/hooks";
import { api, unwrap, type Schemas } from "../../api/client";
import { href } from "../../router";
import { Button, Field, Notice, Page, Price, Problem, useAction, useAsync } from "../../ui/ui";
import { SignedIn } from "../common";
import { DataTable, NotYet } from "../components";

type CartData = Schemas["CartAnswer"];
type Line = Schemas["CartLineAnswer"];

const REASONS: Record<string, string> = {
  deleted: "This product is no longer sold.",
  archived: "This product is no longer sold.",
  "not-for-sale": "This product is not for sale at the moment.",
  "currency-mismatch": "This product is priced in another currency.",
  "insufficient-stock": "There is not enough in stock.",
};

/** The cart: lines with their quantities (changed or removed here), the totals, and on to checkout. */
export function Cart() {
  return <SignedIn title="Your cart" path="/cart">{() => <CartView />}</SignedIn>;
}

function CartView() {
  const loaded = useAsync(() => unwrap(api().GET("/cart")), []);
  const [cart, setCart] = useState<CartData | undefined>(undefined);
  useEffect(() => setCart(loaded.data), [loaded.data]);
  const [said, setSaid] = useState("");
  const change = useAction(async (line: Line, quantity: number) => {
    const next = await unwrap(
      api().PUT("/cart/items/{productId}", { params: { path: { productId: line.productId } }, body: { quantity } }),
    );
    setCart(next);
    setSaid(`${line.title}: quantity ${quantity}.`);
  });
  const remove = useAction(async (line: Line) => {
    const next = await unwrap(api().DELETE("/cart/items/{productId}", { params: { path: { productId: line.productId } } }));
    setCart(next);
    setSaid(`${line.title} removed from the cart.`);
  });

  if (!cart) return <NotYet title="Your cart" state={loaded} />;
  return (
    <Page title="Your cart">
      <p class="visually-hidden" role="status" aria-live="polite">
        {said}
      </p>
      <Problem error={change.error || remove.error} />
      {cart.lines.length === 0 ? (
        <p>
          Your cart is empty. <a href={href("/search")}>Find something</a>.
        </p>
      ) : (
        <>
          <DataTable
            caption="Products in your cart"
            class="cart-table"
            columns={["Product", "Quantity", "Total"]}
            items={cart.lines}
            row={(line) => (
              <CartRow
                key={line.productId}
                line={line}
                busy={change.busy || remove.busy}
                onQuantity={(q) => void change.run(line, q)}
                onRemove={() => void remove.run(line)}
              />
            )}
          />
          <Totals rows={[["Subtotal", cart.subtotal], ["Shipping", cart.shipping]]} total={cart.total} />
          {cart.checkoutReady ? (
            <p>
              <a class="btn primary" href={href("/checkout")}>
                Go to checkout
              </a>
            </p>
          ) : (
            <Notice kind="warning">Some lines cannot be bought as they are: change or remove them to check out.</Notice>
          )}
        </>
      )}
    </Page>
  );
}

function CartRow({ line, busy, onQuantity, onRemove }: { line: Line; busy: boolean; onQuantity: (q: number) => void; onRemove: () => void }) {
  const [q, setQ] = useState(String(line.quantity));
  useEffect(() => setQ(String(line.quantity)), [line.quantity]);
  const wanted = Math.floor(Number(q));
  const valid = wanted >= 1 && wanted <= 99;
  return (
    <tr>
      <td>
        <a href={href(`/products/${encodeURIComponent(line.productId)}`)}>{line.title}</a>
        {!line.available ? (
          <div class="avail avail-out">
            {line.message || (line.reason ? REASONS[line.reason] : "Not available.")}
            {line.availableQuantity != null ? ` (${line.availableQuantity} available)` : ""}
          </div>
        ) : null}
        <div class="muted">
          <Price value={line.unitPrice} /> each
        </div>
        <Button kind="secondary" type="button" class="btn secondary small" busy={busy} onClick={onRemove} aria-label={`Remove ${line.title}`}>
          Remove
        </Button>
      </td>
      <td>
        <form
          class="inline"
          onSubmit={(e) => {
            e.preventDefault();
            if (valid && wanted !== line.quantity) onQuantity(wanted);
          }}
        >
          <Field label={`Quantity of ${line.title}`} type="number" min={1} max={99} class="qty" value={q} onValue={setQ} />
          <Button kind="secondary" type="submit" busy={busy} disabled={!valid || wanted === line.quantity}>
            Update
          </Button>
        </form>
      </td>
      <td>
        <Price value={line.lineTotal} />
      </td>
    </tr>
  );
}

type Money = Schemas["Money"];

/** Subtotal, shipping, discount… and the total, as a small table. */
export function Totals({ rows, total }: { rows: [string, Money | null | undefined, boolean?][]; total: Money }) {
  return (
    <table class="totals">
      <caption class="visually-hidden">Totals</caption>
      <tbody>
        {rows.map(([label, value, minus]) => (
          <tr key={label}>
            <th scope="row">{label}</th>
            <td>
              {minus ? "−" : ""}
              <Price value={value} />
            </td>
          </tr>
        ))}
        <tr class="total">
          <th scope="row">Total</th>
          <td>
            <Price value={total} />
          </td>
        </tr>
      </tbody>
    </table>
  );
}
