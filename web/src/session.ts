// Who is signed in. The tokens live in this module's memory only: never in localStorage, sessionStorage or a
// cookie the page can read, so a script injected into the page later finds nothing stored. A reload signs out.
// The access token is refreshed (POST /auth/refresh) a minute before it expires, and before any call made after.
import type { components } from "./api/schema";

type Tokens = components["schemas"]["TokensAnswer"];
export type Me = components["schemas"]["MeAnswer"];

type State = { access: string; refresh: string | null; expiresAt: number; me: Me | null };

const REFRESH_EARLY_MS = 60_000;

class Session {
  private state: State | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private refreshing: Promise<void> | null = null;
  private listeners = new Set<() => void>();
  private refresher: ((refreshToken: string) => Promise<Tokens>) | null = null;

  /** How to refresh (given by the app, which owns the API client: this module imports none). */
  useRefresher(fn: (refreshToken: string) => Promise<Tokens>): void {
    this.refresher = fn;
  }

  get signedIn(): boolean {
    return this.state !== null;
  }
  get me(): Me | null {
    return this.state?.me ?? null;
  }
  hasRole(...roles: string[]): boolean {
    const mine = this.state?.me?.roles ?? [];
    return roles.some((r) => mine.includes(r));
  }

  /** A new session (``me``: the profile read with these tokens), or the current one's tokens refreshed. */
  start(tokens: Tokens, me?: Me): void {
    this.state = {
      access: tokens.accessToken,
      refresh: tokens.refreshToken ?? this.state?.refresh ?? null,
      expiresAt: Date.now() + tokens.expiresIn * 1000,
      me: me ?? this.state?.me ?? null,
    };
    this.schedule();
    this.emit();
  }

  setMe(me: Me): void {
    if (this.state) {
      this.state.me = me;
      this.emit();
    }
  }

  end(): void {
    clearTimeout(this.timer);
    this.state = null;
    this.emit();
  }

  /** The API said 401 to a signed-in caller: the session is over (revoked, or the refresh failed). */
  expired(): void {
    if (this.state && Date.now() >= this.state.expiresAt) this.end();
  }

  async accessToken(): Promise<string | null> {
    if (!this.state) return null;
    if (Date.now() > this.state.expiresAt - REFRESH_EARLY_MS / 2) await this.refresh();
    return this.state?.access ?? null;
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(): void {
    for (const fn of this.listeners) fn();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    if (!this.state?.refresh) return;
    const due = Math.max(5_000, this.state.expiresAt - Date.now() - REFRESH_EARLY_MS);
    this.timer = setTimeout(() => void this.refresh(), due);
  }

  private refresh(): Promise<void> {
    const current = this.state;
    if (!current?.refresh || !this.refresher) return Promise.resolve();
    if (!this.refreshing) {
      const token = current.refresh;
      this.refreshing = this.refresher(token)
        .then((tokens) => this.start({ ...tokens, refreshToken: tokens.refreshToken ?? token }))
        .catch(() => this.end())
        .finally(() => {
          this.refreshing = null;
        });
    }
    return this.refreshing;
  }
}

export const session = new Session();
