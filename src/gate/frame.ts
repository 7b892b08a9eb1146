/** Stage "frame": where DLHDon and the signatures stand in HDon; nothing of the authority's yet. */
import { type InvoiceDocument, readInvoiceDocument, refuseAuthorityParts } from "../xml/invoice-document.js";
import type { ParsedXml } from "../xml/parse.js";
import { childElements } from "../xml/parse.js";
import { refuse } from "./stages.js";

export function frameStage(parsed: ParsedXml): InvoiceDocument {
  const frame = readInvoiceDocument(parsed);
  if (!frame.ok) return refuse("frame", frame.faults);
  const authorityParts = refuseAuthorityParts(frame.value);
  if (authorityParts.length) return refuse("frame", authorityParts);
  return frame.value;
}

/** Stage "frame" of a cash-register invoice (T-VAN 206, tvan.md §8.2): its own MCCQT required; no CQT signature. */
export function cashRegisterFrameStage(parsed: ParsedXml): InvoiceDocument {
  const frame = readInvoiceDocument(parsed);
  if (!frame.ok) return refuse("frame", frame.faults);
  const doc = frame.value;
  const faults = refuseAuthorityParts(doc).filter((f) => f.path !== "MCCQT");
  if (!doc.mccqt) faults.push({ code: "SCHEMA_INVALID", message: "A cash-register invoice carries its code (MCCQT) made by the seller's software.", path: "MCCQT" });
  else if (childElements(doc.mccqt).length) faults.push({ code: "SCHEMA_INVALID", message: "MCCQT holds text only.", path: "MCCQT" });
  if (faults.length) return refuse("frame", faults);
  return doc;
}
