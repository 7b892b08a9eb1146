/**
 * Cancelling an invoice (the lifecycle's cancel transition, lifecycle.ts), shared by the HTTP
 * route and T-VAN 300.
 *
 * Decisions where the spec is silent:
 * - Cancelling a replaced or cancelled invoice is refused with RELATED_INVOICE_STATE (409), the
 *   contract's code for "already replaced or cancelled".
 * - A seller's own key may cancel only while the seller is active (SELLER_SUSPENDED otherwise,
 *   as for submissions); an officer may cancel whatever the seller's status.
 */
import { type Outcome, refusal, refused } from "../errors.js";
import { fromInWords } from "./lifecycle.js";
import type { InvoiceSummary } from "./model.js";
import type { InvoicesPort, RegistryPort } from "./ports.js";

/** Who cancels: an officer, or the owning seller's API key. */
export type Actor = { role: "officer"; id: string } | { role: "seller"; id: string; sellerTaxCode: string };

export type CancelResult = Outcome<{ invoice: InvoiceSummary }>;

/** What a cancellation reads and writes: the store itself, or the transaction of a T-VAN message. */
export type CancelStore = Pick<InvoicesPort, "getInvoice" | "cancelInvoice">;

/**
 * Cancels an issued or adjusted invoice for `actor`, with a reason; the status change and its
 * event are one transaction. `sellers` answers the seller's status (checked for seller keys).
 */
export async function cancelInvoice(
  store: CancelStore,
  sellers: Pick<RegistryPort, "getSeller">,
  actor: Actor,
  code: string,
  reason: string,
  at: Date,
): Promise<CancelResult> {
  const inv = await store.getInvoice(code);
  if (!inv) return refused(refusal("NOT_FOUND", `No invoice ${code}.`));
  if (actor.role === "seller") {
    if (actor.sellerTaxCode !== inv.sellerTaxCode) return refused(refusal("FORBIDDEN", "This invoice belongs to another seller."));
    const seller = await sellers.getSeller(inv.sellerTaxCode);
    if (seller?.status !== "active") {
      return refused(refusal("SELLER_SUSPENDED", `Seller ${inv.sellerTaxCode} is ${seller?.status ?? "not registered"}.`));
    }
  }
  const outcome = await store.cancelInvoice({ code, at, by: actor.id, reason });
  switch (outcome.kind) {
    case "done":
      return { ok: true, invoice: outcome.invoice };
    case "not_found":
      return refused(refusal("NOT_FOUND", `No invoice ${code}.`));
    case "state": {
      const message = `Invoice ${code} is ${outcome.invoice.status}; only an ${fromInWords("cancel")} invoice can be cancelled.`;
      return refused(refusal("RELATED_INVOICE_STATE", message, [{ code: "RELATED_INVOICE_STATE", message, path: code }]));
    }
  }
}
