// What the deployed pages need to know, from /config.json beside them: where the API is (the local gateway serves
// the pages itself, so there it is the page's own origin) and Stripe's publishable key when real Stripe is used.
import { setApiBase } from "./api/client";

export type Config = { apiUrl: string; stripePublishableKey: string | null; localCloud: boolean };

let config: Config = { apiUrl: "", stripePublishableKey: null, localCloud: true };

export async function loadConfig(): Promise<Config> {
  try {
    const r = await fetch("./config.json", { cache: "no-store" });
    if (r.ok) config = { ...config, ...((await r.json()) as Partial<Config>) };
  } catch {
    // no config: the API is this page's origin (the local gateway)
  }
  setApiBase(config.apiUrl || window.location.origin);
  return config;
}

export function getConfig(): Config {
  return config;
}
