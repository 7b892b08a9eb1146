/** Stage "frame": where DLHDon and the signatures stand in HDon; nothing of the authority's yet. */
import { readInvoiceDocument, refuseAuthorityParts, type InvoiceDocument } from "../xml/invoice-document.js";
import type { ParsedXml } from "../xml/parse.js";
import { refuse } from "./stages.js";

export function frameStage(parsed: ParsedXml): InvoiceDocument {
  const frame = readInvoiceDocument(parsed);
  if (!frame.ok) return refuse("frame", frame.faults);
  const authorityParts = refuseAuthorityParts(frame.value);
  if (authorityParts.length) return refuse("frame", authorityParts);
  return frame.value;
}
