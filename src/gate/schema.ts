/** Stage "schema": the verified DLHDon — the element whose canonical octets were digested — read into a typed Invoice. */
import { type Invoice, readInvoice } from "../domain/invoice.js";
import type { XElement } from "../xml/scan.js";
import { MAX_FAULTS, refuse } from "./stages.js";

export function schemaStage(dlhdon: XElement, opts: { uncoded?: boolean } = {}): Invoice {
  // The walk stops past MAX_FAULTS faults: a document of 200,000 faulty elements costs no more than one of 101.
  const invoice = readInvoice(dlhdon, { ...opts, maxFaults: MAX_FAULTS });
  if (!invoice.ok) return refuse("schema", invoice.faults, "stopped" in invoice);
  return invoice.value;
}
