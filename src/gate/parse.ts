/**
 * Stage "parse": the one-pass scan of the body (xml/scan.ts) with every hardening rule; the
 * tree it records is the only reading of the document that later stages use.
 */
import { type ParsedXml, parseXml } from "../xml/parse.js";
import type { ParseLimits } from "../xml/scan.js";
import { refuse } from "./stages.js";

export function parseStage(body: Uint8Array | string, limits: ParseLimits, rootName = "HDon"): ParsedXml {
  const parsed = parseXml(body, rootName, limits);
  if (!parsed.ok) return refuse(parsed.faults[0]!.code === "PAYLOAD_TOO_LARGE" ? "size" : "parse", parsed.faults);
  return parsed.value;
}
