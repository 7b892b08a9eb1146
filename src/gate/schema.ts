/** Stage "schema": the verified DLHDon — the element whose canonical octets were digested — read into a typed Invoice. */
import { type Invoice, readInvoice } from "../domain/invoice.js";
import type { XElement } from "../xml/scan.js";
import { refuse } from "./stages.js";

export function schemaStage(dlhdon: XElement, opts: { uncoded?: boolean } = {}): Invoice {
  const invoice = readInvoice(dlhdon, opts);
  if (!invoice.ok) return refuse("schema", invoice.faults);
  return invoice.value;
}
