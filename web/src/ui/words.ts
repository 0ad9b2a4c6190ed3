// The API's codes in words, for both pages.
import type { Schemas } from "../api/client";

export type Carrier = Schemas["ShipmentIn"]["carrier"];
/** Our carriers and the shape of their tracking numbers (as the orders service checks them). */
export const CARRIERS: { value: Carrier; label: string; format: string }[] = [
  { value: "royal_mail", label: "Royal Mail", format: "two letters, nine digits, GB (AB123456789GB)" },
  { value: "dpd", label: "DPD", format: "14 digits" },
  { value: "dhl", label: "DHL", format: "10 digits" },
  { value: "ups", label: "UPS", format: "1Z then 16 letters or digits" },
  { value: "fedex", label: "FedEx", format: "12 or 15 digits" },
  { value: "evri", label: "Evri", format: "16 letters or digits" },
];
export const carrierLabel = (c: string | null | undefined) => CARRIERS.find((x) => x.value === c)?.label ?? c ?? "";
