// Real Stripe's Payment Element, only when the deployed shop has a publishable key (config.json): Stripe.js comes
// from js.stripe.com as Stripe requires (the content security policy allows that host and nothing else), and the
// card the buyer enters becomes a PaymentMethod id (pm_...) that POST /checkout takes, as a test payment method
// does locally. The card's number never touches this page's code or the shop's API.
import { getConfig } from "./config";

type StripeElements = {
  create(kind: "payment", options?: Record<string, unknown>): { mount(el: HTMLElement): void; destroy(): void };
  submit(): Promise<{ error?: { message?: string } }>;
};
type StripeJs = {
  elements(options: Record<string, unknown>): StripeElements;
  createPaymentMethod(options: { elements: StripeElements }): Promise<{
    paymentMethod?: { id: string };
    error?: { message?: string };
  }>;
};

declare global {
  interface Window {
    Stripe?: (key: string) => StripeJs;
  }
}

let loading: Promise<StripeJs> | null = null;

/** Whether checkout takes a real card through Stripe's Payment Element (else the local test payment methods). */
export function realStripe(): boolean {
  const c = getConfig();
  return Boolean(c.stripePublishableKey) && !c.localCloud;
}

function loadStripe(): Promise<StripeJs> {
  const key = getConfig().stripePublishableKey;
  if (!key) return Promise.reject(new Error("No Stripe publishable key is configured."));
  loading ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "https://js.stripe.com/v3/";
    script.onload = () => (window.Stripe ? resolve(window.Stripe(key)) : reject(new Error("Stripe.js did not load.")));
    script.onerror = () => reject(new Error("Stripe.js could not be loaded: check your connection."));
    document.head.appendChild(script);
  });
  return loading;
}

/** Stripe's Payment Element mounted in ``container`` for ``amount`` (minor units) in ``currency``; ``paymentMethod``
 * validates what the buyer entered and answers its PaymentMethod id. */
export async function mountCard(container: HTMLElement, amount: number, currency: string) {
  const stripe = await loadStripe();
  const elements = stripe.elements({ mode: "payment", amount, currency: currency.toLowerCase(), paymentMethodCreation: "manual" });
  const element = elements.create("payment", { layout: "tabs" });
  element.mount(container);
  return {
    async paymentMethod(): Promise<string> {
      const checked = await elements.submit();
      if (checked.error) throw new Error(checked.error.message || "The card details are not complete.");
      const made = await stripe.createPaymentMethod({ elements });
      if (made.error || !made.paymentMethod) throw new Error(made.error?.message || "The card was not accepted.");
      return made.paymentMethod.id;
    },
    destroy: () => element.destroy(),
  };
}
