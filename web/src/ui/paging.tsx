// A list read a page at a time, with its "more" button: the storefront's orders, results and messages, and every
// console list.
import { useState } from "preact/hooks";
import { Button, Problem } from "./ui";

export type Page<T> = { items: T[]; nextCursor?: string | null };

/** A list read a page at a time: the first page (``first``, reloaded by its owner), then ``more()`` appends the
 * next while there is a cursor. */
export function usePages<T>(first: Page<T> | undefined, fetchPage: (cursor: string) => Promise<Page<T>>) {
  const [more, setMore] = useState<{ from: Page<T> | undefined; items: T[]; cursor: string | null | undefined }>({
    from: undefined,
    items: [],
    cursor: undefined,
  });
  // a new first page (a new query) starts again
  const current = more.from === first ? more : { from: first, items: [] as T[], cursor: undefined };
  const next = current.cursor === undefined ? first?.nextCursor ?? null : current.cursor;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const loadMore = async () => {
    if (!next) return;
    setBusy(true);
    setError(null);
    try {
      const page = await fetchPage(next);
      setMore({ from: first, items: [...current.items, ...page.items], cursor: page.nextCursor ?? null });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return { items: [...(first?.items ?? []), ...current.items], next, busy, error, loadMore };
}

/** The "more" button of ``usePages`` (and why the next page did not come). */
export function MoreButton({ pages, label }: { pages: { next: string | null; busy: boolean; error: unknown; loadMore: () => Promise<void> }; label: string }) {
  return (
    <>
      <Problem error={pages.error} />
      {pages.next ? (
        <p>
          <Button kind="secondary" type="button" busy={pages.busy} onClick={() => void pages.loadMore()}>
            {label}
          </Button>
        </p>
      ) : null}
    </>
  );
}
