/** Stage "rules": the business rules of invoice-format.md §3.2–3.3; the refusal names the first rule's code with its faults. */
import { gmt7Date } from "../domain/gmt7.js";
import type { Invoice } from "../domain/invoice.js";
import { checkRules, type TimeWindow } from "../domain/rules.js";
import { refuse } from "./stages.js";

/**
 * `signingTime` is the covered SigningTime (null when none): NLap and SigningTime are bounded
 * against the receipt by the window (api.md; rules.ts checkTimeWindow).
 */
export function rulesStage(invoice: Invoice, receivedAt: Date, signingTime: Date | null, window: TimeWindow): void {
  const faults = checkRules(invoice, { today: gmt7Date(receivedAt), receipt: { at: receivedAt, signingTime, window } });
  if (!faults.length) return;
  const code = faults[0]!.code;
  refuse("rules", faults.filter((f) => f.code === code));
}
