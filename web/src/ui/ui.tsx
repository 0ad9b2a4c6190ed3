// The pieces every page is made of: a titled page, labelled fields, buttons that say when they are busy, money,
// dates, and an API's refusal told as a person would understand it.
import type { ComponentChildren, JSX } from "preact";
import { useCallback, useEffect, useId, useRef, useState } from "preact/hooks";
import { ApiError } from "../api/client";
import { session } from "../session";

export type Money = { amount: number; currency: string };

/** 1999 GBP → "£19.99" (minor units, in the visitor's locale). */
export function money(m: Money | null | undefined): string {
  if (!m) return "";
  const digits = new Intl.NumberFormat(undefined, { style: "currency", currency: m.currency }).resolvedOptions()
    .maximumFractionDigits ?? 2;
  return new Intl.NumberFormat(undefined, { style: "currency", currency: m.currency }).format(m.amount / 10 ** digits);
}

export function Price({ value }: { value: Money | null | undefined }) {
  return <span class="price">{money(value)}</span>;
}

export function when(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** A page: its <h1> and the document's title. Focus moves to the heading when the page changes, so a screen reader
 * says where the visitor is, as after a page load. */
export function Page({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Gears`;
    heading.current?.focus({ preventScroll: true });
  }, [title]);
  return (
    <section class="page" aria-labelledby="page-title">
      <div class="page-head">
        <h1 id="page-title" tabIndex={-1} ref={heading}>
          {title}
        </h1>
        {actions ? <div class="page-actions">{actions}</div> : null}
      </div>
      {children}
    </section>
  );
}

type Async<T> = { data: T | undefined; error: unknown; loading: boolean; reload: () => void };

/** Load something for a page (again when ``deps`` change); a stale answer never replaces a newer one. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: null,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error) => live && setState({ data: undefined, error, loading: false }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  return { ...state, reload: useCallback(() => setTick((t) => t + 1), []) };
}

/** Run an action from a form or a button: busy while it runs, its refusal kept to show. */
export function useAction<A extends unknown[], T>(act: (...args: A) => Promise<T>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (...args: A): Promise<T | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await act(...args);
    } catch (e) {
      setError(e);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { run, busy, error, clear: () => setError(null) };
}

export function useSession() {
  const [, setTick] = useState(0);
  useEffect(() => session.subscribe(() => setTick((t) => t + 1)), []);
  return session;
}

/** Why something failed, in words: the problem's title and detail, or a plain sentence for anything else. */
export function Problem({ error }: { error: unknown }) {
  if (!error) return null;
  let title = "Something went wrong";
  let detail = "Please try again.";
  if (error instanceof ApiError) {
    title = error.problem.title;
    detail = error.problem.detail ?? "";
  } else if (error instanceof Error) {
    detail = error.message;
  }
  return (
    <div class="alert error" role="alert">
      <strong>{title}</strong>
      {detail && detail !== title ? <span> {detail}</span> : null}
    </div>
  );
}

export function Notice({ children, kind = "info" }: { children: ComponentChildren; kind?: "info" | "success" | "warning" }) {
  return (
    <div class={`alert ${kind}`} role="status">
      {children}
    </div>
  );
}

export function Loading({ what = "Loading" }: { what?: string }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      {what}…
    </p>
  );
}

type FieldProps = Omit<JSX.InputHTMLAttributes<HTMLInputElement>, "label" | "value"> & {
  label: string;
  hint?: string;
  value?: string | number;
  onValue?: (value: string) => void;
};

/** An input with its label (and a hint read with it). */
export function Field({ label, hint, onValue, ...input }: FieldProps) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        id={id}
        aria-describedby={hint ? `${id}-hint` : undefined}
        onInput={onValue ? (e) => onValue((e.currentTarget as HTMLInputElement).value) : undefined}
        {...input}
      />
      {hint ? (
        <small id={`${id}-hint`} class="hint">
          {hint}
        </small>
      ) : null}
    </div>
  );
}

export function Select({
  label,
  value,
  onValue,
  options,
  ...rest
}: {
  label: string;
  value: string;
  onValue: (v: string) => void;
  options: { value: string; label: string }[];
} & Omit<JSX.SelectHTMLAttributes<HTMLSelectElement>, "label" | "value">) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onValue((e.currentTarget as HTMLSelectElement).value)} {...rest}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}

export function TextArea({ label, value, onValue, ...rest }: { label: string; value: string; onValue: (v: string) => void } & Omit<JSX.TextareaHTMLAttributes<HTMLTextAreaElement>, "label" | "value">) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <textarea id={id} value={value} onInput={(e) => onValue((e.currentTarget as HTMLTextAreaElement).value)} {...rest} />
    </div>
  );
}

export function Button({
  busy,
  children,
  kind = "primary",
  ...rest
}: { busy?: boolean; kind?: "primary" | "secondary" | "danger" } & JSX.ButtonHTMLAttributes<HTMLButtonElement>) {
  return (
    <button class={`btn ${kind}`} disabled={busy || Boolean(rest.disabled)} aria-busy={busy ? "true" : undefined} {...rest}>
      {children}
    </button>
  );
}

/** An order's (or a payment's) status as a badge whose words a screen reader reads too. */
export function Status({ value }: { value: string }) {
  return <span class={`status status-${value.toLowerCase()}`}>{value.replaceAll("_", " ").toLowerCase()}</span>;
}
