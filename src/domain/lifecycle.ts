/**
 * The invoice lifecycle after issue (invoice-format.md §3.5, api.md "Statuses", docs/lifecycle.md):
 * one table of statuses and transitions, from which every other answer is derived — which
 * statuses count in reports, which may still be replaced, adjusted or cancelled, the events a
 * transition writes, and the SQL fragments storage builds from them (storage/lifecycle-sql.ts).
 * Migrations keep their literal SQL; test/unit/lifecycle.test.ts proves they agree with this table.
 *
 *   issued ──replace──▶ replaced        issued ──adjust──▶ adjusted
 *   adjusted ─replace─▶ replaced        adjusted ─adjust─▶ adjusted
 *   issued | adjusted ──cancel──▶ cancelled
 *
 * Decisions where the spec is silent:
 * - An adjusted invoice may be adjusted again, replaced or cancelled: adjusting does not end an
 *   invoice, it adds to it. Replaced and cancelled invoices accept nothing more (final).
 * - An invoice counts in reports exactly while it is not final: a replaced invoice's replacement
 *   counts instead, a cancelled one counts nowhere, an adjusting invoice adds its own amounts.
 *
 * Replacement and adjustment happen when the new invoice is stored (submit.ts, storage);
 * cancellation is cancel.ts, shared by the HTTP route and T-VAN 300.
 */

/** Every status of an invoice, in the contract's order (api.md; the OpenAPI enums list them so). */
export const INVOICE_STATUSES = ["issued", "replaced", "adjusted", "cancelled"] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

/** What may happen to an invoice once it is stored. */
export type Transition = "replace" | "adjust" | "cancel";

interface TransitionRow {
  /** The statuses it may start from. */
  readonly from: readonly InvoiceStatus[];
  readonly to: InvoiceStatus;
  /** The event written on the invoice that changes (its history, its transparency-log entry). */
  readonly event: string;
  /** The event written on the invoice that causes it (a replacing or adjusting invoice), if any. */
  readonly causeEvent: string | null;
}

/** The lifecycle: a stored invoice starts `issued` (event `issued`), then moves by these transitions only. */
export const LIFECYCLE = {
  initial: { status: "issued", event: "issued" },
  transitions: {
    replace: { from: ["issued", "adjusted"], to: "replaced", event: "replaced", causeEvent: "replaces" },
    adjust: { from: ["issued", "adjusted"], to: "adjusted", event: "adjusted", causeEvent: "adjusts" },
    cancel: { from: ["issued", "adjusted"], to: "cancelled", event: "cancelled", causeEvent: null },
  },
} as const satisfies { initial: { status: InvoiceStatus; event: string }; transitions: Record<Transition, TransitionRow> };

type Transitions = typeof LIFECYCLE.transitions;

/** The status of an invoice when it is stored. */
export const INITIAL_STATUS: InvoiceStatus = LIFECYCLE.initial.status;

/** Every event of an invoice's history: its issue, each transition's own event and its cause's. */
export type InvoiceEventKind =
  | typeof LIFECYCLE.initial.event
  | Transitions[Transition]["event"]
  | NonNullable<Transitions[Transition]["causeEvent"]>;

/** The event kinds in the contract's order (issued, then each transition's event and cause event). */
export const INVOICE_EVENT_KINDS: readonly [InvoiceEventKind, ...InvoiceEventKind[]] = [
  LIFECYCLE.initial.event,
  ...Object.values(LIFECYCLE.transitions).flatMap((t): InvoiceEventKind[] => (t.causeEvent === null ? [t.event] : [t.event, t.causeEvent])),
];

/** How a new invoice relates to the invoice it names in TTHDLQuan (its cause event). */
export type RelationKind = NonNullable<Transitions[Transition]["causeEvent"]>;

/** The transition of each transition name, as a typed row. */
export const transition = <T extends Transition>(t: T): Transitions[T] => LIFECYCLE.transitions[t];

const TRANSITION_NAMES = Object.keys(LIFECYCLE.transitions) as Transition[];

/** The transition a replacing or adjusting invoice causes on the invoice it names. */
export function transitionOfRelation(kind: RelationKind): Transition {
  const t = TRANSITION_NAMES.find((n) => LIFECYCLE.transitions[n].causeEvent === kind);
  if (!t) throw new Error(`lifecycle: no transition is caused by ${kind}`);
  return t;
}

/** Whether an invoice in `status` may undergo `t` (replaced, adjusted, cancelled). */
export const may = (t: Transition, status: InvoiceStatus): boolean => (LIFECYCLE.transitions[t].from as readonly InvoiceStatus[]).includes(status);

/** Final statuses: no transition leaves them (replaced, cancelled). */
export const FINAL_STATUSES: readonly InvoiceStatus[] = INVOICE_STATUSES.filter((s) => !TRANSITION_NAMES.some((t) => may(t, s)));

/** Whether an invoice in `status` counts in reports (the rollups, GET /v1/reports/totals): while it is not final. */
export const countsInReports = (status: InvoiceStatus): boolean => !FINAL_STATUSES.includes(status);

/** The statuses that count in reports (issued, adjusted), in the contract's order. */
export const COUNTED_STATUSES: readonly InvoiceStatus[] = INVOICE_STATUSES.filter(countsInReports);

/** The statuses in the order pages list them: those in force first, then the final ones. */
export const STATUSES_FOR_DISPLAY: readonly InvoiceStatus[] = [...COUNTED_STATUSES, ...FINAL_STATUSES];

/** The statuses a transition may start from, in words ("issued or adjusted"), for refusal messages. */
export const fromInWords = (t: Transition): string => {
  const from = INVOICE_STATUSES.filter((s) => may(t, s));
  return from.length <= 1 ? from.join("") : `${from.slice(0, -1).join(", ")} or ${from.at(-1)}`;
};
