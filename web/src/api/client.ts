// The one way the pages talk to the shop: the public HTTP API, typed from docs/openapi.json (`npm run gen` writes
// schema.d.ts from it before every type check and build, so a page that calls a route or reads a field the API
// does not have fails the build). Errors come back as RFC 9457 problems and are thrown as ApiError.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";
import { session } from "../session";

export type Schemas = components["schemas"];
export type Problem = { type?: string; title: string; status: number; detail?: string };

/** A refused or failed call: what the API said (its problem document), or what went wrong on the way. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail || problem.title);
    this.status = problem.status;
    this.problem = problem;
  }
  /** The problem's code: the last segment of its type (`.../problems/out-of-stock` → `out-of-stock`). */
  get code(): string {
    return (this.problem.type ?? "").split("/").pop() ?? "";
  }
}

let baseUrl = "";
export function setApiBase(url: string): void {
  baseUrl = url.replace(/\/+$/, "");
  client = makeClient();
}
export function apiBase(): string {
  return baseUrl || window.location.origin;
}

const auth: Middleware = {
  async onRequest({ request, schemaPath }) {
    if (schemaPath.startsWith("/auth/") && !schemaPath.startsWith("/auth/logout")) return request;
    if (request.headers.has("authorization")) return request; // a token given for this call (sign-in's /me)
    const token = await session.accessToken();
    if (token) request.headers.set("authorization", `Bearer ${token}`);
    return request;
  },
};

function makeClient() {
  const c = createClient<paths>({ baseUrl: apiBase() });
  c.use(auth);
  return c;
}

let client = makeClient();
export function api() {
  return client;
}

type Answer<T> = { data?: T; error?: unknown; response: Response };

/** The answer's body, or an ApiError saying why there is none. */
export async function unwrap<T>(call: Promise<Answer<T>>): Promise<T> {
  let answer: Answer<T>;
  try {
    answer = await call;
  } catch {
    throw new ApiError({ title: "The shop cannot be reached", status: 0, detail: "Check your connection and try again." });
  }
  const { data, error, response } = answer;
  if (response.ok) return data as T;
  if (response.status === 401) session.expired();
  throw new ApiError(asProblem(error, response));
}

function asProblem(error: unknown, response: Response): Problem {
  if (error && typeof error === "object" && "title" in error) {
    const e = error as Partial<Problem> & { message?: string };
    return { type: e.type, title: String(e.title), status: Number(e.status ?? response.status), detail: e.detail };
  }
  if (error && typeof error === "object" && "message" in error) {
    // API Gateway's own answers ({"message": "Unauthorized"}) before any function ran
    return { title: String((error as { message: unknown }).message), status: response.status, detail: plain(response.status) };
  }
  return { title: response.statusText || "Error", status: response.status, detail: plain(response.status) };
}

function plain(status: number): string {
  if (status === 401) return "Please sign in again.";
  if (status === 403) return "Your account may not do this.";
  if (status === 404) return "It is not here (any more).";
  if (status === 429) return "Too many requests: wait a moment and try again.";
  if (status >= 500) return "Something went wrong at the shop. Try again in a moment.";
  return "The request was refused.";
}

/** A fresh idempotency key: crypto.randomUUID where the page is a secure context (https, localhost), else the same
 * shape of UUID (v4) from crypto.getRandomValues, which every context has. */
export function newKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
