// The shapes the storefront's pages repeat: a form that runs an action (its refusal shown first), a table of rows,
// a list read a page at a time with a "more" button, "loading or why not", a list of facts, the common fields.
import type { ComponentChildren } from "preact";
import { href } from "../router";
import { Button, Field, Loading, Page, Problem } from "../ui/ui";
import { TableWrap } from "./common";

/** A form whose submit runs ``onSubmit`` (never a page load); what refused it is said above its fields. */
export function ActionForm({
  onSubmit,
  error,
  busy,
  submit,
  children,
  class: cls = "stack",
  disabled,
}: {
  onSubmit: () => void;
  error: unknown;
  busy: boolean;
  submit: string;
  children: ComponentChildren;
  class?: string;
  disabled?: boolean;
}) {
  return (
    <form
      class={cls}
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit();
      }}
    >
      <Problem error={error} />
      {children}
      <Button type="submit" busy={busy} disabled={disabled}>
        {submit}
      </Button>
    </form>
  );
}

/** Loading, or why the load failed (nothing once it is loaded). */
export function LoadState({ state }: { state: { loading: boolean; error: unknown } }) {
  return state.loading ? <Loading /> : <Problem error={state.error} />;
}

/** A page whose content is not there (yet): loading, or why not, and a way on. */
export function NotYet({ title, state, back }: { title: string; state: { loading: boolean; error: unknown }; back?: ComponentChildren }) {
  return (
    <Page title={title}>
      <LoadState state={state} />
      {back ? <p>{back}</p> : null}
    </Page>
  );
}

/** A table with a caption (read, not shown), its column heads, and one row per item. */
export function DataTable<T>({
  caption,
  columns,
  items,
  row,
  class: cls,
}: {
  caption: string;
  columns: string[];
  items: T[];
  row: (item: T) => ComponentChildren;
  class?: string;
}) {
  return (
    <TableWrap label={`${caption} (table)`}>
      <table class={cls}>
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th scope="col" key={c}>
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{items.map(row)}</tbody>
      </table>
    </TableWrap>
  );
}

/** Label → value pairs as a description list; a pair whose value is empty is left out. */
export function Facts({ rows }: { rows: [string, ComponentChildren][] }) {
  return (
    <dl class="facts">
      {rows
        .filter(([, v]) => v !== null && v !== undefined && v !== "" && v !== false)
        .map(([k, v]) => [<dt key={`t-${k}`}>{k}</dt>, <dd key={`d-${k}`}>{v}</dd>])}
    </dl>
  );
}

type Setter = { value: string; onValue: (v: string) => void };

export const EmailField = (p: Setter & { autocomplete?: string }) => (
  <Field label="Email" type="email" autocomplete={p.autocomplete ?? "email"} required value={p.value} onValue={p.onValue} />
);

export const CodeField = (p: Setter & { label?: string }) => (
  <Field label={p.label ?? "Code"} inputMode="numeric" autocomplete="one-time-code" required maxLength={32} value={p.value} onValue={p.onValue} />
);

export const NewPasswordField = (p: Setter & { label: string }) => (
  <Field
    label={p.label}
    type="password"
    autocomplete="new-password"
    required
    minLength={8}
    hint="At least 8 characters, with upper and lower case letters, a digit and a symbol."
    value={p.value}
    onValue={p.onValue}
  />
);

/** Links to categories, in a row that wraps. */
export function CategoryLinks({ nodes }: { nodes: { id: string; name: string }[] }) {
  return (
    <ul class="cats">
      {nodes.map((c) => (
        <li key={c.id}>
          <a href={href(`/categories/${encodeURIComponent(c.id)}`)}>{c.name}</a>
        </li>
      ))}
    </ul>
  );
}
