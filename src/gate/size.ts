/** Stage "size" (invoice-format.md §4): the body is at most the configured size (2 MiB). */
import type { ParseLimits } from "../xml/scan.js";
import { refuse } from "./stages.js";

export function sizeStage(body: Uint8Array | string, limits: ParseLimits): void {
  const size = typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
  if (size > limits.maxBytes) refuse("size", [{ code: "PAYLOAD_TOO_LARGE", message: `The document is over ${limits.maxBytes} bytes.` }]);
}
